import type { WebhookLayout } from "./account_modes.ts";
import type { ChangeRecord, Contact, CustomField, FormObject, FormValue, Lead } from "./types.ts";

/** The account block of a body (which parts of it are sent, and where, depends on the layout). */
export interface WebhookAccount {
  subdomain: string;
  id: number;
  /** `https://<sub>.amocrm.ru` (Kommo: `.amocrm.com`), as the captures show: never the API host we call. */
  selfUrl: string;
}

/** `account[_links][self]` of the captured 2022–2025 bodies (add_lead.2025.form: https://unirock.amocrm.ru). */
export function accountSelfUrl(subdomain: string, kommo: boolean): string {
  return `https://${subdomain}.amocrm.${kommo ? "com" : "ru"}`;
}

const str = (
  value: number | string | null | undefined,
): string => (value === null || value === undefined ? "" : String(value));

function customFieldsForm(fields: CustomField[]): FormValue[] {
  return fields.map((field) => {
    const entry: FormObject = { id: str(field.field_id), name: field.field_name };
    entry.values = field.values.map((value): FormValue =>
      // Date fields arrive as a bare value, text/select fields as {value, enum}.
      field.field_type === "date"
        ? value.value
        : value.enum_id === undefined
        ? { value: value.value }
        : { value: value.value, enum: str(value.enum_id) }
    );
    if (field.field_code) entry.code = field.field_code;
    return entry;
  });
}

/** Lead snapshot in the field order of the captured 2025 bodies (tests/fixtures/amocrm/webhooks/*_lead.2025.form). */
export function leadWebhookEntity(
  lead: Lead,
  modifiedBy: number,
  extra: { oldStatusId?: number } = {},
): FormObject {
  const entity: FormObject = {
    id: str(lead.id),
    name: lead.name,
    status_id: str(lead.status_id),
    // Captured bodies carry only the legacy integer price; whether webhooks carry price_with_minor_units is
    // undocumented, so they do not here.
    price: str(Math.trunc(lead.price)),
    responsible_user_id: str(lead.responsible_user_id),
    last_modified: str(lead.updated_at),
    modified_user_id: str(modifiedBy),
    created_user_id: str(lead.created_by),
    date_create: str(lead.created_at),
    pipeline_id: str(lead.pipeline_id),
    account_id: str(lead.account_id),
  };
  if (lead.custom_fields.length > 0) entity.custom_fields = customFieldsForm(lead.custom_fields);
  // Lead tags: tags[j][id|name] (field list of amoCRM's webhooks page).
  if (lead.tags.length > 0) entity.tags = lead.tags.map((tag) => ({ id: str(tag.id), name: tag.name }));
  entity.created_at = str(lead.created_at);
  entity.updated_at = str(lead.updated_at);
  // Status events carry old_status_id but never old_pipeline_id (that only exists in Digital Pipeline hooks).
  if (extra.oldStatusId !== undefined) entity.old_status_id = str(extra.oldStatusId);
  return entity;
}

/** Delete events carry only id, status_id and pipeline_id. */
export function deletedLeadWebhookEntity(lead: Lead): FormObject {
  return { id: str(lead.id), status_id: str(lead.status_id), pipeline_id: str(lead.pipeline_id) };
}

/** Contact snapshot in the field order of the documented add_contact body. */
export function contactWebhookEntity(
  contact: Contact,
  modifiedBy: number,
  phoneField: { id: number; enumId: number },
): FormObject {
  const entity: FormObject = {
    id: str(contact.id),
    name: contact.name,
    responsible_user_id: str(contact.responsible_user_id),
    date_create: str(contact.created_at),
    last_modified: str(contact.updated_at),
    created_user_id: str(contact.created_by),
    modified_user_id: str(modifiedBy),
    account_id: str(contact.account_id),
  };
  if (contact.phones.length > 0) {
    entity.custom_fields = [{
      id: str(phoneField.id),
      name: "Телефон",
      values: contact.phones.map((phone) => ({ value: phone, enum: str(phoneField.enumId) })),
      code: "PHONE",
    }];
  }
  if (contact.lead_ids.length > 0) {
    const linked: FormObject = {};
    for (const leadId of contact.lead_ids) linked[String(leadId)] = { ID: String(leadId) };
    entity.linked_leads_id = linked;
  }
  entity.created_at = str(contact.created_at);
  entity.updated_at = str(contact.updated_at);
  entity.type = "contact";
  return entity;
}

/** The webhook setting that subscribes to a change, e.g. leads/status → "status_lead". */
export function settingFor(change: Pick<ChangeRecord, "group" | "action">): string {
  return `${change.action}_${change.group === "leads" ? "lead" : "contact"}`;
}

/** Contact `group_id` (the user group), seen in some real bodies though in none of our captures. */
function withGroupId(entity: FormObject): FormObject {
  const out: FormObject = {};
  for (const [key, value] of Object.entries(entity)) {
    out[key] = value;
    if (key === "responsible_user_id") out.group_id = "0";
  }
  return out;
}

/** Fields the 2016–2018 captures do not have (status_lead.2016.form, add_contact.2016.form). */
const LEGACY_ABSENT: Record<ChangeRecord["group"], string[]> = {
  leads: ["created_at", "updated_at"],
  contacts: ["created_at", "updated_at", "account_id"],
};

/**
 * One POST body in one of the captured layouts: groups and actions in the order they happened, several
 * entities per action when changes were batched, and the account block
 *   modern        first: subdomain, id, _links[self] (add_lead.2025.form, update_lead.2025.form)
 *   account_last  the same block last (a 2022 capture)
 *   legacy        only account[subdomain], last, and entities without created_at/updated_at (*.2016.form)
 */
export function buildWebhookBody(
  account: WebhookAccount,
  changes: ChangeRecord[],
  layout: WebhookLayout = "modern",
  opts: { contactGroupId?: boolean } = {},
): FormObject {
  const block: FormObject = layout === "legacy"
    ? { subdomain: account.subdomain }
    : { subdomain: account.subdomain, id: String(account.id), _links: { self: account.selfUrl } };
  const body: FormObject = layout === "modern" ? { account: block } : {};
  for (const change of changes) {
    const group = (body[change.group] ??= {}) as { [action: string]: FormValue[] };
    let entity = change.entity;
    if (layout === "legacy") {
      entity = { ...entity };
      for (const key of LEGACY_ABSENT[change.group]) delete entity[key];
    }
    if (opts.contactGroupId && change.group === "contacts") entity = withGroupId(entity);
    (group[change.action] ??= []).push(entity);
  }
  if (layout !== "modern") body.account = block;
  return body;
}
