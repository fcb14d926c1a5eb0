import assert from "node:assert/strict";
import { apiGet, simWithAccount } from "./helpers.ts";

Deno.test("rate limit: 7/s per integration → 429 (HTML or JSON); >20 429s → 403 HTML until unblocked", async () => {
  let wall = 1_750_000_000_000;
  // A frozen clock makes "all in the same second" exact instead of a race with real time.
  const { sim, base, token } = await simWithAccount({ now: () => wall });
  try {
    const statuses: number[] = [];
    const bodies = new Set<string>();
    for (let index = 0; index < 28; index++) {
      const response = await apiGet(base, token, "/api/v4/leads/pipelines");
      statuses.push(response.status);
      const type = response.headers.get("content-type") ?? "";
      if (response.status === 429) bodies.add(type.includes("html") ? "html" : type);
      await response.body?.cancel();
    }
    assert.deepEqual(statuses.slice(0, 7), Array(7).fill(200));
    assert.deepEqual(statuses.slice(7, 28), Array(21).fill(429));
    assert.deepEqual([...bodies].sort(), ["application/problem+json", "html"]);

    const stats = sim.stats("acme");
    assert.equal(stats.blocked, true);
    assert.equal(stats.tooManyRequests, 21);
    assert.equal(stats.maxRequestsPerSecond, 28);

    wall += 120_000;
    const blocked = await apiGet(base, token, "/api/v4/leads/pipelines");
    assert.equal(blocked.status, 403);
    assert.match(blocked.headers.get("content-type") ?? "", /text\/html/);
    assert.match(await blocked.text(), /403 Forbidden/);

    sim.unblock("acme");
    const again = await apiGet(base, token, "/api/v4/leads/pipelines");
    assert.equal(again.status, 200);
    await again.body?.cancel();
    assert.equal(sim.stats("acme").blocked, false);
  } finally {
    await sim.stop();
  }
});

Deno.test("rate limit: the budget is per integration, and a new second brings a new budget", async () => {
  let wall = 1_750_000_000_000;
  const { sim, base, token } = await simWithAccount({ now: () => wall });
  try {
    sim.addIntegration("acme", { clientId: "client-2", clientSecret: "s2", redirectUri: "https://b/cb" });
    const second = sim.mintTokens("acme", { clientId: "client-2" }).access_token;
    const run = async (bearer: string, count: number) => {
      const statuses: number[] = [];
      for (let index = 0; index < count; index++) {
        const response = await apiGet(base, bearer, "/api/v4/leads");
        statuses.push(response.status);
        await response.body?.cancel();
      }
      return statuses;
    };
    assert.deepEqual(await run(token, 8), [...Array(7).fill(204), 429]);
    assert.deepEqual(await run(second, 7), Array(7).fill(204));
    wall += 1000;
    assert.deepEqual(await run(token, 7), Array(7).fill(204));
    const stats = sim.stats("acme");
    assert.equal(stats.maxRequestsPerSecondByIntegration["client-1"], 8);
    assert.equal(stats.maxRequestsPerSecondByIntegration["client-2"], 7);
    assert.equal(stats.blocked, false);
    assert.equal(stats.requests.length, 22);
    assert.deepEqual(Object.keys(stats.requests[0]).sort(), ["clientId", "method", "path", "status", "time"]);
  } finally {
    await sim.stop();
  }
});
