// zod schemas for amoCRM API v4 responses. Loose objects: amoCRM adds fields over time and the sync layer may
// want to keep the raw entity, so unknown keys are kept, never rejected. Only what we rely on is required.
import { z } from "zod";

const int = z.number().int();
/** amoCRM sends null for "not set" (closed_at, loss_reason_id, custom_fields_values …). */
const optInt = int.nullish();
const link = z.looseObject({ href: z.string() });
const links = z.looseObject({ self: link.nullish(), next: link.nullish() }).nullish();

export const customFieldValueSchema = z.looseObject({
  value: z.unknown().optional(),
  enum_id: optInt,
  // Read docs disagree between `enum` and `enum_code`: accept both.
  enum: z.union([z.string(), z.number()]).nullish(),
  enum_code: z.string().nullish(),
});

export const customFieldSchema = z.looseObject({
  field_id: int,
  field_name: z.string().nullish(),
  field_code: z.string().nullish(),
  field_type: z.string().nullish(),
  values: z.array(customFieldValueSchema).nullish(),
});

export const tagSchema = z.looseObject({ id: int, name: z.string().nullish() });

/**
 * A lead. A lead in the trash (`with=only_deleted`) is documented to carry only id, updated_at, updated_by and
 * is_deleted = true (amoCRM's leads API page), so the stage is required of live leads only.
 */
export const leadSchema = z.looseObject({
  id: int,
  name: z.string().nullish(),
  /** The legacy integer price: truncates the amount (100.5 → 100). */
  price: z.number().nullish(),
  /** The exact amount (since April 2026), read in SQL (private.lead_amount) in preference to price. */
  price_with_minor_units: z.union([z.number(), z.string()]).nullish(),
  responsible_user_id: optInt,
  group_id: optInt,
  status_id: optInt,
  pipeline_id: optInt,
  loss_reason_id: optInt,
  created_by: optInt,
  updated_by: optInt,
  created_at: optInt,
  updated_at: int,
  closed_at: optInt,
  closest_task_at: optInt,
  is_deleted: z.boolean().nullish(),
  custom_fields_values: z.array(customFieldSchema).nullish(),
  account_id: optInt,
  _embedded: z.looseObject({
    tags: z.array(tagSchema).nullish(),
    contacts: z.array(z.looseObject({ id: int, is_main: z.boolean().nullish() })).nullish(),
  }).nullish(),
}).superRefine((lead, ctx) => {
  if (lead.is_deleted === true) return;
  for (const key of ["status_id", "pipeline_id"] as const) {
    if (typeof lead[key] !== "number") {
      ctx.addIssue({ code: "custom", path: [key], message: "a live lead needs an integer " + key });
    }
  }
});
export type AmoLead = z.infer<typeof leadSchema>;

export const contactSchema = z.looseObject({
  id: int,
  name: z.string().nullish(),
  first_name: z.string().nullish(),
  last_name: z.string().nullish(),
  responsible_user_id: optInt,
  created_by: optInt,
  updated_by: optInt,
  created_at: optInt,
  updated_at: optInt,
  is_deleted: z.boolean().nullish(),
  custom_fields_values: z.array(customFieldSchema).nullish(),
  account_id: optInt,
  _embedded: z.looseObject({
    tags: z.array(tagSchema).nullish(),
    leads: z.array(z.looseObject({ id: int })).nullish(),
  }).nullish(),
});
export type AmoContact = z.infer<typeof contactSchema>;

export const pipelineStatusSchema = z.looseObject({
  id: int,
  name: z.string(),
  sort: optInt,
  is_editable: z.boolean().nullish(),
  pipeline_id: int,
  color: z.string().nullish(),
  /** 0 = regular, 1 = "unsorted". 142/143 (won/lost) repeat in every pipeline: key by (pipeline_id, id). */
  type: optInt,
  account_id: optInt,
});
export type AmoPipelineStatus = z.infer<typeof pipelineStatusSchema>;

export const pipelineSchema = z.looseObject({
  id: int,
  name: z.string(),
  sort: optInt,
  is_main: z.boolean().nullish(),
  is_unsorted_on: z.boolean().nullish(),
  is_archive: z.boolean().nullish(),
  account_id: optInt,
  _embedded: z.looseObject({ statuses: z.array(pipelineStatusSchema).nullish() }).nullish(),
});
export type AmoPipeline = z.infer<typeof pipelineSchema>;

/**
 * GET /api/v4/account?with=datetime_settings: the account id, its currency (in the SDK's AccountModel, not in
 * the RU docs' table) and `_embedded.datetime_settings.timezone` (e.g. "Europe/Moscow").
 */
export const accountSchema = z.looseObject({
  id: int,
  subdomain: z.string().nullish(),
  currency: z.string().nullish(),
  currency_symbol: z.string().nullish(),
  _embedded: z.looseObject({
    datetime_settings: z.looseObject({
      timezone: z.string().nullish(),
      timezone_offset: z.string().nullish(),
    }).nullish(),
  }).nullish(),
});
export type AmoAccount = z.infer<typeof accountSchema>;

export const eventSchema = z.looseObject({
  // Documented as a string; tolerate a number and normalise.
  id: z.union([z.string(), z.number()]).transform(String),
  type: z.string(),
  entity_id: int,
  entity_type: z.string(),
  created_by: optInt,
  created_at: int,
  value_before: z.array(z.record(z.string(), z.unknown())).nullish(),
  value_after: z.array(z.record(z.string(), z.unknown())).nullish(),
  account_id: optInt,
});
export type AmoEvent = z.infer<typeof eventSchema>;

export const webhookSchema = z.looseObject({
  id: optInt,
  destination: z.string(),
  created_at: optInt,
  updated_at: optInt,
  account_id: optInt,
  created_by: optInt,
  sort: optInt,
  disabled: z.boolean().nullish(),
  settings: z.array(z.string()).nullish(),
});
export type AmoWebhook = z.infer<typeof webhookSchema>;

export const tokenResponseSchema = z.looseObject({
  token_type: z.string().nullish(),
  expires_in: z.number().positive(),
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
});
export type AmoTokenResponse = z.infer<typeof tokenResponseSchema>;

/** A HAL list page: `{_page, _links:{next}, _embedded:{<key>:[…]}}`. */
export function listPageSchema<T extends z.ZodType>(embeddedKey: string, item: T) {
  return z.looseObject({
    _page: optInt,
    _total_items: optInt,
    _links: links,
    _embedded: z.looseObject({ [embeddedKey]: z.array(item) }),
  });
}

export const leadsPageSchema = listPageSchema("leads", leadSchema);
export const contactsPageSchema = listPageSchema("contacts", contactSchema);
export const pipelinesPageSchema = listPageSchema("pipelines", pipelineSchema);
export const eventsPageSchema = listPageSchema("events", eventSchema);
export const webhooksPageSchema = listPageSchema("webhooks", webhookSchema);
