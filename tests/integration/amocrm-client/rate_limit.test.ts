// The shared rate limit over real HTTP: two OS processes hammering one account stay under amoCRM's 7 req/s
// with zero 429s, and a 429 storm is ridden out with backoff.
import assert from "node:assert/strict";
import { AmoCrmRateLimitError } from "../../../supabase/functions/_shared/amocrm/mod.ts";
import { NO_DATABASE, readTraces } from "./_db.ts";
import { apiRequests, withAccount } from "./_setup.ts";

const decoder = new TextDecoder();

Deno.test({
  name: "two processes hammering one account together stay ≤ 7 req/s with zero 429",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount({ sim: { rateLimitPerSecond: 7 }, connection: { rateLimitPerSecond: 7 } }, async (env) => {
      const callsEach = 14;
      const startAt = Date.now() + 2000;
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--config",
          new URL("../../../deno.json", import.meta.url).pathname,
          new URL("./_hammer_worker.ts", import.meta.url).pathname,
          env.connectionId,
          String(callsEach),
          "6",
          String(startAt),
        ],
        env: { DATABASE_URL: Deno.env.get("DATABASE_URL")! },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
      const client = env.client();
      let next = 0;
      const worker = async () => {
        while (next < callsEach) {
          next++;
          await client.getPipelines();
        }
      };
      await Promise.all(Array.from({ length: 6 }, worker));
      const output = await child.output();
      assert.equal(output.code, 0, decoder.decode(output.stderr));
      const theirs = JSON.parse(decoder.decode(output.stdout).trim().split("\n").at(-1)!);
      assert.equal(theirs.ok, callsEach, JSON.stringify(theirs.errors));

      const stats = env.sim.stats(env.subdomain);
      assert.equal(apiRequests(env.sim, env.subdomain).length, 2 * callsEach);
      assert.equal(stats.tooManyRequests, 0);
      assert.ok(stats.maxRequestsPerSecond <= 7, `max ${stats.maxRequestsPerSecond} requests in one second`);
      assert.equal(stats.blocked, false);
    }),
});

Deno.test({
  name: "a 429 storm is ridden out with backoff",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount({ sim: { rateLimitPerSecond: 50 }, connection: { rateLimitPerSecond: 40 } }, async (env) => {
      env.sim.faults(env.subdomain, { apiServerError: { next: 5, status: 429 } });
      const [first, second] = await Promise.all([env.client().getPipelines(), env.client().getPipelines()]);
      assert.ok(first.length > 0 && second.length > 0);

      const statuses = apiRequests(env.sim, env.subdomain).map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 429).length, 5);
      assert.equal(statuses.filter((s) => s === 200).length, 2);
      const traces = await readTraces(env.sql, env.connectionId);
      assert.equal(traces.reduce((sum, t) => sum + t.retries, 0), 5, "each 429 cost one retry");
      assert.ok(traces.every((t) => t.status === 200 && t.error_kind === null));
    }),
});

Deno.test({
  name: "a 429 storm longer than the retry budget ends in AmoCrmRateLimitError",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount({ sim: { rateLimitPerSecond: 50 }, connection: { rateLimitPerSecond: 40 } }, async (env) => {
      env.sim.faults(env.subdomain, { apiServerError: { rate: 1, status: 429 } });
      const client = env.client({ retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 } });
      await assert.rejects(client.getPipelines(), (error) => {
        assert.ok(error instanceof AmoCrmRateLimitError);
        assert.equal(error.status, 429);
        return true;
      });
      assert.equal(apiRequests(env.sim, env.subdomain).length, 3, "bounded attempts");
      const [trace] = await readTraces(env.sql, env.connectionId);
      assert.equal(trace.status, 429);
      assert.equal(trace.retries, 2);
      assert.equal(trace.error_kind, "AmoCrmRateLimitError");
    }),
});
