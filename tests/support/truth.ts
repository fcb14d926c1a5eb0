// "Does the mirror equal amoCRM?" as a list of differences, shared by every test that plays a simulator
// scenario: each deal's stage, deletion and price; the product lead it is attributed to and that lead's current
// stage; a paid sale for every won deal (with its price) and none for any other; optionally each deal's status
// history and its qualification. An empty list = equal.
import type { TruthLead } from "../../local/amocrm-simulator/mod.ts";
import type { Sql } from "./connected_account.ts";

export interface CompareOptions {
  /** Also compare every deal's status history (stage and time of each transition). */
  history?: boolean;
  /** Also compare every deal's is_qualified with the spec's rule applied to the truth's history. */
  qualification?: boolean;
}

interface StageSort {
  pipeline_id: number;
  status_id: number;
  sort_order: number;
  is_qualified_stage: boolean;
}

/** The qualification rule, restated from the spec: reached or passed a flagged stage (lost never counts), or won. */
export function expectedQualified(lead: TruthLead, stages: StageSort[]): boolean {
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

export async function differencesFromTruth(
  sql: Sql,
  userAccountId: string,
  truth: TruthLead[],
  leadIds: Map<number, number>,
  opts: CompareOptions = {},
): Promise<string[]> {
  const deals = new Map(
    (await sql`
      select amocrm_lead_id::int as id, pipeline_id, status_id, price::float as price, is_deleted, is_qualified,
        lead_id::int
      from public.amocrm_deals where user_account_id = ${userAccountId}`).map((d) => [d.id, d]),
  );
  const sales = new Map(
    (await sql`
      select amocrm_deal_id::int as id, status, amount::float as amount from public.sales
      where user_account_id = ${userAccountId}`).map((s) => [s.id, s]),
  );
  const leads = new Map(
    (await sql`
      select id::int, current_pipeline_id, current_status_id from public.leads
      where user_account_id = ${userAccountId}`).map((l) => [l.id, l]),
  );
  const history = opts.history
    ? await sql`
      select amocrm_lead_id::int as id, to_pipeline_id, to_status_id, extract(epoch from changed_at)::int as at
      from public.amocrm_lead_status_history where user_account_id = ${userAccountId}`
    : [];
  const stages = opts.qualification
    ? await sql<StageSort[]>`
      select pipeline_id, status_id, sort_order, is_qualified_stage from public.amocrm_pipeline_stages
      where user_account_id = ${userAccountId}`
    : [];

  const problems: string[] = [];
  for (const t of truth) {
    const deal = deals.get(t.id);
    if (!deal) {
      problems.push(`deal ${t.id} missing`);
      continue;
    }
    // Webhooks carry only the truncated legacy price and the API returns no amount for a deleted deal (its
    // trash model has only id and update time), so a deal deleted before any API read keeps the integer part.
    const price = t.is_deleted && deal.price === Math.trunc(t.price) ? t.price : deal.price;
    const got = `${deal.pipeline_id}/${deal.status_id} price ${price} deleted ${deal.is_deleted}`;
    const want = `${t.pipeline_id}/${t.status_id} price ${t.price} deleted ${t.is_deleted}`;
    if (got !== want) problems.push(`deal ${t.id}: ${got}, amoCRM has ${want}`);

    const sale = sales.get(t.id);
    if (t.status_id === 142 && !t.is_deleted) {
      if (sale?.status !== "paid" || sale.amount !== t.price) {
        problems.push(`deal ${t.id} won for ${t.price}: sale ${JSON.stringify(sale ?? null)}`);
      }
    } else if (sale?.status === "paid") {
      problems.push(`deal ${t.id} is not won now but its sale is paid`);
    }

    const productLead = t.product_ref === null ? undefined : leadIds.get(t.id);
    if (productLead !== undefined) {
      if (deal.lead_id !== productLead) {
        problems.push(
          `deal ${t.id} is attributed to lead ${deal.lead_id}, not its product lead ${productLead}`,
        );
      }
      const lead = leads.get(productLead);
      if (
        !t.is_deleted &&
        (lead?.current_pipeline_id !== t.pipeline_id || lead?.current_status_id !== t.status_id)
      ) {
        problems.push(
          `lead ${productLead} (deal ${t.id}) shows ${lead?.current_pipeline_id}/${lead?.current_status_id}`,
        );
      }
    }

    if (opts.history) {
      const gotHistory = history.filter((h) => h.id === t.id)
        .map((h) => `${h.to_pipeline_id}/${h.to_status_id}@${h.at}`).sort().join(" ");
      const wantHistory = t.history.map((h) => `${h.to_pipeline_id}/${h.to_status_id}@${h.at}`).sort().join(
        " ",
      );
      if (gotHistory !== wantHistory) {
        problems.push(`deal ${t.id} history: ${gotHistory} | amoCRM: ${wantHistory}`);
      }
    }

    if (opts.qualification && deal.is_qualified !== expectedQualified(t, stages)) {
      problems.push(`deal ${t.id} is_qualified ${deal.is_qualified}, the rule says ${!deal.is_qualified}`);
    }
  }
  return problems;
}
