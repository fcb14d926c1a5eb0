// Cold start, end to end over HTTP: an amoCRM account already full of history (a scenario played with no
// integration listening) is connected through the amocrm-connect function with an OAuth code. The function
// exchanges the code, verifies, subscribes our signed webhook, syncs pipelines and starts the backfill; the
// worker (kicked through pg_net) pages through every deal, one page per job, then reads the product's deleted
// deals by id. An incremental reconcile takes over from the backfill's start. Then every deal, product lead
// and sale matches amoCRM, and amocrm-qualification-stats answers from the analytics RPC.
import assert from "node:assert/strict";
import { differencesFromTruth } from "../support/truth.ts";
import { startSimulator } from "../../local/amocrm-simulator/mod.ts";
import { createAmoCrmClient } from "../../supabase/functions/_shared/amocrm/mod.ts";
import { runBackfillPage } from "../../supabase/functions/_shared/jobs/backfill.ts";
import { connectDb, insertProductLeads } from "../support/connected_account.ts";
import { callFunction, eventually, NO_STACK } from "../integration/schedules/_support.ts";

const CREDENTIALS = {
  clientId: "amo-roi-e2e",
  clientSecret: "amo-roi-e2e-secret",
  redirectUri: "https://app.example/amocrm/callback",
};

Deno.test({
  name: "connect with an OAuth code backfills an existing account to amoCRM's truth",
  ignore: NO_STACK,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const sql = connectDb();
    // The account's history lies in the past: its clock starts 20 days back and the story spans 14 days.
    const sim = await startSimulator({
      port: 0,
      seed: 77,
      timeScale: 1e6,
      now: () => Date.now() - 20 * 86_400_000,
    });
    const subdomain = `cold${crypto.randomUUID().slice(0, 8)}`;
    // Lists keep `_links.next` on their last page (reported for some endpoints): following it gives 204.
    // A Kazakh account: tenge, Almaty time (the connection must learn both from GET /api/v4/account).
    sim.createAccount({
      subdomain,
      ...CREDENTIALS,
      modes: { nextOnLastPage: true },
      currency: "KZT",
      timezone: "Asia/Almaty",
    });
    const [{ id: userAccountId }] = await sql`
      insert into public.user_accounts (name) values (${`e2e connect ${subdomain}`}) returning id`;
    try {
      // History nobody listened to: > 250 deals, so the backfill needs several pages.
      const run = sim.scenario(subdomain, { leads: 260, creatives: 6, directions: 2, managerDeals: 30 }, {
        webhooks: false,
      });
      run.applyAll({ webhooks: false });
      const { leadIds } = await insertProductLeads(sql, userAccountId, run.product);
      const truth = run.truth();
      assert.ok(
        truth.some((t) => t.is_deleted && t.product_ref !== null),
        "some product deals are in the trash",
      );

      // Clear errors first.
      const missing = await callFunction("amocrm-connect", { userAccountId, subdomain });
      assert.equal(missing.status, 400);
      assert.match(missing.body.error!, /code .* or longLivedToken/);
      const noClient = await callFunction("amocrm-connect", { userAccountId, subdomain, code: "x" });
      assert.equal(noClient.status, 400);
      assert.match(noClient.body.error!, /clientId is missing/);
      const badCode = await callFunction("amocrm-connect", {
        userAccountId,
        subdomain,
        apiBaseUrl: sim.accountBaseUrl(subdomain),
        code: "not-a-code",
        ...CREDENTIALS,
      });
      assert.equal(badCode.status, 400, JSON.stringify(badCode.body));
      assert.match(badCode.body.error!, /rejected the authorization code/);
      // A subdomain amoCRM has no account for: 401 with code 101 (amoCRM's API errors page), said as such.
      const noAccount = await callFunction("amocrm-connect", {
        userAccountId,
        subdomain,
        apiBaseUrl: `${sim.url}/no${subdomain}`,
        code: sim.issueAuthorizationCode(subdomain),
        ...CREDENTIALS,
      });
      assert.equal(noAccount.status, 400, JSON.stringify(noAccount.body));
      assert.match(noAccount.body.error!, /no account at .* \(error 101\)/);
      const unknown = await callFunction("amocrm-connect", {
        userAccountId: crypto.randomUUID(),
        subdomain,
        code: "x",
        ...CREDENTIALS,
      });
      assert.equal(unknown.status, 404);

      const connected = await callFunction("amocrm-connect", {
        userAccountId,
        subdomain,
        apiBaseUrl: sim.accountBaseUrl(subdomain),
        code: sim.issueAuthorizationCode(subdomain),
        ...CREDENTIALS,
      });
      assert.equal(connected.status, 200, JSON.stringify(connected.body));
      const result = connected.body.result as {
        amocrmAccountId: number;
        backfill: { runId: number };
        webhook: { destination: string };
      };
      assert.equal(result.amocrmAccountId, sim.accountSummary(subdomain).accountId);
      assert.doesNotMatch(
        result.webhook.destination,
        /sig=v\d+\./,
        "the answer does not repeat the signature",
      );

      const [connection] = await sql`
        select id, state, token_kind, amocrm_account_id::int as account_id, webhook_destination, refresh_token is not null as has_refresh,
          account_currency, account_currency_symbol, account_timezone
        from amocrm.connections where user_account_id = ${userAccountId}`;
      assert.deepEqual(
        [connection.state, connection.token_kind, connection.account_id, connection.has_refresh],
        ["active", "oauth", result.amocrmAccountId, true],
      );
      assert.deepEqual(
        [connection.account_currency, connection.account_currency_symbol, connection.account_timezone],
        ["KZT", "₸", "Asia/Almaty"],
        "connect keeps the account's currency and time zone on the connection",
      );
      const subscribed = sim.accountSummary(subdomain).webhooks.find((w) =>
        w.destination === connection.webhook_destination
      );
      assert.ok(subscribed, "our signed URL is subscribed at amoCRM");
      assert.match(
        String(connection.webhook_destination),
        /\/functions\/v1\/amocrm-webhook\?user_id=.*&sig=v\d+\./,
      );

      // The worker pages through the account, one job per page.
      const backfill = await eventually("the backfill to finish", async () => {
        const [row] = await sql`
          select state, pages, leads, errors, last_error, cursor from amocrm.sync_runs where id = ${result.backfill.runId}`;
        return row.state === "running" ? undefined : row;
      }, 60_000);
      assert.equal(backfill.state, "done", backfill.last_error);
      assert.ok(backfill.pages >= 3, `several pages (${backfill.pages})`);
      assert.equal(backfill.cursor.phase, "done");
      const [{ jobs }] = await sql`
        select count(*)::int as jobs from amocrm.jobs where user_account_id = ${userAccountId} and kind = 'backfill_page'
          and state = 'done'`;
      assert.equal(jobs, backfill.pages, "one job per page");
      // A late duplicate of the first page's job changes nothing.
      const client = createAmoCrmClient({ connectionId: String(connection.id), deps: { sql } });
      const duplicate = await runBackfillPage(sql, client, userAccountId, {
        run_id: result.backfill.runId,
        cursor: { step: 0 },
      });
      assert.deepEqual(duplicate, { runId: result.backfill.runId, skipped: "run is done" });

      // Life goes on after the backfill's start; this deal's webhooks are lost, so it is the reconcile's.
      sim.advanceTime(21 * 86_400);
      sim.faults(subdomain, { webhookDrop: { rate: 1 } });
      const late = Number(sim.createLead(subdomain, { name: "After connect", price: 4200 }).id);
      sim.winLead(subdomain, late, { price: 4300 });
      const reconciled = await callFunction("amocrm-reconcile", { userAccountId, mode: "incremental" });
      assert.equal(reconciled.status, 200, JSON.stringify(reconciled.body));
      assert.equal(
        reconciled.body.result?.from,
        Number(backfill.cursor.to) - 600,
        "it starts at the handover",
      );

      assert.ok(Number(reconciled.body.result?.healed) >= 1, "it healed the deal whose webhooks were lost");
      assert.deepEqual(await differencesFromTruth(sql, userAccountId, run.truth(), leadIds), []);
      assert.ok(
        run.truth().some((t) => t.id === late && t.status_id === 142),
        "the late deal is part of the truth",
      );

      const stats = await callFunction("amocrm-qualification-stats", { userAccountId });
      assert.equal(stats.status, 200, JSON.stringify(stats.body));
      const direct = await sql`
        select creative_id, leads::int, qualified_leads::int, conversions::int
        from public.qualification_stats(${userAccountId}::uuid)`;
      const answered = (stats.body.result?.creatives as Record<string, unknown>[]).map((c) => ({
        creative_id: c.creative_id,
        leads: c.leads,
        qualified_leads: c.qualified_leads,
        conversions: c.conversions,
      }));
      assert.deepEqual(answered, direct.map((r) => ({ ...r })), "the endpoint answers what the RPC says");
      assert.ok(answered.reduce((n, c) => n + Number(c.leads), 0) > 0);
      const [{ id: directionId }] = await sql`
        select id from public.directions where user_account_id = ${userAccountId} order by name limit 1`;
      const byDirection = await callFunction("amocrm-qualification-stats", { userAccountId, directionId });
      assert.equal(byDirection.status, 200);
      assert.ok(
        (byDirection.body.result?.creatives as unknown[]).length < answered.length,
        "filtered by direction",
      );
      const badStats = await callFunction("amocrm-qualification-stats", { directionId });
      assert.equal(badStats.status, 400);
      assert.match(badStats.body.error!, /userAccountId is required/);
    } finally {
      await sql`delete from public.user_accounts where id = ${userAccountId}`;
      await sim.stop();
      await sql.end();
    }
  },
});
