// zod schemas of what we read from a decoded webhook body. Entities stay loose (every other field is kept
// as-is in the payload); only the fields the apply step relies on are checked, so junk is quarantined at
// intake with a reason instead of failing later.
import { z } from "zod";
import { entityList } from "./decode.ts";
import { STEP_EVERY, type Steps } from "./steps.ts";

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

/** Other groups (task, unsorted, customers, …): issues for the top-level keys that are no group at all. */
function* unknownGroupIssues(body: Record<string, unknown>, issues: Issue[]): Steps<void> {
  if (Object.keys(body).length === 0) issues.push({ path: [], message: "no event groups" });
  // Each must at least look like a group: this is what tells an amoCRM body from random text that happened
  // to decode as a form.
  let reported = 0;
  let seen = 0;
  for (const key in body) {
    if (++seen % STEP_EVERY === 0) yield;
    if (KNOWN_TOP_LEVEL.has(key)) continue;
    const value = body[key];
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      issues.push({ path: [key], message: "not an amoCRM event group" });
      // A junk body can have 100k keys; a few are enough to explain the quarantine.
      if (++reported === 10) break;
    }
  }
}

export const webhookBodySchema = z.looseObject({
  account: accountSchema.optional(),
  leads: leadsGroupSchema.optional(),
  contacts: contactsGroupSchema.optional(),
}).superRefine((body, ctx) => {
  const issues: Issue[] = [];
  const steps = unknownGroupIssues(body, issues);
  while (!steps.next().done);
  for (const issue of issues) ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
});

export type WebhookBody = z.infer<typeof webhookBodySchema>;
export type LeadEntity = z.infer<typeof leadSchema>;
export type ContactEntity = z.infer<typeof contactSchema>;

export interface Issue {
  path: PropertyKey[];
  message: string;
}

export type CheckedBody = { ok: true; body: WebhookBody } | { ok: false; issues: Issue[] };

const ENTITY_CHUNK = 128;
const GROUPS = [
  { name: "leads", schema: leadsGroupSchema, entities: z.array(leadSchema) },
  { name: "contacts", schema: contactsGroupSchema, entities: z.array(contactSchema) },
] as const;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value);

const prefixed = (path: PropertyKey[], issues: readonly z.core.$ZodIssue[]): Issue[] =>
  issues.map((issue) => ({ path: [...path, ...issue.path], message: issue.message }));

/**
 * webhookBodySchema.safeParse(body), pausing between chunks of entities and keys (steps.ts): the same schemas,
 * the same issues and the same output (shape keys first, then the others in body order, as zod gives them).
 */
export function* checkWebhookBodySteps(body: unknown): Steps<CheckedBody> {
  if (!isPlainObject(body)) {
    const checked = webhookBodySchema.safeParse(body);
    return checked.success
      ? { ok: true, body: checked.data }
      : { ok: false, issues: prefixed([], checked.error.issues) };
  }
  const issues: Issue[] = [];
  const out: Record<string, unknown> = {};
  if (body.account !== undefined) {
    const account = accountSchema.safeParse(body.account);
    if (account.success) out.account = account.data;
    else issues.push(...prefixed(["account"], account.error.issues));
  }
  for (const group of GROUPS) {
    const value = body[group.name];
    if (value === undefined) continue;
    if (!isPlainObject(value)) {
      const checked = group.schema.safeParse(value);
      if (!checked.success) issues.push(...prefixed([group.name], checked.error.issues));
      continue;
    }
    const groupOut: Record<string, unknown> = {};
    for (const action of Object.keys(group.schema.shape)) {
      if (value[action] === undefined) continue;
      const list = entityList(value[action]);
      if (!Array.isArray(list)) {
        const checked = group.schema.shape[action as keyof typeof group.schema.shape].safeParse(
          value[action],
        );
        if (!checked.success) issues.push(...prefixed([group.name, action], checked.error.issues));
        continue;
      }
      const entities: unknown[] = [];
      for (let at = 0; at < list.length; at += ENTITY_CHUNK) {
        const checked = group.entities.safeParse(list.slice(at, at + ENTITY_CHUNK));
        if (checked.success) entities.push(...checked.data);
        else {
          for (const issue of checked.error.issues) {
            const [index, ...rest] = issue.path;
            issues.push({ path: [group.name, action, at + Number(index), ...rest], message: issue.message });
          }
        }
        yield;
      }
      groupOut[action] = entities;
    }
    for (const key in value) {
      if (!Object.hasOwn(groupOut, key) && !Object.hasOwn(group.schema.shape, key)) {
        groupOut[key] = value[key];
      }
    }
    out[group.name] = groupOut;
  }
  if (issues.length > 0) return { ok: false, issues };
  yield* unknownGroupIssues(body, issues);
  if (issues.length > 0) return { ok: false, issues };
  let copied = 0;
  for (const key in body) {
    if (++copied % STEP_EVERY === 0) yield;
    if (!KNOWN_TOP_LEVEL.has(key)) out[key] = body[key];
  }
  return { ok: true, body: out as WebhookBody };
}

/** A short, log- and column-friendly reason from a list of issues: the first ones with their paths. */
export function describeIssues(issues: readonly Issue[], max = 3): string {
  const parts = issues.slice(0, max).map((issue) => {
    const path = issue.path.map(String).join(".");
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  const more = issues.length > max ? ` (+${issues.length - max} more)` : "";
  return parts.join("; ") + more;
}
