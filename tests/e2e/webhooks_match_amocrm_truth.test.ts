// End to end: a simulated amoCRM account plays a scenario (stage moves, wins with prices, losses, price edits,
// pipeline moves, deletions and restores, manager-opened deals, bulk edits). Its form-encoded webhooks go over
// HTTP to the amocrm-webhook function on the local functions host, into Postgres; the worker is kicked through
// pg_net and confirms money against the simulator's API. Then every deal, product lead and sale must match
// the simulator's truth.
import assert from "node:assert/strict";
import { startSimulator, type TruthLead } from "../../local/amocrm-simulator/mod.ts";
import {
  connectDb,
  connectSimulatedAccount,
  insertProductLeads,
  type Sql,
  waitUntilSettled,
} from "../support/connected_account.ts";

const FUNCTIONS_URL = Deno.env.get("FUNCTIONS_URL");

interface StageSort {
  pipeline_id: number;
  status_id: number;
  sort_order: number;
  is_qualified_stage: boolean;
}

/** The qualification rule, restated from the spec, applied to the truth's history. */
function expectedQualified(lead: TruthLead, stages: StageSort[]): boolean {
  const minQualified = new Map<number, number>();
  for (const s of stages) {
    if (s.is_qualified_stage) {
      minQualified.set(s.pipeline_id, Math.min(minQualified.get(s.pipeline_id) ?? Infinity, s.sort_order));
    }
  }
  const sortOf = (p: number, st: number) =>
    stages.find((s) => s.pipeline_id === p && s.status_id === st)?.sort_order ?? -1;
  const visited = [...lead.history.map((h) => [h.to_pipeline_id, h.to_status_id]), [
    lead.pipeline_id,
    lead.status_id,
  ]];
  return visited.some(([p, st]) =>
    st === 142 || (st !== 143 && sortOf(p, st) >= (minQualified.get(p) ?? Infinity))
  );
}

async function compareWithTruth(
  sql: Sql,
  userAccountId: string,
  truth: TruthLead[],
  leadIds: Map<number, number>,
) {
  const deals = new Map(
    (await sql`
      select amocrm_lead_id::int as id, pipeline_id, status_id, price::float as price, is_deleted, is_qualified, lead_id::int as lead_id
      from public.amocrm_deals where user_account_id = ${userAccountId}`).map((d) => [d.id, d]),
  );
  const stages = await sql<StageSort[]>`
    select pipeline_id, status_id, sort_order, is_qualified_stage from public.amocrm_pipeline_stages
    where user_account_id = ${userAccountId}`;
  const history = await sql`
    select amocrm_lead_id::int as id, from_pipeline_id, from_status_id, to_pipeline_id, to_status_id,
      extract(epoch from changed_at)::int as at
    from public.amocrm_lead_status_history where user_account_id = ${userAccountId}`;
  const sales = new Map(
    (await sql`
      select amocrm_deal_id::int as id, status, amount::float as amount from public.sales
      where user_account_id = ${userAccountId}`).map((s) => [s.id, s]),
  );
  const leads = new Map(
    (await sql`select id::int, current_pipeline_id, current_status_id, is_qualified from public.leads
      where user_account_id = ${userAccountId}`).map((l) => [l.id, l]),
  );

  let wonDeals = 0;
  for (const t of truth) {
    const deal = deals.get(t.id);
    assert.ok(deal, `deal ${t.id} is mirrored`);
    assert.deepEqual(
      { pipeline: deal.pipeline_id, status: deal.status_id, price: deal.price, deleted: deal.is_deleted },
      { pipeline: t.pipeline_id, status: t.status_id, price: t.price, deleted: t.is_deleted },
      `deal ${t.id} state`,
    );
    const got = history.filter((h) => h.id === t.id).map((h) =>
      `${h.to_pipeline_id}/${h.to_status_id}@${h.at}`
    ).sort();
    const want = t.history.map((h) => `${h.to_pipeline_id}/${h.to_status_id}@${h.at}`).sort();
    assert.deepEqual(got, want, `deal ${t.id} history`);
    assert.equal(deal.is_qualified, expectedQualified(t, stages), `deal ${t.id} qualification`);

    const sale = sales.get(t.id);
    if (t.status_id === 142 && !t.is_deleted) {
      wonDeals++;
      assert.deepEqual(sale && { status: sale.status, amount: sale.amount }, {
        status: "paid",
        amount: t.price,
      }, `deal ${t.id} sale`);
    } else if (sale) {
      assert.notEqual(sale.status, "paid", `deal ${t.id} is not won now, its sale must not count`);
    }

    const productLead = t.product_ref === null ? undefined : leadIds.get(t.id);
    if (productLead !== undefined) {
      const lead = leads.get(productLead)!;
      assert.equal(deal.lead_id, productLead, `deal ${t.id} is attributed to its product lead`);
      if (!t.is_deleted) {
        assert.deepEqual(
          [lead.current_pipeline_id, lead.current_status_id],
          [t.pipeline_id, t.status_id],
          `lead of deal ${t.id}`,
        );
      }
    }
  }
  return { deals: truth.length, wonDeals };
}

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
    });
    const account = await connectSimulatedAccount(sql, sim, {
      functionsUrl: FUNCTIONS_URL!,
      label: "e2e truth",
    });
    try {
      const run = sim.scenario(account.subdomain, {
        leads: 60,
        creatives: 5,
        directions: 2,
        managerDeals: 10,
      });
      const { leadIds } = await insertProductLeads(sql, account.userAccountId, run.product);
      await run.play({ afterStep: () => sim.flushWebhooks({ fastForward: true }) });
      await sim.flushWebhooks({ fastForward: true });
      await waitUntilSettled(sql, account.userAccountId);

      const summary = await compareWithTruth(sql, account.userAccountId, run.truth(), leadIds);
      assert.ok(summary.wonDeals > 0, "the scenario won some deals");
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
