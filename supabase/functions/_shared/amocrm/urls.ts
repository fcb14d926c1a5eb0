// URL building for one amoCRM account: base URL from the stored connection, PHP-style bracket query strings,
// and `_links.next` resolution that never sends our bearer token to a foreign host.
import { AmoCrmConnectionStateError } from "./errors.ts";

export const AMOCRM_BASE_DOMAINS = ["amocrm.ru", "amocrm.com", "kommo.com"] as const;

export interface ConnectionAddress {
  subdomain: string | null;
  base_domain: string | null;
  api_base_url?: string | null;
}

const SUBDOMAIN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** `https://{subdomain}.{base_domain}`, or `api_base_url` when set (simulator, tests). Never the www host. */
export function accountBaseUrl(conn: ConnectionAddress): string {
  const override = conn.api_base_url?.trim();
  if (override) {
    const url = new URL(override);
    if (url.hostname.toLowerCase().startsWith("www.")) {
      throw new Error(`amoCRM api_base_url must not be a www host: ${override}`);
    }
    return override.replace(/\/+$/, "");
  }
  const subdomain = conn.subdomain?.trim().toLowerCase() ?? "";
  const baseDomain = conn.base_domain?.trim().toLowerCase() ?? "";
  if (!SUBDOMAIN.test(subdomain) || subdomain === "www") {
    throw new Error(`invalid amoCRM subdomain: ${JSON.stringify(conn.subdomain)}`);
  }
  if (!(AMOCRM_BASE_DOMAINS as readonly string[]).includes(baseDomain)) {
    throw new Error(`invalid amoCRM base domain: ${JSON.stringify(conn.base_domain)}`);
  }
  return `https://${subdomain}.${baseDomain}`;
}

/** accountBaseUrl() for a stored connection: a bad stored address is a typed, non-retryable connection error. */
export function addressOf(conn: ConnectionAddress, connectionId: string, endpoint: string): string {
  try {
    return accountBaseUrl(conn);
  } catch (cause) {
    throw new AmoCrmConnectionStateError("invalid_address", {
      connectionId,
      endpoint,
      detail: cause instanceof Error ? cause.message : String(cause),
      cause,
    });
  }
}

export type QueryValue = string | number | boolean | null | undefined | ReadonlyArray<string | number>;
/** Keys are written as amoCRM expects them, e.g. `filter[id][]`, `filter[updated_at][from]`, `order[updated_at]`. */
export type QueryParams = Record<string, QueryValue>;

/** Serialises params in insertion order; arrays repeat the key (`filter[id][]=1&filter[id][]=2`). */
export function encodeQuery(params: QueryParams): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value) search.append(key, String(item));
    } else {
      search.append(key, String(value));
    }
  }
  return search.toString();
}

/** `{base}{path}?{query}`; path must start with `/`. */
export function buildUrl(baseUrl: string, path: string, params: QueryParams = {}): string {
  const query = encodeQuery(params);
  return `${baseUrl}${path}${query ? `?${query}` : ""}`;
}

/**
 * Resolves a `_links.next.href` against our base URL. amoCRM returns absolute URLs on its own host; when we talk
 * to an override (simulator) or the href points elsewhere, only the `/api/v4/…` path and query are kept and put
 * on our base, so the bearer token only ever goes to the account's base URL.
 */
export function resolveNextUrl(baseUrl: string, href: string): string {
  const base = new URL(baseUrl);
  const next = new URL(href, base);
  const basePath = base.pathname.replace(/\/+$/, "");
  if (next.origin === base.origin && next.pathname.startsWith(`${basePath}/`)) return next.toString();
  const apiIndex = next.pathname.indexOf("/api/v4/");
  if (apiIndex < 0) throw new Error(`amoCRM next link outside /api/v4: ${href}`);
  return `${baseUrl.replace(/\/+$/, "")}${next.pathname.slice(apiIndex)}${next.search}`;
}

/** The endpoint as traced: the path below the base URL, without the query string. */
export function endpointOf(baseUrl: string, url: string): string {
  const basePath = new URL(baseUrl).pathname.replace(/\/+$/, "");
  const path = new URL(url).pathname;
  return basePath && path.startsWith(basePath) ? path.slice(basePath.length) || "/" : path;
}

/** The `page` and `limit` of a list URL (absolute or `/path?query`); amoCRM's defaults when absent. */
export function pagingOf(target: string, defaultLimit: number): { page: number; limit: number } {
  const u = new URL(target, "http://relative.invalid");
  const page = Number(u.searchParams.get("page") ?? "1");
  const limit = Number(u.searchParams.get("limit") ?? String(defaultLimit));
  return {
    page: Number.isInteger(page) && page > 0 ? page : 1,
    limit: Number.isInteger(limit) && limit > 0 ? limit : defaultLimit,
  };
}

/** Replaces `limit` and `page` in a list URL (used when shrinking a page after a 504); keeps it relative if it was. */
export function withPaging(target: string, limit: number, page: number): string {
  const relative = target.startsWith("/");
  const u = new URL(target, "http://relative.invalid");
  u.searchParams.set("limit", String(limit));
  u.searchParams.set("page", String(page));
  return relative ? `${u.pathname}${u.search}` : u.toString();
}
