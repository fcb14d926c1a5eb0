/** Page/limit math shared by every list endpoint. */

export function parseLimit(raw: unknown, max: number, fallback: number): number {
  const value = typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(value) || value < 1) return fallback;
  // Asking for more than the maximum silently gives the maximum.
  return Math.min(value, max);
}

export function parsePage(raw: unknown): number {
  const value = typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : NaN;
  return Number.isFinite(value) && value >= 1 ? value : 1;
}

export function paginate<T>(
  items: readonly T[],
  page: number,
  limit: number,
): { pageItems: T[]; hasNext: boolean } {
  const start = (page - 1) * limit;
  return { pageItems: items.slice(start, start + limit), hasNext: start + limit < items.length };
}

export interface PageLinks {
  self: { href: string };
  next?: { href: string };
  first?: { href: string };
  prev?: { href: string };
}

/**
 * `_links` with absolute URLs, as the list examples on amoCRM's API pages show them: `self`, `next` while
 * another page exists, and `first`/`prev` from page 2 on. With `nextOnLastPage` the last page keeps a `next`
 * (following it gives 204) — some endpoints behave so, per the official PHP SDK's issue tracker.
 */
export function pageLinks(
  endpoint: string,
  rawSearch: string,
  page: number,
  limit: number,
  hasNext: boolean,
  modes: { nextOnLastPage?: boolean } = {},
): PageLinks {
  const href = (target: number) => {
    const params = new URLSearchParams(rawSearch);
    params.set("page", String(target));
    params.set("limit", String(limit));
    return `${endpoint}?${params.toString()}`;
  };
  const links: PageLinks = { self: { href: href(page) } };
  if (hasNext || modes.nextOnLastPage) links.next = { href: href(page + 1) };
  if (page > 1) {
    links.first = { href: href(1) };
    links.prev = { href: href(page - 1) };
  }
  return links;
}
