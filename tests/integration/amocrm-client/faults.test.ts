// Failure handling over real HTTP: 5xx retries, 504 batch shrinking, timeouts, the 403 circuit breaker, 402.
import assert from "node:assert/strict";
import {
  AmoCrmCircuitOpenError,
  AmoCrmConnectionStateError,
  AmoCrmForbiddenError,
  AmoCrmPaymentRequiredError,
  AmoCrmServerError,
} from "../../../supabase/functions/_shared/amocrm/mod.ts";
import { NO_DATABASE, readConnection, readTraces } from "./_db.ts";
import { apiRequests, withAccount } from "./_setup.ts";

const QUICK = { sim: { rateLimitPerSecond: 50 }, connection: { rateLimitPerSecond: 40 } };

Deno.test({
  name: "5xx answers are retried with backoff until the call succeeds",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount(QUICK, async (env) => {
      env.sim.faults(env.subdomain, { apiServerError: { next: 3, status: 503 } });
      assert.ok((await env.client().getPipelines()).length > 0);
      assert.deepEqual(apiRequests(env.sim, env.subdomain).map((r) => r.status), [503, 503, 503, 200]);
      const [trace] = await readTraces(env.sql, env.connectionId);
      assert.equal(trace.retries, 3);
      assert.equal(trace.status, 200);
    }),
});

Deno.test({
  name: "a write that is not idempotent is not repeated after a 5xx",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount(QUICK, async (env) => {
      env.sim.faults(env.subdomain, { apiServerError: { next: 1, status: 500 } });
      const client = env.client();
      await assert.rejects(
        client.request({ method: "PATCH", path: "/api/v4/leads", body: [], idempotent: false }),
        AmoCrmServerError,
      );
      assert.equal(apiRequests(env.sim, env.subdomain).length, 1);
    }),
});

Deno.test({
  name: "a 504 on a batched read shrinks the batch (250 → 125) and still returns every lead",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount(QUICK, async (env) => {
      const ids = await env.sim.batch(env.subdomain, (ops) =>
        Array.from({ length: 300 }, () => Number(ops.createLead().id)));
      env.sim.faults(env.subdomain, { apiServerError: { next: 1, status: 504 } });
      const leads = await env.client().getLeadsByIds(ids);
      assert.deepEqual(
        leads.map((l) =>
          l.id
        ).sort((a, b) => a - b),
        [...ids].sort((a, b) => a - b),
      );
      const sizes = apiRequests(env.sim, env.subdomain).map((r) => ({
        status: r.status,
        ids: new URLSearchParams(r.path.split("?")[1]).getAll("filter[id][]").length,
      }));
      assert.deepEqual(sizes, [
        { status: 504, ids: 250 },
        { status: 200, ids: 125 },
        { status: 200, ids: 125 },
        { status: 200, ids: 50 },
      ]);
    }),
});

Deno.test({
  name: "a 504 while paging shrinks the page size and keeps the position",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount(QUICK, async (env) => {
      const ids = await env.sim.batch(env.subdomain, (ops) =>
        Array.from({ length: 600 }, () => Number(ops.createLead().id)));
      const client = env.client();
      const seen: number[] = [];
      let pages = 0;
      for await (const page of client.iterateLeadsUpdated({ from: 0 })) {
        pages++;
        seen.push(...page.map((l) =>
          l.id
        ));
        if (pages === 1) env.sim.faults(env.subdomain, { apiServerError: { next: 1, status: 504 } });
      }
      assert.deepEqual([...seen].sort((a, b) => a - b), [...ids].sort((a, b) => a - b));
      assert.equal(new Set(seen).size, 600);
      const paging = apiRequests(env.sim, env.subdomain).map((r) => {
        const q = new URLSearchParams(r.path.split("?")[1]);
        return `${r.status}:${q.get("limit")}:${q.get("page")}`;
      });
      assert.deepEqual(paging.slice(0, 3), ["200:250:1", "504:250:2", "200:125:3"]);
    }),
});

Deno.test({
  name: "a request that hangs past the timeout is aborted and retried",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount(QUICK, async (env) => {
      env.sim.faults(env.subdomain, { apiHang: { next: 1, hangMs: 30_000 } });
      const client = env.client({ requestTimeoutMs: 300 });
      assert.ok((await client.getPipelines()).length > 0);
      const [trace] = await readTraces(env.sql, env.connectionId);
      assert.equal(trace.retries, 1);
      assert.equal(trace.status, 200);
    }),
});

Deno.test({
  name: "a 403 opens the circuit breaker: no further HTTP call until an operator closes it",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount(QUICK, async (env) => {
      env.sim.faults(env.subdomain, { apiServerError: { next: 1, status: 403 } });
      await assert.rejects(env.client().getPipelines(), (error) => {
        assert.ok(error instanceof AmoCrmForbiddenError);
        assert.equal(error.status, 403);
        assert.equal(error.detail, "403 Forbidden", "HTML body read");
        return true;
      });
      const row = await readConnection(env.sql, env.connectionId);
      assert.equal(row.breaker_open, true);
      assert.match(row.breaker_reason ?? "", /403/);
      assert.ok(row.breaker_opened_at && row.breaker_cooldown_until!.getTime() > Date.now());

      const seen = env.sim.stats(env.subdomain).totalRequests;
      const attempts = await Promise.allSettled([
        env.client().getPipelines(),
        env.client().getLead(1),
        env.client().listWebhooks(),
        env.client().refreshToken(),
      ]);
      for (const attempt of attempts) {
        assert.equal(attempt.status, "rejected");
        assert.ok(attempt.status === "rejected" && attempt.reason instanceof AmoCrmCircuitOpenError);
      }
      assert.equal(
        env.sim.stats(env.subdomain).totalRequests,
        seen,
        "no HTTP call while the breaker is open",
      );

      await env.sql`select private.amocrm_close_breaker(${env.connectionId})`;
      assert.ok((await env.client().getPipelines()).length > 0);
    }),
});

Deno.test({
  name: "after the cool-down one probe call goes out; its success closes the breaker",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount(QUICK, async (env) => {
      env.sim.faults(env.subdomain, { apiServerError: { next: 1, status: 403 } });
      await assert.rejects(env.client().getPipelines(), AmoCrmForbiddenError);
      await env.sql`update amocrm.connections set breaker_cooldown_until = now() - interval '1 second'
                     where id = ${env.connectionId}`;
      assert.ok((await env.client().getPipelines()).length > 0);
      assert.equal((await readConnection(env.sql, env.connectionId)).breaker_open, false);
    }),
});

Deno.test({
  name: "a 402 marks the account unpaid and stops further calls",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount(QUICK, async (env) => {
      env.sim.setUnpaid(env.subdomain, true);
      await assert.rejects(env.client().getPipelines(), AmoCrmPaymentRequiredError);
      assert.equal((await readConnection(env.sql, env.connectionId)).state, "account_unpaid");
      const seen = env.sim.stats(env.subdomain).totalRequests;
      await assert.rejects(env.client().getPipelines(), (error) => {
        assert.ok(error instanceof AmoCrmConnectionStateError);
        assert.equal(error.state, "account_unpaid");
        return true;
      });
      assert.equal(env.sim.stats(env.subdomain).totalRequests, seen);
    }),
});
