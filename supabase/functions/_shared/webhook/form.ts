// PHP `http_build_query` bodies → nested plain objects, as PHP's own parse_str reads them: "+" is a space, a
// malformed "%" escape stays as typed, a bracket key such as `leads[update][0][custom_fields][0][id]` becomes a
// path of object keys. Index segments stay string keys here: phpLists() in decode.ts recognises the real lists.
//
// For every body amoCRM sends this equals qs.parse(body, { parseArrays: false, duplicates: "last" }) — a test
// holds the two equal on the captured fixtures and on generated bodies. It replaces qs on the webhook's ack
// path, where qs took a third of the per-request CPU: amoCRM repeats the same few hundred keys in every body,
// so each key is decoded and split once per process and remembered.

import { runToEnd, STEP_EVERY, type Steps } from "./steps.ts";

/** Bracket segments beyond this are not nested: the whole key stays one (junk) top-level key. */
export const MAX_FORM_DEPTH = 20;
/**
 * An amoCRM body has a handful of top-level names (account, leads, contacts, task, …). Past this many the body
 * is junk: parsing stops there (a 1 MiB body of 100,000 names would otherwise cost a few hundred milliseconds
 * of CPU in walks over one huge object that cannot be paused).
 */
export const MAX_TOP_LEVEL_NAMES = 100;

type FormObject = Record<string, unknown>;

/**
 * `a[b][c]` → ["a", "b", "c"]; `a` → ["a"]. null when the key is not a name followed only by bracket segments
 * (`[a]`, `a[b`, `a[b]c`, `a[[b]]`, too deep): such a key is kept whole, as a top-level key.
 */
export function bracketPath(key: string): string[] | null {
  const open = key.indexOf("[");
  if (open === -1) return [key];
  if (open === 0) return null;
  const path = [key.slice(0, open)];
  for (let at = open; at < key.length;) {
    if (key[at] !== "[" || path.length > MAX_FORM_DEPTH) return null;
    const close = key.indexOf("]", at + 1);
    if (close === -1) return null;
    const segment = key.slice(at + 1, close);
    if (segment.includes("[")) return null;
    path.push(segment);
    at = close + 1;
  }
  return path;
}

/** True for "0", "1", "25" … (canonical non-negative integers, as PHP array keys are). */
export function isIndexKey(key: string): boolean {
  return /^(0|[1-9]\d{0,8})$/.test(key);
}

/** PHP's `a[]=x`: the next integer key after the largest one present. */
function nextIndex(node: FormObject): string {
  let next = 0;
  for (const key in node) {
    if (isIndexKey(key)) next = Math.max(next, Number(key) + 1);
  }
  return String(next);
}

/** A form component as PHP's urldecode reads it. */
function decodeComponent(text: string): string {
  const spaced = text.includes("+") ? text.replaceAll("+", " ") : text;
  if (!spaced.includes("%")) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    // A malformed escape ("50%", "%zz"): the platform's form decoder keeps it as typed.
    return new URLSearchParams(`v=${text}`).get("v")!;
  }
}

/** Encoded key → its path, or null for a key that must be dropped. Bounded: emptied when full. */
const knownPaths = new Map<string, readonly string[] | null>();
const KNOWN_PATHS_MAX = 10_000;
/** Longer keys are not remembered: amoCRM's are short, and 10,000 huge junk keys would hold gigabytes. */
const KNOWN_PATH_MAX_CHARS = 200;

function pathOf(encodedKey: string): readonly string[] | null {
  let path = knownPaths.get(encodedKey);
  if (path === undefined) {
    const key = decodeComponent(encodedKey);
    const segments = bracketPath(key) ?? [key];
    // Walking into "__proto__" would write to Object.prototype.
    path = segments.includes("__proto__") ? null : segments;
    if (encodedKey.length > KNOWN_PATH_MAX_CHARS) return path;
    if (knownPaths.size >= KNOWN_PATHS_MAX) knownPaths.clear();
    knownPaths.set(encodedKey, path);
  }
  return path;
}

function assign(root: FormObject, path: readonly string[], value: string): void {
  let node = root;
  for (let i = 0; i < path.length - 1; i++) {
    const segment = path[i] === "" ? nextIndex(node) : path[i];
    const child = node[segment];
    // A name seen before as a plain value becomes a group: the later pair wins, as in PHP.
    if (child !== null && typeof child === "object") {
      node = child as FormObject;
    } else {
      const created: FormObject = {};
      node[segment] = created;
      node = created;
    }
  }
  const last = path[path.length - 1];
  // A repeated key keeps its last value, as in PHP.
  node[last === "" ? nextIndex(node) : last] = value;
}

/** The body is no amoCRM body: it has more top-level names than any of theirs. */
export class TooManyNames extends Error {
  constructor(root: object) {
    const first = Object.keys(root).slice(0, 3).map((name) => JSON.stringify(name.slice(0, 40)));
    super(`more than ${MAX_TOP_LEVEL_NAMES} top-level names (${first.join(", ")}, …)`);
  }
}

export function parseForm(raw: string): FormObject {
  return runToEnd(parseFormSteps(raw));
}

/** parseForm, pausing every STEP_EVERY pairs (steps.ts). */
export function* parseFormSteps(raw: string): Steps<FormObject> {
  const root: FormObject = {};
  let pairs = 0;
  let names = 0;
  for (let start = 0; start < raw.length;) {
    if (++pairs % STEP_EVERY === 0) yield;
    const amp = raw.indexOf("&", start);
    const end = amp === -1 ? raw.length : amp;
    if (end > start) {
      const eq = raw.indexOf("=", start);
      const hasValue = eq !== -1 && eq < end;
      const path = pathOf(raw.slice(start, hasValue ? eq : end));
      if (path !== null) {
        if (!Object.hasOwn(root, path[0]) && ++names > MAX_TOP_LEVEL_NAMES) throw new TooManyNames(root);
        assign(root, path, hasValue ? decodeComponent(raw.slice(eq + 1, end)) : "");
      }
    }
    start = end + 1;
  }
  return root;
}
