import assert from "node:assert/strict";
import { fullJitterDelayMs, isRetryableStatus } from "../../../supabase/functions/_shared/amocrm/backoff.ts";
import {
  chunkIds,
  equivalentPage,
  halveBatch,
  shrinkPageSize,
} from "../../../supabase/functions/_shared/amocrm/batching.ts";

const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000 };

Deno.test("full jitter: uniform below the exponential ceiling, capped", () => {
  assert.equal(fullJitterDelayMs(0, policy, () => 0), 0);
  assert.equal(fullJitterDelayMs(0, policy, () => 0.999), 99);
  assert.equal(fullJitterDelayMs(3, policy, () => 0.5), 400);
  assert.equal(fullJitterDelayMs(10, policy, () => 0.999), 999);
});

Deno.test("retryable statuses: 429 and 5xx only", () => {
  assert.deepEqual([429, 500, 502, 503, 504].map(isRetryableStatus), [true, true, true, true, true]);
  assert.deepEqual([400, 401, 402, 403, 404].map(isRetryableStatus), [false, false, false, false, false]);
});

Deno.test("ids are de-duplicated and chunked by 250", () => {
  const ids = Array.from({ length: 601 }, (_, i) => i + 1);
  const chunks = chunkIds([...ids, 1, 2, 3]);
  assert.deepEqual(chunks.map((c) => c.length), [250, 250, 101]);
  assert.equal(new Set(chunks.flat()).size, 601);
  assert.deepEqual(chunkIds([]), []);
  assert.throws(() => chunkIds([1], 0));
});

Deno.test("a 504 halves the batch: 250 → 125 → 63", () => {
  const batch = Array.from({ length: 250 }, (_, i) => i);
  const [a, b] = halveBatch(batch)!;
  assert.deepEqual([a.length, b.length], [125, 125]);
  const [c, d] = halveBatch(a)!;
  assert.deepEqual([c.length, d.length], [63, 62]);
  assert.equal(halveBatch([1]), null);
});

Deno.test("page sizes shrink by divisors so pages map exactly", () => {
  const chain: number[] = [];
  for (let size: number | null = 250; size !== null; size = shrinkPageSize(size)) chain.push(size);
  assert.deepEqual(chain, [250, 125, 25, 5, 1]);
  assert.equal(shrinkPageSize(100), 50);
  // Page 3 of 250 starts at item 500 = page 5 of 125 = page 21 of 25.
  assert.equal(equivalentPage(3, 250, 125), 5);
  assert.equal(equivalentPage(3, 250, 25), 21);
  assert.equal(equivalentPage(1, 250, 125), 1);
});
