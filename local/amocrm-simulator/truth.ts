import type { Account } from "./account.ts";
import { normalizeRussianPhone } from "./phone_formats.ts";
import type { StatusChange } from "./types.ts";

/** What amoCRM really holds for a deal: the yardstick a sync must converge to. */
export interface TruthLead {
  id: number;
  /** Scenario ref of a product-created lead; null for deals the product never created. */
  product_ref: number | null;
  pipeline_id: number;
  status_id: number;
  price: number;
  is_deleted: boolean;
  closed_at: number | null;
  created_at: number;
  updated_at: number;
  loss_reason_id: number | null;
  responsible_user_id: number;
  /** Every status change incl. the initial placement (from_* = null), unix seconds. */
  history: StatusChange[];
  main_contact_id: number | null;
  /** Exactly as typed in the contact. */
  main_contact_phone: string | null;
  /** Normalised "79…" digits, null for junk or none. */
  main_contact_phone_digits: string | null;
}

export function accountTruth(
  account: Account,
  productRefs: ReadonlyMap<number, number> = new Map(),
): TruthLead[] {
  return [...account.store.leads.values()].map((lead) => {
    const mainContactId = lead.contacts.find((contact) => contact.is_main)?.id ?? null;
    const phone = mainContactId === null
      ? null
      : account.store.contacts.get(mainContactId)?.phones[0] ?? null;
    return {
      id: lead.id,
      product_ref: productRefs.get(lead.id) ?? null,
      pipeline_id: lead.pipeline_id,
      status_id: lead.status_id,
      price: lead.price,
      is_deleted: lead.is_deleted,
      closed_at: lead.closed_at,
      created_at: lead.created_at,
      updated_at: lead.updated_at,
      loss_reason_id: lead.loss_reason_id,
      responsible_user_id: lead.responsible_user_id,
      history: lead.history.map((change) => ({ ...change })),
      main_contact_id: mainContactId,
      main_contact_phone: phone,
      main_contact_phone_digits: phone === null ? null : normalizeRussianPhone(phone),
    };
  });
}
