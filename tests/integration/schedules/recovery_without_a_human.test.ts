// Recovery without a human, over HTTP through the functions host (the worker runs there, kicked by pg_net as in
// production): after amoCRM blocks the account (403) or switches our webhook off, the mirror heals by itself.
// Time is the only thing the tests move: the breaker's one-hour cool-down is ended by setting its clock, and the
// scheduler's tick is its own command (the drain's "kick the worker when a job is due").
import assert from "node:assert/strict";
import { startSimulator } from "../../../local/amocrm-simulator/mod.ts";
import { differencesFromTruth } from "../../support/truth.ts";
import {
  connectDb,
  connectSimulatedAccount,
  insertProductLeads,
  type Sql,
  waitUntilSettled,
} from "../../support/connected_account.ts";
import { callFunction, eventually, FUNCTIONS_URL, NO_STACK } from "./_support.ts";

/** A drain-queue cron tick, at its most eager: kick the worker (which takes whatever is due). */
async function schedulerTick(sql: Sql) {
  await sql`select private.invoke_function('amocrm-worker', '{"reason":"cron"}')`;
}

/** A simulated account connected through the functions host, with a scenario and its product leads. The clock
 * starts in the past: the scenario stamps its moves days apart, and intake bounds event times by receipt. */
async function playingAccount(seed: number, label: string) {
  const sql = connectDb();
  const sim = await startSimulator({
    port: 0,
    seed,
    timeScale: 1e6,
    clockStartMs: Date.now() - 30 * 86_400_000,
  });
  const account = await connectSimulatedAccount(sql, sim, { functionsUrl: FUNCTIONS_URL!, label });
  const run = sim.scenario(account.subdomain, { leads: 40, creatives: 3, directions: 1, managerDeals: 6 });
  const { leadIds } = await insertProductLeads(sql, account.userAccountId, run.product);
  const play = async (steps: number) => {
    for (let i = 0; i < steps && run.step(); i++) await sim.flushWebhooks({ fastForward: true });
    await sim.flushWebhooks({ fastForward: true });
  };
  return { sql, sim, account, run, leadIds, play };
}

