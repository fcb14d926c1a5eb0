import type { Account } from "./account.ts";
import type { Contact, CrmEvent, Lead, Pipeline, Webhook } from "./types.ts";

/** REST v4 JSON shapes (real JSON numbers, HAL links with absolute URLs). */

const link = (href: string) => ({ self: { href } });

export const LOSS_REASON_NAMES = ["Дорого", "Не дозвонились", "Купил у конкурента"];

export function leadJson(
  account: Account,
  lead: Lead,
  withContacts: boolean,
  withLossReason = false,
): Record<string, unknown> {
  const embedded: Record<string, unknown> = { tags: lead.tags.map((tag) => ({ ...tag })), companies: [] };
  // `with=loss_reason` (amoCRM "Сделки" page): the reason's id and name. The docs do not show whether it is an
  // object or a list; like the official PHP SDK's LeadModel reads it, a list of one.
  if (withLossReason && lead.loss_reason_id !== null) {
    const index = account.lossReasonIds.indexOf(lead.loss_reason_id);
    embedded.loss_reason = [{
      id: lead.loss_reason_id,
      name: index === -1
        ? `Причина ${lead.loss_reason_id}`
        : LOSS_REASON_NAMES[index % LOSS_REASON_NAMES.length],
    }];
  }
  if (withContacts) {
    embedded.contacts = lead.contacts.map((contact) => ({
      id: contact.id,
      is_main: contact.is_main,
      _links: link(`${account.baseUrl}/api/v4/contacts/${contact.id}`),
    }));
  }
  return {
    id: lead.id,
    name: lead.name,
    // Since April 2026 the lead model carries price_with_minor_units (e.g. 100.50); the legacy integer price
    // truncates it (100.5 → 100, 0.1 → 0). Reference §7 "Minor units", amocrm-api-php LeadModel.
    price: Math.trunc(lead.price),
    price_with_minor_units: lead.price,
    responsible_user_id: lead.responsible_user_id,
    group_id: 0,
    status_id: lead.status_id,
    pipeline_id: lead.pipeline_id,
    loss_reason_id: lead.loss_reason_id,
    created_by: lead.created_by,
    updated_by: lead.updated_by,
    created_at: lead.created_at,
    updated_at: lead.updated_at,
    closed_at: lead.closed_at,
    closest_task_at: null,
    is_deleted: lead.is_deleted,
    custom_fields_values: lead.custom_fields.length > 0 ? structuredClone(lead.custom_fields) : null,
    score: null,
    account_id: lead.account_id,
    labor_cost: null,
    _links: link(`${account.baseUrl}/api/v4/leads/${lead.id}`),
    _embedded: embedded,
  };
}

/**
 * A lead in the trash as `GET /api/v4/leads?with=only_deleted` returns it. amoCRM's "Сделки" API page
 * (amocrm.ru/developers/content/crm_platform/leads-api, `with` = only_deleted) says the model then carries
 * only id, updated_at, updated_by and is_deleted = true: no stage, no pipeline, no price, no contacts.
 */
export function trashLeadJson(account: Account, lead: Lead): Record<string, unknown> {
  return {
    id: lead.id,
    updated_at: lead.updated_at,
    updated_by: lead.updated_by,
    is_deleted: true,
    _links: link(`${account.baseUrl}/api/v4/leads/${lead.id}`),
  };
}

export function contactJson(account: Account, contact: Contact, withLeads: boolean): Record<string, unknown> {
  const embedded: Record<string, unknown> = { tags: [], companies: [] };
  if (withLeads) {
    embedded.leads = contact.lead_ids.map((id) => ({
      id,
      _links: link(`${account.baseUrl}/api/v4/leads/${id}`),
    }));
  }
  return {
    id: contact.id,
    name: contact.name,
    first_name: contact.first_name,
    last_name: contact.last_name,
    responsible_user_id: contact.responsible_user_id,
    group_id: 0,
    created_by: contact.created_by,
    updated_by: contact.updated_by,
    created_at: contact.created_at,
    updated_at: contact.updated_at,
    closest_task_at: null,
    is_deleted: contact.is_deleted,
    is_unsorted: false,
    custom_fields_values: contact.phones.length > 0
      ? [{
        field_id: account.phoneField.id,
        field_name: "Телефон",
        field_code: "PHONE",
        field_type: "multitext",
        // The "Контакты" page's read example names the enum code `enum`; other examples say `enum_code`.
        values: contact.phones.map((value) => ({
          value,
          enum_id: account.phoneField.enumId,
          [account.modes.phoneEnumKey]: "WORK",
        })),
      }]
      : null,
    account_id: contact.account_id,
    _links: link(`${account.baseUrl}/api/v4/contacts/${contact.id}`),
    _embedded: embedded,
  };
}

export function pipelineJson(account: Account, pipeline: Pipeline): Record<string, unknown> {
  const pipelineUrl = `${account.baseUrl}/api/v4/leads/pipelines/${pipeline.id}`;
  return {
    id: pipeline.id,
    name: pipeline.name,
    sort: pipeline.sort,
    is_main: pipeline.is_main,
    is_unsorted_on: pipeline.is_unsorted_on,
    is_archive: pipeline.is_archive,
    account_id: account.id,
    _links: link(pipelineUrl),
    _embedded: {
      statuses: pipeline.statuses.map((status) => ({
        id: status.id,
        name: status.name,
        sort: status.sort,
        is_editable: status.is_editable,
        pipeline_id: status.pipeline_id,
        color: status.color,
        type: status.type,
        account_id: account.id,
        _links: link(`${pipelineUrl}/statuses/${status.id}`),
      })),
    },
  };
}

export function eventJson(account: Account, event: CrmEvent): Record<string, unknown> {
  const entityUrl = `${account.baseUrl}/api/v4/${event.entity_type}s/${event.entity_id}`;
  return {
    id: event.id,
    type: event.type,
    entity_id: event.entity_id,
    entity_type: event.entity_type,
    created_by: event.created_by,
    created_at: event.created_at,
    value_after: structuredClone(event.value_after),
    value_before: structuredClone(event.value_before),
    account_id: event.account_id,
    _links: link(`${account.baseUrl}/api/v4/events/${event.id}`),
    _embedded: { entity: { id: event.entity_id, _links: link(entityUrl) } },
  };
}

export function webhookJson(account: Account, webhook: Webhook): Record<string, unknown> {
  return {
    id: webhook.id,
    destination: webhook.destination,
    created_at: webhook.created_at,
    updated_at: webhook.updated_at,
    account_id: account.id,
    created_by: webhook.created_by,
    sort: webhook.sort,
    disabled: webhook.disabled,
    settings: [...webhook.settings],
  };
}
