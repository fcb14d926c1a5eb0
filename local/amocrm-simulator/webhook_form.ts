import type { FormObject, FormValue } from "./types.ts";

/**
 * PHP `urlencode`: everything except [A-Za-z0-9_.-] is percent-encoded (upper-case hex), spaces become "+".
 * encodeURIComponent leaves !'()*~ alone, so those are encoded on top (the fixtures show "%28SORRY%29").
 */
export function phpUrlencode(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*~]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+");
}

/** Flattens a nested value into PHP bracket-key pairs, in insertion order: [["leads[add][0][id]", "1"], …]. */
export function flattenForm(value: FormObject): [string, string][] {
  const pairs: [string, string][] = [];
  const walk = (prefix: string, node: FormValue): void => {
    if (typeof node === "string") {
      pairs.push([prefix, node]);
      return;
    }
    const entries: [string, FormValue][] = Array.isArray(node)
      ? node.map((child, index) => [String(index), child])
      : Object.entries(node);
    for (const [key, child] of entries) walk(`${prefix}[${key}]`, child);
  };
  for (const [key, child] of Object.entries(value)) walk(key, child);
  return pairs;
}

/** `http_build_query` as amoCRM's PHP sender produces it: bracket keys percent-encoded, all values strings. */
export function encodeForm(value: FormObject): string {
  return flattenForm(value)
    .map(([key, text]) => `${phpUrlencode(key)}=${phpUrlencode(text)}`)
    .join("&");
}
