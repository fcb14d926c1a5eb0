// End to end: a simulated amoCRM account plays a scenario (stage moves, wins with prices, losses, price edits,
// pipeline moves, deletions and restores, manager-opened deals, bulk edits). Its form-encoded webhooks go over
// HTTP to the amocrm-webhook function on the local functions host, into Postgres; the worker is kicked through
// pg_net and confirms money against the simulator's API. Then every deal, product lead and sale must match
// the simulator's truth.
import assert from "node:assert/strict";
import { startSimulator } from "../../local/amocrm-simulator/mod.ts";
import {
  connectDb,
  connectSimulatedAccount,
  insertProductLeads,
  waitUntilSettled,
} from "../support/connected_account.ts";
import { differencesFromTruth } from "../support/truth.ts";

const FUNCTIONS_URL = Deno.env.get("FUNCTIONS_URL");

Deno.test({
  name: "a scenario's webhooks over HTTP converge to the simulator's truth",
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
      clockStartMs: Date.now() - 30 * 86_400_000,
    });
    const account = await connectSimulatedAccount(sql, sim, {
      functionsUrl: FUNCTIONS_URL!,
      label: "e2e truth",
    });
    try {
      const run = sim.scenario(account.subdomain, {
        leads: 300,
        creatives: 5,
        directions: 2,
        managerDeals: 30,
      });
      const { leadIds } = await insertProductLeads(sql, account.userAccountId, run.product);
      await run.play({ afterStep: () => sim.flushWebhooks({ fastForward: true }) });
      await sim.flushWebhooks({ fastForward: true });
      await waitUntilSettled(sql, account.userAccountId);

      const truth = run.truth();
      assert.ok(truth.some((t) => t.status_id === 142 && !t.is_deleted), "the scenario won some deals");
      assert.deepEqual(
        await differencesFromTruth(sql, account.userAccountId, truth, leadIds, {
          history: true,
          qualification: true,
        }),
        [],
      );
      const [{ quarantined }] = await sql`
        select count(*)::int as quarantined from amocrm.webhook_events
        where user_account_id = ${account.userAccountId} and state = 'quarantined'`;
      assert.equal(quarantined, 0, "no event was quarantined");
    } finally {
      await account.remove();
      await sim.stop();
      await sql.end();
    }
  },
});
