// End to end: simulated amoCRM accounts play scenarios (stage moves, wins with prices, losses, price edits,
// pipeline moves, deletions and restores, manager-opened deals, bulk edits). Its form-encoded webhooks go over
// HTTP to the amocrm-webhook function on the local functions host, into Postgres — one account per captured
// webhook layout (modern, account block last with a Kommo self link, 2016 subdomain-only), with a stage move's
// status and update hooks in one POST or two; the worker is kicked through
// pg_net and confirms money against the simulator's API. Then every deal, product lead and sale must match
// the simulator's truth.
import assert from "node:assert/strict";
import { type AccountModes, startSimulator } from "../../local/amocrm-simulator/mod.ts";
import {
  connectDb,
  type ConnectedAccount,
  connectSimulatedAccount,
  insertProductLeads,
  waitUntilSettled,
} from "../support/connected_account.ts";
import { differencesFromTruth } from "../support/truth.ts";

const FUNCTIONS_URL = Deno.env.get("FUNCTIONS_URL");

/** One account per captured webhook layout, each with status and update hooks split or mixed. */
const ACCOUNTS: { label: string; leads: number; modes: Partial<AccountModes> }[] = [
  { label: "modern, mixed", leads: 200, modes: { webhookLayout: "modern", statusDelivery: "mixed" } },
  {
    label: "account last, Kommo, split",
    leads: 100,
    modes: { webhookLayout: "account_last", kommo: true, statusDelivery: "split", contactGroupId: true },
  },
  { label: "2016 legacy, mixed", leads: 100, modes: { webhookLayout: "legacy", statusDelivery: "mixed" } },
];

Deno.test({
  name: "scenarios' webhooks in every captured layout, split and batched, converge to the simulator's truth",
  ignore: !FUNCTIONS_URL || !Deno.env.get("DATABASE_URL"),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const sql = connectDb();
    const sim = await startSimulator({
      port: 0,
      seed: Number(Deno.env.get("E2E_SEED") ?? 2026),
      timeScale: 1e6,
      // The scenario compresses days into seconds: it happens in the past, as amoCRM's events always have.
      clockStartMs: Date.now() - 90 * 86_400_000,
    });
    const accounts: ConnectedAccount[] = [];
    try {
      for (const spec of ACCOUNTS) {
        accounts.push(
          await connectSimulatedAccount(sql, sim, {
            functionsUrl: FUNCTIONS_URL!,
            label: `e2e truth ${spec.label}`,
            modes: spec.modes,
          }),
        );
      }
      // One account after the other: the simulator has one clock, and amoCRM's one-second timestamps cannot
      // order two moves of a deal in the same second, so the stories must not be squeezed together.
      const runs = [];
      for (const [index, account] of accounts.entries()) {
        const run = sim.scenario(account.subdomain, {
          leads: ACCOUNTS[index].leads,
          creatives: 5,
          directions: 2,
          managerDeals: Math.round(ACCOUNTS[index].leads / 10),
        });
        const { leadIds } = await insertProductLeads(sql, account.userAccountId, run.product);
        await run.play({ afterStep: () => sim.flushWebhooks({ fastForward: true }) });
        await sim.flushWebhooks({ fastForward: true });
        runs.push({ account, run, leadIds, label: ACCOUNTS[index].label });
      }

      for (const { account, run, leadIds, label } of runs) {
        await waitUntilSettled(sql, account.userAccountId);
        const truth = run.truth();
        assert.ok(
          truth.some((t) => t.status_id === 142 && !t.is_deleted),
          `${label}: the scenario won some deals`,
        );
        assert.deepEqual(
          await differencesFromTruth(sql, account.userAccountId, truth, leadIds, {
            history: true,
            qualification: true,
          }),
          [],
          label,
        );
        const [{ quarantined }] = await sql`
          select count(*)::int as quarantined from amocrm.webhook_events
          where user_account_id = ${account.userAccountId} and state = 'quarantined'`;
        assert.equal(quarantined, 0, `${label}: no event was quarantined`);
      }
      // What arrived really was the mix: each layout's account block, and status hooks with and without
      // the move's update in the same POST.
      const bodies = async (account: ConnectedAccount) =>
        (await sql`select raw_body from amocrm.webhook_inbox where user_account_id = ${account.userAccountId}`)
          .map((r) => decodeURIComponent(String(r.raw_body)));
      const [modern, last, legacy] = await Promise.all(accounts.map(bodies));
      assert.ok(modern.every((b) => b.startsWith("account[subdomain]=") && b.includes(".amocrm.ru")));
      assert.ok(
        last.every((b) =>
          !b.startsWith("account") && /account\[_links\]\[self\]=https:\/\/\S+\.amocrm\.com$/.test(b)
        ),
      );
      assert.ok(legacy.every((b) => /&account\[subdomain\]=[^&]+$/.test(b) && !b.includes("account[id]")));
      const statusAlone = (b: string) => b.includes("[status]") && !b.includes("[update]");
      const statusWithUpdate = (b: string) => b.includes("[status]") && b.includes("[update]");
      assert.ok(last.some(statusAlone) && !last.some(statusWithUpdate), "split: status always alone");
      for (const mixed of [modern, legacy]) {
        assert.ok(mixed.some(statusAlone) && mixed.some(statusWithUpdate), "mixed: both forms arrived");
      }
      const posts = accounts.map((a) => sim.stats(a.subdomain));
      assert.ok(posts.every((p) => p.webhooksDropped === 0), "nothing was dropped: every hook counts");
    } finally {
      for (const account of accounts) await account.remove();
      await sim.stop();
      await sql.end();
    }
  },
});
