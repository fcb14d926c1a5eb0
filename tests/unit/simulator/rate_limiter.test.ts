import assert from "node:assert/strict";
import { RateLimiter } from "../../../local/amocrm-simulator/rate_limiter.ts";
import { SlidingWindow } from "../../../local/amocrm-simulator/sliding_window.ts";

Deno.test("sliding window counts hits in (now - window, now]", () => {
  const window = new SlidingWindow(1000);
  assert.equal(window.add(0), 1);
  assert.equal(window.add(500), 2);
  assert.equal(window.add(999), 3);
  assert.equal(window.count(1000), 2);
  assert.equal(window.count(1500), 1);
  assert.equal(window.count(5000), 0);
});

Deno.test("rate limiter: 7 per integration per second, 50 per account, rejected calls use no budget", () => {
  const limiter = new RateLimiter({ perIntegration: 7, perAccount: 50 });
  const burst = (key: string, at: number, count: number) =>
    Array.from({ length: count }, () => limiter.tryAcquire("acme", key, at)).filter(Boolean).length;
  assert.equal(burst("a", 0, 20), 7);
  assert.equal(burst("a", 999, 5), 0);
  assert.equal(burst("a", 1000, 10), 7);
  assert.equal(burst("b", 1000, 3), 3);
  assert.equal(burst("a", 1000, 1), 0, "other accounts/integrations do not share the budget");
  const account = new RateLimiter({ perIntegration: 7, perAccount: 50 });
  const admitted = Array.from(
    { length: 10 },
    (_, index) =>
      Array.from({ length: 7 }, () => account.tryAcquire("acme", `client-${index}`, 0)).filter(Boolean)
        .length,
  )
    .reduce((sum, count) => sum + count, 0);
  assert.equal(admitted, 50);
});
