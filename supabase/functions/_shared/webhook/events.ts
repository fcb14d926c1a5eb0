// Decoded, validated body → canonical events, the shape private.receive_webhook stores and the apply step reads:
// {entity, action, amocrm_id, amocrm_ts, payload}. One event per entity per action: leads before contacts,
// actions in a fixed order (add, update, status, delete, restore, responsible), entities in body order. The
// apply step orders by amocrm_ts and breaks ties by content, so the order between actions carries no meaning.
import type { ContactEntity, LeadEntity, WebhookBody } from "./schemas.ts";

export const LEAD_ACTIONS = ["add", "update", "status", "delete", "restore", "responsible"] as const;
export const CONTACT_ACTIONS = ["add", "update"] as const;

export type LeadAction = typeof LEAD_ACTIONS[number];
export type ContactAction = typeof CONTACT_ACTIONS[number];

export type CanonicalEvent =
  | {
    entity: "lead";
    action: LeadAction;
    amocrm_id: number;
    amocrm_ts: number;
    payload: Record<string, unknown>;
  }
  | {
    entity: "contact";
    action: ContactAction;
    amocrm_id: number;
    amocrm_ts: number;
    payload: Record<string, unknown>;
  };

export interface EventMapping {
  events: CanonicalEvent[];
  /** Companies arrive in the `contacts` group with type=company; we have no use for them. */
  ignoredCompanies: number;
  /** Groups/actions present in the body that produce no events, e.g. "task.add", "leads.note". */
  ignored: string[];
}

// The newest amoCRM timestamp an entity carries, in order of preference.
const TIMESTAMP_FIELDS = ["updated_at", "last_modified", "created_at", "date_create"] as const;

/**
 * Unix seconds of the entity's state at amoCRM, or 0 when it carries none (delete events, Digital Pipeline
 * events): the SQL reads 0 as "no amoCRM timestamp".
 */
export function amocrmTimestamp(entity: Record<string, unknown>): number {
  for (const field of TIMESTAMP_FIELDS) {
    const value = entity[field];
    if (value !== undefined && value !== null && value !== "") return Number(value);
  }
  return 0;
}

const isLeadAction = (action: string): action is LeadAction =>
  (LEAD_ACTIONS as readonly string[]).includes(action);
const isContactAction = (action: string): action is ContactAction =>
  (CONTACT_ACTIONS as readonly string[]).includes(action);

export function toCanonicalEvents(body: WebhookBody): EventMapping {
  const events: CanonicalEvent[] = [];
  const ignored: string[] = [];
  let ignoredCompanies = 0;

  for (const [group, actions] of Object.entries(body)) {
    if (group === "account") continue;
    if (group !== "leads" && group !== "contacts") {
      ignored.push(group);
      continue;
    }
    for (const [action, entities] of Object.entries(actions as Record<string, unknown>)) {
      if (group === "leads" && isLeadAction(action)) {
        for (const lead of entities as LeadEntity[]) {
          events.push({ entity: "lead", action, ...identity(lead), payload: lead });
        }
      } else if (group === "contacts" && isContactAction(action)) {
        for (const contact of entities as ContactEntity[]) {
          if (contact.type === "company") {
            ignoredCompanies++;
            continue;
          }
          events.push({ entity: "contact", action, ...identity(contact), payload: contact });
        }
      } else {
        ignored.push(`${group}.${action}`);
      }
    }
  }
  return { events, ignoredCompanies, ignored };
}

function identity(entity: { id: string | number } & Record<string, unknown>) {
  return { amocrm_id: Number(entity.id), amocrm_ts: amocrmTimestamp(entity) };
}

/**
 * The phone numbers of a contact payload exactly as typed (the PHONE field's values), in order. Normalizing
 * them is the database's job (private.normalize_phone).
 */
export function contactPhones(payload: Record<string, unknown>): string[] {
  const phones: string[] = [];
  const fields = Array.isArray(payload.custom_fields) ? payload.custom_fields : [];
  for (const field of fields) {
    if (field === null || typeof field !== "object" || (field as { code?: unknown }).code !== "PHONE") {
      continue;
    }
    const values = (field as { values?: unknown }).values;
    for (const value of Array.isArray(values) ? values : []) {
      const text = typeof value === "string"
        ? value
        : value !== null && typeof value === "object"
        ? (value as { value?: unknown }).value
        : undefined;
      if (typeof text === "string" && text.trim() !== "") phones.push(text.trim());
    }
  }
  return phones;
}
