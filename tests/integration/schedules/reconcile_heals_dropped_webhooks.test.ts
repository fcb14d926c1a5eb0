// Reconciliation heals what webhooks lost. A simulated account (2016-layout bodies, a stage move's status and
// update hooks split or together, `next` on every last page, trash leads in the documented id-only shape)
// drops 30% of its webhook POSTs (the rest go
// over HTTP to the amocrm-webhook function on the functions host) while a scenario plays: stage moves, wins
// with prices, losses, deletions and restores, manager-opened deals. Reconcile runs halfway (from nothing)
// and at the end (incrementally, from the first run's high-water) — after that the mirror equals amoCRM's
// truth: every deal's stage, deletion and price, the product leads' stages, the sales, and the history.
import assert from "node:assert/strict";
import { differencesFromTruth } from "../../support/truth.ts";
import { startSimulator } from "../../../local/amocrm-simulator/mod.ts";
import { createReconcileHandler } from "../../../supabase/functions/amocrm-reconcile/handler.ts";
import {
  connectDb,
  connectSimulatedAccount,
  insertProductLeads,
  waitUntilSettled,
} from "../../support/connected_account.ts";
import {
  answerOf,
  clientForSql,
  eventually,
  FUNCTIONS_URL,
  NO_STACK,
  operatorRequest,
  operatorSecrets,
} from "./_support.ts";

Deno.test({
  name: "reconcile heals 30% dropped webhooks: the mirror equals amoCRM's truth",
  ignore: NO_STACK,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const sql = connectDb();
    const sim = await startSimulator({ port: 0, seed: 3030, timeScale: 1e6 });
    // The 2016 layout (no created_at/updated_at, subdomain only), status and update hooks split or together
    // per change set (so either one may be the dropped one), and lists that keep `next` on their last page.
    const account = await connectSimulatedAccount(sql, sim, {
      functionsUrl: FUNCTIONS_URL!,
      label: "reconcile",
      modes: { webhookLayout: "legacy", statusDelivery: "mixed", nextOnLastPage: true },
    });
    const reconcile = createReconcileHandler({ sql, secrets: operatorSecrets, clientFor: clientForSql(sql) });
    const runReconcile = async () => {
      const answer = await answerOf(
        await reconcile(operatorRequest("amocrm-reconcile", { userAccountId: account.userAccountId })),
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return answer.body.result as Record<string, number | boolean>;
    };
    try {
      sim.faults(account.subdomain, { webhookDrop: { rate: 0.3 } });
      const run = sim.scenario(account.subdomain, {
        leads: 60,
        creatives: 4,
        directions: 2,
        managerDeals: 12,
      });
      const { leadIds } = await insertProductLeads(sql, account.userAccountId, run.product);
      const playSteps = async (count: number) => {
        for (let i = 0; i < count && run.step(); i++) await sim.flushWebhooks({ fastForward: true });
        await sim.flushWebhooks({ fastForward: true });
        await waitUntilSettled(sql, account.userAccountId);
      };

      await playSteps(Math.floor(run.total / 2));
      const first = await runReconcile();
      assert.equal(first.from, 0, "the first reconcile reads everything");
      assert.ok(Number(first.healed) > 0, "the first half lost webhooks that the first run healed");

      await playSteps(run.total);
      assert.ok(sim.stats(account.subdomain).webhooksDropped > 0, "the simulator dropped webhooks");
      const before = await differencesFromTruth(sql, account.userAccountId, run.truth(), leadIds, {
        history: true,
      });
      assert.ok(before.length > 0, "without reconciliation the mirror is wrong");

      const second = await runReconcile();
      assert.ok(Number(second.from) > 0, "the second run is incremental");
      assert.equal(
        second.from,
        Number(first.highWater) - 600,
        "from the first run's high-water minus the overlap",
      );
      assert.ok(Number(second.leads) < run.truth().length, "it reads only what changed since");
      assert.equal(second.complete, true);
      assert.equal(second.errors, 0);

      const after = await differencesFromTruth(sql, account.userAccountId, run.truth(), leadIds, {
        history: true,
      });
      assert.deepEqual(after, [], "after reconciling, the mirror equals amoCRM");

      const runs = await sql`
        select state, healed, pages, leads, (cursor ->> 'high_water')::bigint as high_water
        from amocrm.sync_runs where user_account_id = ${account.userAccountId} and kind = 'reconcile'
        order by id`;
      assert.deepEqual(runs.map((r) => r.state), ["done", "done"]);
      assert.equal(runs[1].healed, second.healed, "the run row records what it healed");
      assert.ok(runs[1].high_water >= runs[0].high_water, "the high-water only moves forward");

      // Nothing left to heal: a third run changes nothing.
      const third = await runReconcile();
      assert.equal(third.healed, 0, "a reconcile right after another heals nothing");

      // The cron run fans out one `reconcile` job per account; the worker on the functions host runs it.
      await sql`select private.enqueue_job('reconcile', ${account.userAccountId}, ${
        sql.json({ mode: "incremental" })
      },
        ${"reconcile:" + account.userAccountId})`;
      const viaWorker = await eventually("the worker's reconcile run", async () => {
        const finished = await sql`
          select state, last_error from amocrm.sync_runs
          where user_account_id = ${account.userAccountId} and kind = 'reconcile' and state <> 'running'
          order by id`;
        return finished.length === 4 ? finished[3] : undefined;
      }, 30_000);
      assert.equal(viaWorker.state, "done", viaWorker.last_error);
    } finally {
      await account.remove();
      await sim.stop();
      await sql.end();
    }
  },
});

Deno.test({
  name: "a reconcile that runs out of time keeps its progress and the worker finishes it",
  ignore: NO_STACK,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const sql = connectDb();
    const sim = await startSimulator({ port: 0, seed: 4040, timeScale: 1e6 });
    const account = await connectSimulatedAccount(sql, sim, {
      functionsUrl: FUNCTIONS_URL!,
      label: "budget",
    });
    // A budget so small the run stops after its first full page.
    const reconcile = createReconcileHandler({
      sql,
      secrets: operatorSecrets,
      clientFor: clientForSql(sql),
      budgetMs: 1,
    });
    try {
      // More than one page of deals, none of them delivered by webhook.
      const run = sim.scenario(account.subdomain, {
        leads: 280,
        creatives: 3,
        directions: 1,
        managerDeals: 20,
      }, {
        webhooks: false,
      });
      run.applyAll({ webhooks: false });
      const { leadIds } = await insertProductLeads(sql, account.userAccountId, run.product);

      const answer = await answerOf(
        await reconcile(operatorRequest("amocrm-reconcile", { userAccountId: account.userAccountId })),
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const first = answer.body.result as Record<string, number | boolean | null>;
      assert.equal(first.complete, false, "the run stopped at its budget");
      assert.ok(Number(first.highWater) > 0, "but kept the progress it made");
      assert.ok(first.continuationJobId, "and queued its continuation");

      const finished = await eventually("the worker's continuation", async () => {
        const runs = await sql`
          select state, (details ->> 'complete')::boolean as complete, last_error from amocrm.sync_runs
          where user_account_id = ${account.userAccountId} and kind = 'reconcile' and state <> 'running'
          order by id`;
        return runs.some((r) => r.complete) ? runs : undefined;
      }, 45_000);
      assert.ok(finished.every((r) => r.state === "done"), JSON.stringify(finished));
      assert.deepEqual(
        await differencesFromTruth(sql, account.userAccountId, run.truth(), leadIds, { history: true }),
        [],
        "the continuation finished the job",
      );
    } finally {
      await account.remove();
      await sim.stop();
      await sql.end();
    }
  },
});
