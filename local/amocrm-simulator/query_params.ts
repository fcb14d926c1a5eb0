// @ts-types="@types/qs"
import qs from "qs";

export type QueryValue = undefined | string | QueryValue[] | { [key: string]: QueryValue };
export type Query = { [key: string]: QueryValue };

/** Parses PHP bracket query strings (`filter[id][]=1&filter[updated_at][from]=…`). */
export function parseQuery(search: string): Query {
  return qs.parse(search, {
    ignoreQueryPrefix: true,
    arrayLimit: 1000,
    parameterLimit: 20_000,
    depth: 6,
  }) as Query;
}

/** All leaf strings of `filter[x]`, `filter[x][]`, `filter[x][0]` or a comma-separated `filter[x]=a,b`. */
export function stringList(value: QueryValue): string[] {
  if (value === undefined) return [];
  if (typeof value === "string") return value.split(",").map((item) => item.trim()).filter(Boolean);
  const children = Array.isArray(value) ? value : Object.values(value);
  return children.flatMap(stringList);
}

export function intList(value: QueryValue): number[] {
  return stringList(value).map(Number).filter(Number.isInteger);
}

export function child(value: QueryValue, key: string): QueryValue {
  return value !== undefined && typeof value === "object" && !Array.isArray(value) ? value[key] : undefined;
}

/**
 * `filter[updated_at][from|to]` (inclusive), `filter[created_at]=FROM,TO`, or a single `filter[created_at]=T`,
 * which amoCRM's events page defines as "created after T" (strictly after: the page says "после").
 */
export function intRange(value: QueryValue): { from?: number; to?: number } | null {
  if (value === undefined) return null;
  if (typeof value === "string" && value.includes(",")) {
    const [from, to] = value.split(",").map((part) => (part.trim() === "" ? NaN : Number(part)));
    return { from: Number.isInteger(from) ? from : undefined, to: Number.isInteger(to) ? to : undefined };
  }
  if (typeof value === "string") {
    const at = Number(value);
    return Number.isInteger(at) ? { from: at + 1 } : null;
  }
  const from = Number(child(value, "from"));
  const to = Number(child(value, "to"));
  return {
    from: Number.isInteger(from) && child(value, "from") !== undefined ? from : undefined,
    to: Number.isInteger(to) && child(value, "to") !== undefined ? to : undefined,
  };
}

export function inRange(at: number, range: { from?: number; to?: number } | null): boolean {
  if (!range) return true;
  return (range.from === undefined || at >= range.from) && (range.to === undefined || at <= range.to);
}

/** `with=contacts,loss_reason` → a set. */
export function withSet(value: QueryValue): Set<string> {
  return new Set(stringList(value));
}
