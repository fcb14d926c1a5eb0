// Raw webhook body → plain JS value. Account webhooks are PHP `http_build_query` forms (bracket keys, every
// value a string); Digital Pipeline webhooks may be JSON. Both come out with the same list/map shapes.
import qs from "qs";

export type BodyFormat = "form" | "json";

export type DecodedBody =
  | { ok: true; format: BodyFormat; value: unknown }
  | { ok: false; format: BodyFormat | null; reason: string };

// Bracket keys nest at most 7 deep in real bodies (leads[update][0][custom_fields][0][values][0][value]).
const QS_OPTIONS = {
  // Every `[n]` stays an object key here; phpLists() below turns real lists into arrays. Letting qs build
  // arrays would compact sparse indices and silently turn id-keyed maps (linked_leads_id[5]) into lists.
  parseArrays: false,
  depth: 20,
  // A 250-entity batch has thousands of pairs; qs's default (1000) would silently drop the rest.
  parameterLimit: Number.POSITIVE_INFINITY,
  // PHP's parse_str semantics: a repeated key keeps its last value.
  duplicates: "last",
  allowPrototypes: false,
} as const;

/** Which format a body is in: JSON when it says so or looks like it (a form body never starts with "{"). */
export function detectFormat(contentType: string | null, raw: string): BodyFormat {
  if (contentType && /\bjson\b/i.test(contentType)) return "json";
  const first = raw.trimStart()[0];
  return first === "{" || first === "[" ? "json" : "form";
}

export function decodeWebhookBody(contentType: string | null, raw: string): DecodedBody {
  if (raw.trim() === "") return { ok: false, format: null, reason: "empty body" };
  const format = detectFormat(contentType, raw);
  try {
    const value = format === "json" ? JSON.parse(raw) : qs.parse(raw.trim(), QS_OPTIONS);
    return { ok: true, format, value: phpLists(value) };
  } catch (error) {
    if (error instanceof RangeError) return { ok: false, format, reason: "body nested too deeply" };
    const what = format === "json" ? "invalid JSON" : "unparseable form body";
    return { ok: false, format, reason: `${what}: ${(error as Error).message}` };
  }
}

/** True for "0", "1", "25" … (canonical non-negative integers, as PHP array keys are). */
export function isIndexKey(key: string): boolean {
  return /^(0|[1-9]\d{0,8})$/.test(key);
}

/**
 * Objects keyed exactly 0..n-1 become arrays — PHP's own rule for what json_encode writes as a list — so
 * `custom_fields`, `values`, `tags` and entity lists are arrays while id-keyed maps (linked_leads_id) stay
 * objects. JS enumerates integer keys in ascending order, so the list keeps amoCRM's order.
 */
export function phpLists(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(phpLists);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  let dense = true;
  let index = 0;
  for (const [key, child] of Object.entries(value)) {
    if (key === "__proto__") continue;
    out[key] = phpLists(child);
    if (key !== String(index++)) dense = false;
  }
  return dense && index > 0 ? Object.values(out) : out;
}

/** The entities of one action, whether they arrived as an array or as an object keyed by (sparse) index. */
export function entityList(value: unknown): unknown {
  if (Array.isArray(value)) return value;
  if (value !== null && typeof value === "object" && Object.keys(value).every(isIndexKey)) {
    return Object.values(value);
  }
  return value;
}
