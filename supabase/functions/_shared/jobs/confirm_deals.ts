// confirm_deals: money events (won, lost, reopened, price edits) are never trusted from the webhook. The
// deals are re-read from the API in bulk — leads 250 per call with their contacts, then the main contacts
// 250 per call — instead of one lead GET + one contact GET per deal (requirements: Q3), and applied as snapshots.
import type { AmoContact, AmoCrmClient, AmoLead, Sql } from "../amocrm/mod.ts";
import { readStartedAt } from "./read_clock.ts";

export interface ConfirmResult {
  requested: number;
  confirmed: number;
  missing: number;
  outcomes: Record<string, number>;
}

/** The main contact of a lead (is_main, else the first one). */
export function mainContactId(lead: AmoLead): number | undefined {
  const contacts = (lead._embedded?.contacts ?? []) as { id: number; is_main?: boolean | null }[];
  return (contacts.find((c) => c.is_main) ?? contacts[0])?.id;
}

/** The first PHONE value of a contact, as typed (normalized in SQL). */
export function contactPhone(contact: AmoContact | undefined): string | undefined {
  const fields = (contact?.custom_fields_values ?? []) as {
    field_code?: string | null;
    values?: { value?: unknown }[];
  }[];
  for (const field of fields) {
    if (field.field_code !== "PHONE") continue;
    const value = field.values?.find((v) => typeof v.value === "string" && v.value.trim() !== "")?.value;
    if (typeof value === "string") return value;
  }
  return undefined;
}

export async function confirmDeals(
  sql: Sql,
  client: AmoCrmClient,
  userAccountId: string,
  ids: number[],
): Promise<ConfirmResult> {
  const unique = [...new Set(ids)];
  // Deletion is ordered by when a read began: a delete webhook stored after this moment wins over it.
  const readAt = await readStartedAt(sql);
  const leads = await client.getLeadsByIds(unique, { with: ["contacts"] });
  const contactIds = [...new Set(leads.map(mainContactId).filter((id): id is number => id !== undefined))];
  const contacts = contactIds.length ? await client.getContactsByIds(contactIds) : [];
  const contactsById = new Map(contacts.map((c) => [c.id, c]));

  const outcomes: Record<string, number> = {};
  const count = (outcome: string) => (outcomes[outcome] = (outcomes[outcome] ?? 0) + 1);
  // One short transaction per deal (each statement commits on its own): webhooks for the same deals keep
  // applying meanwhile, and a retry after a failure redoes only idempotent work.
  for (const lead of leads) {
    const phone = contactPhone(contactsById.get(mainContactId(lead) ?? -1));
    const [row] = await sql`
      select private.apply_deal_snapshot(${userAccountId}, ${sql.json(lead as never)}, ${
      phone ?? null
    }, 'api', ${readAt}) as outcome`;
    count(row.outcome);
  }
  const returned = new Set(leads.map((l) => l.id));
  for (const id of unique.filter((id) => !returned.has(id))) {
    const [row] = await sql`select private.mark_deal_missing(${userAccountId}, ${id}, ${readAt}) as outcome`;
    count(`missing:${row.outcome ?? "unchanged"}`);
  }
  return {
    requested: unique.length,
    confirmed: leads.length,
    missing: unique.length - leads.length,
    outcomes,
  };
}