Deno.test({
  name: "after a 403 block, waiting jobs stay alive and one probe after the cool-down heals the account",
  ignore: NO_STACK,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { sql, sim, account, run, leadIds, play } = await playingAccount(1703, "blocked");
    try {
      await play(Math.floor(run.total / 3));
      await waitUntilSettled(sql, account.userAccountId);

      // Another client of the integration caused a 429 storm: amoCRM blocks the account. Webhooks still arrive;
      // every API call answers 403.
      sim.internalAccount(account.subdomain).stats.blocked = true;
      await play(run.total);
      const blocked = await eventually("the breaker to open", async () => {
        const [c] = await sql`select breaker_open, breaker_cooldown_until from amocrm.connections
          where id = ${account.connectionId}`;
        return c.breaker_open ? c : undefined;
      });
      assert.ok(blocked.breaker_cooldown_until > new Date(), "the breaker waits out its cool-down");
      // Minutes of worker kicks and cron ticks while blocked: nothing dies, nothing hammers amoCRM.
      const forbiddenBefore = sim.stats(account.subdomain).forbiddenWhileBlocked;
      for (let i = 0; i < 10; i++) {
        await schedulerTick(sql);
        await callFunction("amocrm-worker", {});
      }
      const jobs = await sql`select kind, state, attempts from amocrm.jobs
        where user_account_id = ${account.userAccountId} and state <> 'done'`;
      assert.equal(jobs.filter((j) => j.state === "dead").length, 0, `no job died: ${JSON.stringify(jobs)}`);
      assert.ok(jobs.some((j) => j.kind === "confirm_deals"), "the confirmations wait");
      assert.ok(jobs.every((j) => j.attempts <= 1), `waiting used no attempts: ${JSON.stringify(jobs)}`);
      assert.equal(
        sim.stats(account.subdomain).forbiddenWhileBlocked,
        forbiddenBefore,
        "no call reaches amoCRM while the breaker is open",
      );
      assert.ok(
        (await differencesFromTruth(sql, account.userAccountId, run.truth(), leadIds)).length > 0,
        "while blocked the mirror lags amoCRM",
      );

      // amoCRM lifts the block; the hour passes.
      sim.internalAccount(account.subdomain).stats.unblock();
      await sql`update amocrm.connections set breaker_cooldown_until = now() where id = ${account.connectionId}`;
      await sql`update amocrm.jobs set run_after = now()
        where user_account_id = ${account.userAccountId} and kind = 'breaker_probe' and state = 'queued'`;
      await schedulerTick(sql);

      await eventually("the mirror to equal amoCRM", async () => {
        const [c] = await sql`select breaker_open from amocrm.connections where id = ${account.connectionId}`;
        if (c.breaker_open) return undefined;
        const [{ busy }] = await sql`select count(*)::int as busy from amocrm.jobs
          where user_account_id = ${account.userAccountId} and state in ('queued', 'running', 'failed')`;
        if (busy > 0) return undefined;
        const diffs = await differencesFromTruth(sql, account.userAccountId, run.truth(), leadIds);
        return diffs.length === 0 ? true : undefined;
      }, 60_000);
      const [probe] = await sql`select count(*)::int as probes from amocrm.jobs
        where user_account_id = ${account.userAccountId} and kind = 'breaker_probe' and state = 'done'`;
      assert.equal(probe.probes, 1, "exactly one probe ran");
      const [reconcile] = await sql`select count(*)::int as runs from amocrm.sync_runs
        where user_account_id = ${account.userAccountId} and kind = 'reconcile' and state = 'done'`;
      assert.ok(reconcile.runs >= 1, "a reconcile covered the blocked period");
    } finally {
      await account.remove();
      await sim.stop();
      await sql.end();
    }
  },
});

Deno.test({
  name: "re-subscribing a disabled webhook starts a reconcile that heals what was not delivered",
  ignore: NO_STACK,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const { sql, sim, account, run, leadIds, play } = await playingAccount(1704, "disabled");
    try {
      // Complete the subscription's settings first, so the repair below is the disable alone.
      assert.equal(
        (await callFunction("amocrm-webhook-health", { userAccountId: account.userAccountId })).status,
        200,
      );
      await play(Math.floor(run.total / 3));
      await waitUntilSettled(sql, account.userAccountId);
      // A reconcile before the outage, so the watermark is not "from the beginning".
      assert.equal(
        (await callFunction("amocrm-reconcile", { userAccountId: account.userAccountId })).status,
        200,
      );

      // amoCRM switched our webhook off (more than 100 failed deliveries while we were down): nothing arrives.
      for (const w of sim.internalAccount(account.subdomain).webhooks.list(account.destination)) {
        w.disabled = true;
      }
      await play(run.total);
      assert.ok(
        (await differencesFromTruth(sql, account.userAccountId, run.truth(), leadIds, { history: true }))
          .length >
          0,
        "the changes made meanwhile are missing",
      );

      const answer = await callFunction("amocrm-webhook-health", { userAccountId: account.userAccountId });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const check = answer.body.result as { seen: string; repaired: boolean; reconcileJobId?: number };
      assert.deepEqual([check.seen, check.repaired], ["disabled", true]);
      await eventually("the mirror to equal amoCRM", async () => {
        const diffs = await differencesFromTruth(sql, account.userAccountId, run.truth(), leadIds, {
          history: true,
        });
        return diffs.length === 0 ? true : undefined;
      }, 60_000);
      assert.ok(check.reconcileJobId, "the repair queued the reconcile that healed it");
    } finally {
      await account.remove();
      await sim.stop();
      await sql.end();
    }
  },
});
