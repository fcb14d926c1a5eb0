// Webhook self-repair, over HTTP through the functions host (service role key, as `npm run admin` calls it):
// our webhook lacking a setting, switched off by amoCRM, or deleted is re-subscribed; a healthy one is left
// alone. Every check is recorded on the connection and as a webhook_health sync run.
import assert from "node:assert/strict";
import { startSimulator } from "../../../local/amocrm-simulator/mod.ts";
import { WEBHOOK_SETTINGS } from "../../../supabase/functions/_shared/jobs/webhook_health.ts";
import { createAmoCrmClient } from "../../../supabase/functions/_shared/amocrm/mod.ts";
import { connectDb, connectSimulatedAccount } from "../../support/connected_account.ts";
import { callFunction, FUNCTIONS_URL, NO_STACK } from "./_support.ts";

Deno.test({
  name: "webhook health re-subscribes a webhook that is missing, disabled or lacks settings",
  ignore: NO_STACK,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const sql = connectDb();
    const sim = await startSimulator({ port: 0, seed: 31 });
    const account = await connectSimulatedAccount(sql, sim, {
      functionsUrl: FUNCTIONS_URL!,
      label: "health",
    });
    const ours = () =>
      sim.accountSummary(account.subdomain).webhooks.find((w) => w.destination === account.destination);
    const check = async () => {
      const answer = await callFunction("amocrm-webhook-health", { userAccountId: account.userAccountId });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return answer.body.result as { seen: string; repaired: boolean };
    };
    try {
      // The helper subscribed without responsible_lead: the first check completes the settings.
      let result = await check();
      assert.deepEqual(
        [result.seen, result.repaired],
        ["settings", true],
        "a webhook lacking a setting is updated",
      );

      result = await check();
      assert.deepEqual([result.seen, result.repaired], ["ok", false], "a healthy webhook is left alone");

      // amoCRM switched it off (more than 100 failed deliveries in 2 hours).
      sim.internalAccount(account.subdomain).webhooks.list(account.destination)[0].disabled = true;
      assert.equal(ours()?.disabled, true);
      result = await check();
      assert.deepEqual([result.seen, result.repaired], ["disabled", true], "a disabled webhook is repaired");
      assert.equal(ours()?.disabled, false, "and amoCRM delivers to it again");

      // Someone deleted it in amoCRM's settings.
      const client = createAmoCrmClient({ connectionId: account.connectionId, deps: { sql } });
      await client.unsubscribeWebhook(account.destination);
      assert.equal(ours(), undefined);
      result = await check();
      assert.deepEqual(
        [result.seen, result.repaired],
        ["missing", true],
        "a deleted webhook is re-subscribed",
      );
      assert.deepEqual(
        [...(ours()?.settings as string[])].sort(),
        [...WEBHOOK_SETTINGS].sort(),
        "with our settings",
      );

      const [connection] = await sql`
        select webhook_checked_at is not null as checked, webhook_disabled_seen_at is not null as disabled_seen,
               webhook_repaired_at is not null as repaired, webhook_repairs
        from amocrm.connections where user_account_id = ${account.userAccountId}`;
      assert.deepEqual(connection, {
        checked: true,
        disabled_seen: true,
        repaired: true,
        webhook_repairs: 3,
      });
      const runs = await sql`
        select state, details ->> 'seen' as seen from amocrm.sync_runs
        where user_account_id = ${account.userAccountId} and kind = 'webhook_health' order by id`;
      assert.deepEqual(runs.map((r) => `${r.state}:${r.seen}`), [
        "done:settings",
        "done:ok",
        "done:disabled",
        "done:missing",
      ]);

      // Without credentials the function refuses.
      const refused = await callFunction("amocrm-webhook-health", {}, "not-the-key");
      assert.equal(refused.status, 401);
    } finally {
      await account.remove();
      await sim.stop();
      await sql.end();
    }
  },
});
