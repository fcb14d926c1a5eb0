// The backfill on connect, against a simulated account whose history was made before the connect (no webhooks):
// its time bound comes from amoCRM's clock, not ours, and it reads the Events API history, so a deal that passed
// the qualified stage before the connect and then moved back or was lost counts as qualified.
import assert from "node:assert/strict";
import { startSimulator } from "../../../local/amocrm-simulator/mod.ts";
import type { Simulator } from "../../../local/amocrm-simulator/mod.ts";
import { createAmoCrmClient } from "../../../supabase/functions/_shared/amocrm/mod.ts";
import {
  type BackfillCursor,
  runBackfillPage,
  startBackfill,
} from "../../../supabase/functions/_shared/jobs/backfill.ts";
import { connectDb, connectSimulatedAccount, type Sql } from "../../support/connected_account.ts";
import { FUNCTIONS_URL, NO_STACK } from "./_support.ts";

interface Story {
  /** Deal id → what happened to it (names used in assertions). */
  deals: Record<"backAfterQualified" | "lostAfterQualified" | "backAfterPassing" | "neverQualified", number>;
}

/** Four deals made before the connect, minutes apart: three passed the qualified stage, then left it. */
async function playStory(sql: Sql, sim: Simulator, subdomain: string, userAccountId: string): Promise<Story> {
  const stages = await sql<{ pipeline_id: number; status_id: number; is_qualified_stage: boolean }[]>`
    select pipeline_id, status_id, is_qualified_stage from public.amocrm_pipeline_stages
    where user_account_id = ${userAccountId} and status_id not in (142, 143) and status_type = 0
      and pipeline_id = (select pipeline_id from public.amocrm_pipeline_stages
                         where user_account_id = ${userAccountId} and is_qualified_stage order by pipeline_id limit 1)
    order by sort_order`;
  const qualifiedAt = stages.findIndex((s) => s.is_qualified_stage);
  const [first, qualified, past] = [stages[qualifiedAt - 1], stages[qualifiedAt], stages[qualifiedAt + 1]];
  assert.ok(first && qualified && past, "the pipeline has a stage before and after the qualified one");
  const pipelineId = qualified.pipeline_id;
  const step = () => sim.advanceTime(120);
  const create = () => Number(sim.createLead(subdomain, { pipelineId, statusId: first.status_id }).id);
  const deals = {
    backAfterQualified: create(),
    lostAfterQualified: create(),
    backAfterPassing: create(),
    neverQualified: create(),
  };
  step();
  sim.moveLead(subdomain, deals.backAfterQualified, qualified.status_id);
  sim.moveLead(subdomain, deals.lostAfterQualified, qualified.status_id);
  sim.moveLead(subdomain, deals.backAfterPassing, past.status_id);
  step();
  sim.moveLead(subdomain, deals.backAfterQualified, first.status_id);
  sim.loseLead(subdomain, deals.lostAfterQualified);
  sim.moveLead(subdomain, deals.backAfterPassing, first.status_id);
  step();
  return { deals };
}

/** Runs the backfill's pages one after another until the run is done (the worker may take some of them). */
async function backfill(sql: Sql, connectionId: string, userAccountId: string): Promise<void> {
  const client = createAmoCrmClient({ connectionId, deps: { sql } });
  const { runId } = await startBackfill(sql, userAccountId);
  for (let i = 0; i < 50; i++) {
    const [run] = await sql<{ state: string; cursor: BackfillCursor }[]>`
      select state, cursor from amocrm.sync_runs where id = ${runId}`;
    if (run.state !== "running") {
      assert.equal(run.state, "done");
      return;
    }
    await runBackfillPage(sql, client, userAccountId, { run_id: runId, cursor: run.cursor });
  }
  assert.fail("the backfill did not finish in 50 pages");
}

async function withConnectedStory(
  clockOffsetMs: number,
  check: (sql: Sql, sim: Simulator, subdomain: string, userAccountId: string, story: Story) => Promise<void>,
) {
  const sql = connectDb();
  const sim = await startSimulator({
    port: 0,
    seed: 1313,
    timeScale: 1e6,
    now: () => Date.now() + clockOffsetMs,
  });
  const account = await connectSimulatedAccount(sql, sim, {
    functionsUrl: FUNCTIONS_URL!,
    label: "backfill history",
    subscribe: false,
  });
  try {
    const story = await playStory(sql, sim, account.subdomain, account.userAccountId);
    await backfill(sql, account.connectionId, account.userAccountId);
    await check(sql, sim, account.subdomain, account.userAccountId, story);
  } finally {
    await account.remove();
    await sim.stop();
    await sql.end();
  }
}

Deno.test({
  name:
    "a backfill bounds its scan by amoCRM's clock: an amoCRM clock 6 h ahead of ours still imports every deal",
  ignore: NO_STACK,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withConnectedStory(6 * 3_600_000, async (sql, sim, subdomain, userAccountId, story) => {
      const ids = Object.values(story.deals);
      const stored = await sql<{ id: number; status_id: number }[]>`
        select amocrm_lead_id::int as id, status_id from public.amocrm_deals
        where user_account_id = ${userAccountId} and amocrm_lead_id in ${sql(ids)} order by 1`;
      assert.deepEqual(
        [...stored],
        ids.sort((a, b) => a - b).map((id) => ({ id, status_id: sim.getLead(subdomain, id)!.status_id })),
        "every deal is imported, in its current stage",
      );
      const [run] = await sql<{ to: number; high_water: number }[]>`
        select (cursor ->> 'to')::bigint::int as to, (cursor ->> 'high_water')::bigint::int as high_water
        from amocrm.sync_runs where user_account_id = ${userAccountId} and kind = 'backfill'`;
      assert.ok(run.to > Math.floor(Date.now() / 1000) + 3 * 3600, "the bound is a time on amoCRM's clock");
      assert.equal(run.high_water, run.to, "and the next reconcile starts from it");
    }),
});

Deno.test({
  name:
    "a backfill reads the status history: deals that passed the qualified stage before the connect are qualified",
  ignore: NO_STACK,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withConnectedStory(0, async (sql, _sim, _subdomain, userAccountId, story) => {
      const qualified = async (id: number) => {
        const [row] = await sql<{ q: boolean }[]>`
          select is_qualified as q from public.amocrm_deals
          where user_account_id = ${userAccountId} and amocrm_lead_id = ${id}`;
        return row?.q;
      };
      assert.equal(
        await qualified(story.deals.backAfterQualified),
        true,
        "moved back after the qualified stage",
      );
      assert.equal(await qualified(story.deals.lostAfterQualified), true, "lost after the qualified stage");
      assert.equal(await qualified(story.deals.backAfterPassing), true, "moved back after passing it");
      assert.equal(await qualified(story.deals.neverQualified), false, "never reached it");
      const [{ n }] = await sql<{ n: number }[]>`
        select count(*)::int as n from public.amocrm_lead_status_history
        where user_account_id = ${userAccountId} and amocrm_lead_id = ${story.deals.lostAfterQualified}`;
      assert.ok(n >= 3, `the lost deal's history has its moves from before the connect (${n} rows)`);
      const [run] = await sql<{ events_high_water: number; to: number }[]>`
        select (cursor ->> 'events_high_water')::bigint::int as events_high_water, (cursor ->> 'to')::bigint::int as to
        from amocrm.sync_runs where user_account_id = ${userAccountId} and kind = 'backfill'`;
      assert.equal(run.events_high_water, run.to, "the events were read up to the backfill's start");
    }),
});
