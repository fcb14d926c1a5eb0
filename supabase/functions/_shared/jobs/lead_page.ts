// One page of amoCRM leads into the deal mirror, the way reconciliation and backfill both need it: the main
// contacts' phones read in bulk (250 per call), then the whole page applied in one SQL call through the same
// path as the API confirmation (private.apply_deal_snapshot), each lead reported as healed / applied / stale.
import type { AmoCrmClient, AmoLead, Sql } from "../amocrm/mod.ts";
import { contactPhone, mainContactId } from "./confirm_deals.ts";

export interface LeadPageResult {
  leads: number;
  /** Deals whose stored stage, price or deletion this page changed (or that were missing). */
  healed: number[];
  /** Leads that could not be applied (each rolled back alone), with the reason. */
  errors: { id: number; updatedAt: number; error: string }[];
  outcomes: Record<string, number>;
}

/** Raw PHONE of each lead's main contact, keyed by lead id (leads without one are left out). */
export async function mainContactPhones(
  client: AmoCrmClient,
  leads: AmoLead[],
): Promise<Record<string, string>> {
  const contactIds = [...new Set(leads.map(mainContactId).filter((id): id is number => id !== undefined))];
  if (contactIds.length === 0) return {};
  const contacts = new Map((await client.getContactsByIds(contactIds)).map((c) => [c.id, c]));
  const phones: Record<string, string> = {};
  for (const lead of leads) {
    const phone = contactPhone(contacts.get(mainContactId(lead) ?? -1));
    if (phone !== undefined) phones[String(lead.id)] = phone;
  }
  return phones;
}

/** `readAt`: when the read of `leads` began (deletion is ordered by it; see private.observe_deletion). */
export async function applyLeadPage(
  sql: Sql,
  client: AmoCrmClient,
  userAccountId: string,
  leads: AmoLead[],
  readAt: Date,
): Promise<LeadPageResult> {
  const result: LeadPageResult = { leads: leads.length, healed: [], errors: [], outcomes: {} };
  if (leads.length === 0) return result;
  const phones = await mainContactPhones(client, leads);
  const rows = await sql<{ deal_id: string; outcome: string }[]>`
    select deal_id::text, outcome
    from private.reconcile_deal_snapshots(${userAccountId}, ${sql.json(leads as never)}, ${
    sql.json(phones)
  }, 'api', ${readAt})`;
  const updatedAt = new Map(leads.map((lead) => [lead.id, lead.updated_at]));
  for (const row of rows) {
    const id = Number(row.deal_id);
    const kind = row.outcome.startsWith("error") ? "error" : row.outcome;
    result.outcomes[kind] = (result.outcomes[kind] ?? 0) + 1;
    if (row.outcome === "healed") result.healed.push(id);
    if (kind === "error") result.errors.push({ id, updatedAt: updatedAt.get(id) ?? 0, error: row.outcome });
  }
  return result;
}
