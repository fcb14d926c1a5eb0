// Raw webhook body → plain JS value. Account webhooks are PHP `http_build_query` forms (bracket keys, every
// value a string); Digital Pipeline webhooks may be JSON. Both come out with the same list/map shapes.
import { isIndexKey, parseForm } from "./form.ts";

export type BodyFormat = "form" | "json";

export type DecodedBody =
  | { ok: true; format: BodyFormat; value: unknown }
  | { ok: false; format: BodyFormat | null; reason: string };

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
    const value = format === "json" ? JSON.parse(raw) : parseForm(raw.trim());
    return { ok: true, format, value: phpLists(value) };
  } catch (error) {
    if (error instanceof RangeError) return { ok: false, format, reason: "body nested too deeply" };
    const what = format === "json" ? "invalid JSON" : "unparseable form body";
    return { ok: false, format, reason: `${what}: ${(error as Error).message}` };
  }
}

/**
 * Objects keyed exactly 0..n-1 become arrays — PHP's own rule for what json_encode writes as a list — so
 * `custom_fields`, `values`, `tags` and entity lists are arrays while id-keyed maps (linked_leads_id) and
 * sparse indices stay objects. JS enumerates integer keys in ascending order, so a list keeps amoCRM's order.
 * Works in place: the value is freshly decoded and nobody else holds it.
 */
export function phpLists(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = phpLists(value[i]);
    return value;
  }
  const node = value as Record<string, unknown>;
  let dense = true;
  let index = 0;
  for (const key in node) {
    // Only a JSON body can have one as its own key; dropping it keeps later code off the prototype.
    if (key === "__proto__") {
      delete node[key];
      continue;
    }
    node[key] = phpLists(node[key]);
    if (dense && key !== String(index)) dense = false;
    index++;
  }
  return dense && index > 0 ? Object.values(node) : node;
}

/** The entities of one action, whether they arrived as an array or as an object keyed by (sparse) index. */
export function entityList(value: unknown): unknown {
  if (Array.isArray(value)) return value;
  if (value !== null && typeof value === "object" && Object.keys(value).every(isIndexKey)) {
    return Object.values(value);
  }
  return value;
}
