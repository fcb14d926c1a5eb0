// What the ad-buying product writes on its side: directions, creatives, the leads it sent to amoCRM (with
// amocrm_lead_id and the client's phone or WhatsApp chat id) and daily ad spend. Used by the demo and tests.
import type postgres from "postgres";
import type { ProductLead } from "../amocrm-simulator/mod.ts";

export interface ProductIds {
  /** amoCRM lead id → public.leads.id */
  leadIds: Map<number, number>;
  /** scenario creative index → public.creatives.id */
  creativeIds: Map<number, string>;
}

export async function insertProductLeads(
  sql: postgres.Sql,
  userAccountId: string,
  product: ProductLead[],
): Promise<ProductIds> {
  const directions = new Map<number, string>();
  const creativeIds = new Map<number, string>();
  for (const lead of product) {
    if (!directions.has(lead.direction_index)) {
      const [{ id }] = await sql`
        insert into public.directions (user_account_id, name)
        values (${userAccountId}, ${`Direction ${lead.direction_index + 1}`}) returning id`;
      directions.set(lead.direction_index, id);
    }
    if (!creativeIds.has(lead.creative_index)) {
      const [{ id }] = await sql`
        insert into public.creatives (user_account_id, direction_id, name)
        values (${userAccountId}, ${directions.get(lead.direction_index)!}, ${`Creative ${
        lead.creative_index + 1
      }`})
        returning id`;
      creativeIds.set(lead.creative_index, id);
    }
  }
  const leadIds = new Map<number, number>();
  for (const lead of product) {
    const [{ id }] = await sql`
      insert into public.leads (user_account_id, creative_id, direction_id, phone, chat_id, amocrm_lead_id,
        amocrm_contact_id, created_at)
      values (${userAccountId}, ${creativeIds.get(lead.creative_index)!}, ${directions.get(
      lead.direction_index,
    )!},
        ${lead.phone}, ${lead.chat_id}, ${lead.amocrm_lead_id}, ${lead.amocrm_contact_id}, to_timestamp(${lead.created_at}))
      returning id`;
    leadIds.set(lead.amocrm_lead_id, Number(id));
  }
  return { leadIds, creativeIds };
}

/** Daily spend per creative over the scenario's days, deterministic per creative. */
export async function insertAdSpend(
  sql: postgres.Sql,
  userAccountId: string,
  creativeIds: Map<number, string>,
  from: Date,
  days: number,
): Promise<void> {
  for (const [index, creativeId] of creativeIds) {
    const base = 15_000 + 7_000 * index;
    await sql`
      insert into public.ad_spend_daily (user_account_id, creative_id, spend_date, amount, currency)
      select ${userAccountId}, ${creativeId}, ${from.toISOString()}::date + d, ${base} + (d % 3) * 2500, 'RUB'
      from generate_series(0, ${days - 1}) d
      on conflict (creative_id, spend_date, currency) do nothing`;
  }
}
