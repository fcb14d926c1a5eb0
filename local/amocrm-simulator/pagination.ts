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

/** `_links` with absolute URLs; `next` only when another page exists. */
export function pageLinks(
  endpoint: string,
  rawSearch: string,
  page: number,
  limit: number,
  hasNext: boolean,
): { self: { href: string }; next?: { href: string } } {
  const href = (target: number) => {
    const params = new URLSearchParams(rawSearch);
    params.set("page", String(target));
    params.set("limit", String(limit));
    return `${endpoint}?${params.toString()}`;
  };
  return hasNext
    ? { self: { href: href(page) }, next: { href: href(page + 1) } }
    : { self: { href: href(page) } };
}
