// zod schemas of what we read from a decoded webhook body. Entities stay loose (every other field is kept
// as-is in the payload); only the fields the apply step relies on are checked, so junk is quarantined at
// intake with a reason instead of failing later.
import { z } from "zod";
import { entityList } from "./decode.ts";

function isDigits(value: unknown): boolean {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0;
  return typeof value === "string" && /^\d{1,16}$/.test(value) && Number.isSafeInteger(Number(value));
}

/** amoCRM writes an empty value as "" (PHP null); JSON senders may write null. */
function isBlank(value: unknown): boolean {
  return value === undefined || value === null || value === "";
}

const entityId = z.custom<string | number>(
  (value) => isDigits(value) && Number(value) > 0,
  { error: "expected a positive numeric id" },
);
const optionalInteger = z.custom<string | number | null>(
  (value) => isBlank(value) || isDigits(value),
  { error: "expected an integer" },
).optional();
const optionalDecimal = z.custom<string | number | null>(
  (value) =>
    isBlank(value) || (typeof value === "number" && Number.isFinite(value)) ||
    (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value)),
  { error: "expected a number" },
).optional();

/** An action's entities: an array, or an object keyed by (possibly sparse) index. */
const listOf = <T extends z.ZodType>(item: T) => z.preprocess(entityList, z.array(item));

// Text/select fields: values[k] = {value, enum?}; date fields: values[k] = "<unix s>" (no [value]).
export const customFieldSchema = z.looseObject({
  id: optionalInteger,
  code: z.string().optional(),
  values: listOf(z.unknown()).optional(),
});

const timestamps = {
  updated_at: optionalInteger,
  last_modified: optionalInteger,
  created_at: optionalInteger,
  date_create: optionalInteger,
};

export const leadSchema = z.looseObject({
  id: entityId,
  status_id: optionalInteger,
  old_status_id: optionalInteger,
  pipeline_id: optionalInteger,
  old_pipeline_id: optionalInteger,
  responsible_user_id: optionalInteger,
  price: optionalDecimal,
  ...timestamps,
  custom_fields: listOf(customFieldSchema).optional(),
});

/** Entities of the `contacts` group: contacts and companies (`type` tells them apart). */
export const contactSchema = z.looseObject({
  id: entityId,
  type: z.string().optional(),
  ...timestamps,
  custom_fields: listOf(customFieldSchema).optional(),
});

export const accountSchema = z.looseObject({
  id: optionalInteger,
  subdomain: z.string().optional(),
});

/** Actions we turn into events; any other action of these groups is ignored (kept only in the raw body). */
export const leadsGroupSchema = z.looseObject({
  add: listOf(leadSchema).optional(),
  update: listOf(leadSchema).optional(),
  status: listOf(leadSchema).optional(),
  delete: listOf(leadSchema).optional(),
  restore: listOf(leadSchema).optional(),
  responsible: listOf(leadSchema).optional(),
});

export const contactsGroupSchema = z.looseObject({
  add: listOf(contactSchema).optional(),
  update: listOf(contactSchema).optional(),
});

const KNOWN_TOP_LEVEL = new Set(["account", "leads", "contacts"]);

export const webhookBodySchema = z.looseObject({
  account: accountSchema.optional(),
  leads: leadsGroupSchema.optional(),
  contacts: contactsGroupSchema.optional(),
}).superRefine((body, ctx) => {
  if (Object.keys(body).length === 0) ctx.addIssue({ code: "custom", path: [], message: "no event groups" });
  // Other groups (task, unsorted, customers, …) are ignored, but each must at least look like a group:
  // this is what tells an amoCRM body from random text that happened to decode as a form.
  let reported = 0;
  for (const [key, value] of Object.entries(body)) {
    if (KNOWN_TOP_LEVEL.has(key)) continue;
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      ctx.addIssue({ code: "custom", path: [key], message: "not an amoCRM event group" });
      // A junk body can have 100k keys; a few are enough to explain the quarantine.
      if (++reported === 10) break;
    }
  }
});

export type WebhookBody = z.infer<typeof webhookBodySchema>;
export type LeadEntity = z.infer<typeof leadSchema>;
export type ContactEntity = z.infer<typeof contactSchema>;

/** A short, log- and column-friendly reason from a zod error: the first issues with their paths. */
export function describeIssues(error: z.ZodError, max = 3): string {
  const parts = error.issues.slice(0, max).map((issue) => {
    const path = issue.path.map(String).join(".");
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  const more = error.issues.length > max ? ` (+${error.issues.length - max} more)` : "";
  return parts.join("; ") + more;
}
