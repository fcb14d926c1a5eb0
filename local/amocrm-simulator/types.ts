/** Internal domain model of the simulated amoCRM accounts (REST/webhook shapes live in rest_views / webhook_payload). */

export interface Status {
  id: number;
  name: string;
  sort: number;
  is_editable: boolean;
  pipeline_id: number;
  color: string;
  /** 1 = "unsorted" (Неразобранное), 0 = everything else. */
  type: 0 | 1;
}

export interface Pipeline {
  id: number;
  name: string;
  sort: number;
  is_main: boolean;
  is_unsorted_on: boolean;
  is_archive: boolean;
  statuses: Status[];
}

/** What createAccount accepts to shape an account's pipelines (the unsorted, 142 and 143 stages are added). */
export interface PipelineSpec {
  name: string;
  stages: string[];
}

export interface CustomFieldValue {
  value: string;
  enum_id?: number;
  enum_code?: string;
}

export interface CustomField {
  field_id: number;
  field_name: string;
  field_code: string | null;
  field_type: string;
  values: CustomFieldValue[];
}

export interface StatusChange {
  /** Unix seconds. */
  at: number;
  from_status_id: number | null;
  from_pipeline_id: number | null;
  to_status_id: number;
  to_pipeline_id: number;
}

export interface Lead {
  id: number;
  name: string;
  /** The exact amount, kopecks included (REST `price_with_minor_units`); REST and webhook `price` truncate it. */
  price: number;
  responsible_user_id: number;
  status_id: number;
  pipeline_id: number;
  loss_reason_id: number | null;
  created_by: number;
  updated_by: number;
  created_at: number;
  updated_at: number;
  closed_at: number | null;
  is_deleted: boolean;
  custom_fields: CustomField[];
  contacts: { id: number; is_main: boolean }[];
  tags: { id: number; name: string }[];
  account_id: number;
  history: StatusChange[];
}

export interface Contact {
  id: number;
  name: string;
  first_name: string;
  last_name: string;
  responsible_user_id: number;
  created_by: number;
  updated_by: number;
  created_at: number;
  updated_at: number;
  is_deleted: boolean;
  /** Phone values exactly as typed (any format, even junk). */
  phones: string[];
  lead_ids: number[];
  account_id: number;
}

export interface CrmEvent {
  id: string;
  type: string;
  entity_id: number;
  entity_type: "lead" | "contact";
  created_by: number;
  created_at: number;
  value_before: unknown[];
  value_after: unknown[];
  account_id: number;
}

/** A nested form value as PHP would build it: every leaf is a string. */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormObject = { [key: string]: FormValue };

export type WebhookGroup = "leads" | "contacts";

/** One entity change as amoCRM reports it in a webhook: group + action + the string-valued snapshot. */
export interface ChangeRecord {
  group: WebhookGroup;
  action: "add" | "update" | "status" | "delete" | "restore" | "responsible";
  entity: FormObject;
}

export interface Webhook {
  id: number;
  destination: string;
  settings: string[];
  sort: number;
  disabled: boolean;
  created_at: number;
  updated_at: number;
  created_by: number;
  /** Sim ms of invalid answers within the last 2 hours (the auto-disable rule). */
  invalidAnswers: number[];
}
