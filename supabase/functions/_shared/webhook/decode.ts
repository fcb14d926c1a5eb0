// Raw webhook body → plain JS value. Account webhooks are PHP `http_build_query` forms (bracket keys, every
// value a string); Digital Pipeline webhooks may be JSON. Both come out with the same list/map shapes.
import { isIndexKey, MAX_TOP_LEVEL_NAMES, parseFormSteps, TooManyNames } from "./form.ts";
import { runToEnd, STEP_EVERY, type Steps } from "./steps.ts";

/** Deeper than this is no amoCRM body (theirs nest 8 levels at most): quarantined, never walked. */
export const MAX_BODY_NESTING = 256;

export type BodyFormat = "form" | "json";

export type DecodedBody =
  | { ok: true; format: BodyFormat; value: unknown }
  | { ok: false; format: BodyFormat | null; reason: string };

const isObject = (value: unknown): value is object => value !== null && typeof value === "object";

/** Which format a body is in: JSON when it says so or looks like it (a form body never starts with "{"). */
export function detectFormat(contentType: string | null, raw: string): BodyFormat {
  if (contentType && /\bjson\b/i.test(contentType)) return "json";
  const first = raw.trimStart()[0];
  return first === "{" || first === "[" ? "json" : "form";
}

export function decodeWebhookBody(contentType: string | null, raw: string): DecodedBody {
  return runToEnd(decodeWebhookBodySteps(contentType, raw));
}

export function* decodeWebhookBodySteps(contentType: string | null, raw: string): Steps<DecodedBody> {
  if (raw.trim() === "") return { ok: false, format: null, reason: "empty body" };
  const format = detectFormat(contentType, raw);
  try {
    const value = format === "json" ? JSON.parse(raw) : yield* parseFormSteps(raw.trim());
    if (format === "json") {
      yield;
      if (isObject(value) && !Array.isArray(value) && Object.keys(value).length > MAX_TOP_LEVEL_NAMES) {
        throw new TooManyNames(value);
      }
    }
    return { ok: true, format, value: yield* phpListsSteps(value) };
  } catch (error) {
    if (error instanceof RangeError) return { ok: false, format, reason: "body nested too deeply" };
    if (error instanceof TooManyNames) {
      return { ok: false, format, reason: `not an amoCRM body: ${error.message}` };
    }
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
  return runToEnd(phpListsSteps(value));
}

interface Frame {
  node: Record<string, unknown> | unknown[];
  /** The object's keys (null for an array), walked in order. */
  keys: string[] | null;
  next: number;
  /** Where the converted node goes: its parent and key (none for the root). */
  parent: Frame | null;
  key: string | number;
}

/** phpLists without recursion (depth-first, children before parents), pausing every STEP_EVERY nodes. */
export function* phpListsSteps(root: unknown): Steps<unknown> {
  if (root === null || typeof root !== "object") return root;
  const frame = (node: object, parent: Frame | null, key: string | number): Frame => ({
    node: node as Frame["node"],
    keys: Array.isArray(node) ? null : Object.keys(node),
    next: 0,
    parent,
    key,
  });
  const stack: Frame[] = [frame(root, null, "")];
  let result: unknown = root;
  let visited = 0;
  while (stack.length > 0) {
    if (++visited % STEP_EVERY === 0) yield;
    const top = stack[stack.length - 1];
    const size = top.keys ? top.keys.length : (top.node as unknown[]).length;
    if (top.next < size) {
      const key = top.keys ? top.keys[top.next] : top.next;
      top.next++;
      const node = top.node as Record<string | number, unknown>;
      // Only a JSON body can have one as its own key; dropping it keeps later code off the prototype.
      if (key === "__proto__") {
        delete node[key];
        continue;
      }
      const child = node[key];
      if (child !== null && typeof child === "object") {
        if (stack.length >= MAX_BODY_NESTING) throw new RangeError("body nested too deeply");
        stack.push(frame(child, top, key));
      }
      continue;
    }
    stack.pop();
    const converted = top.keys ? listIfDense(top.node as Record<string, unknown>) : top.node;
    if (top.parent) (top.parent.node as Record<string | number, unknown>)[top.key] = converted;
    else result = converted;
  }
  return result;
}

/** The object as an array when its keys are exactly "0".."n-1" (n > 0), else the object itself. */
function listIfDense(node: Record<string, unknown>): unknown {
  let index = 0;
  for (const key in node) {
    if (key !== String(index)) return node;
    index++;
  }
  return index > 0 ? Object.values(node) : node;
}

/** The entities of one action, whether they arrived as an array or as an object keyed by (sparse) index. */
export function entityList(value: unknown): unknown {
  if (Array.isArray(value)) return value;
  if (value !== null && typeof value === "object" && Object.keys(value).every(isIndexKey)) {
    return Object.values(value);
  }
  return value;
}
