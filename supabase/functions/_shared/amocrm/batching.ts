// Batch sizing for amoCRM reads: ids go in chunks of at most 250 (the API's page cap), and a 504 on a batched
// read is answered by asking for less, not by repeating the same heavy request.

export const MAX_PAGE_SIZE = 250;

/** Unique ids in first-seen order, split into chunks of `size`. */
export function chunkIds(ids: Iterable<number>, size = MAX_PAGE_SIZE): number[][] {
  if (!Number.isInteger(size) || size < 1) throw new Error(`chunk size must be a positive integer: ${size}`);
  const unique = [...new Set(ids)];
  const chunks: number[][] = [];
  for (let i = 0; i < unique.length; i += size) chunks.push(unique.slice(i, i + size));
  return chunks;
}

/** Splits a batch in two halves after a 504 (250 → 125 + 125 → 63 + 62 …). A single id cannot shrink. */
export function halveBatch<T>(batch: readonly T[]): [T[], T[]] | null {
  if (batch.length <= 1) return null;
  const mid = Math.ceil(batch.length / 2);
  return [batch.slice(0, mid), batch.slice(mid)];
}

/**
 * Next smaller page size for a paged listing after a 504. It must divide the current size so that the items
 * already read map onto whole pages of the new size: 250 → 125 → 25 → 5 → 1. Null when it cannot shrink.
 */
export function shrinkPageSize(limit: number): number | null {
  for (let candidate = Math.floor(limit / 2); candidate >= 1; candidate--) {
    if (limit % candidate === 0) return candidate;
  }
  return null;
}

/** The page of size `newLimit` that starts at the same item as page `page` of size `oldLimit` (1-based). */
export function equivalentPage(page: number, oldLimit: number, newLimit: number): number {
  return ((page - 1) * oldLimit) / newLimit + 1;
}
