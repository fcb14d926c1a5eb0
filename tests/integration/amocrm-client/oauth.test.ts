// OAuth against the simulator over real HTTP: single-flight refresh (in one process and across two),
// revoked refresh tokens, 401 on the API, long-lived tokens, the code exchange and the keep-alive.
import assert from "node:assert/strict";
import {
  AmoCrmBadRequestError,
  AmoCrmReauthRequiredError,
  keepAliveIdleConnections,
} from "../../../supabase/functions/_shared/amocrm/mod.ts";
import { NO_DATABASE, readConnection, readTraces } from "./_db.ts";
import { withAccount } from "./_setup.ts";

const EXPIRED = () => new Date(Date.now() - 60_000);
// Token tests are about refresh, not throughput: a generous rate keeps them quick.
const FAST_ACCOUNT = { sim: { rateLimitPerSecond: 50 }, connection: { rateLimitPerSecond: 40 } };

Deno.test({
  name: "20 concurrent calls on an expired token: exactly one refresh, all succeed, no revoked-token reuse",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount({
      ...FAST_ACCOUNT,
      connection: { ...FAST_ACCOUNT.connection, accessTokenExpiresAt: EXPIRED() },
    }, async (env) => {
      const before = await readConnection(env.sql, env.connectionId);
      // Separate client objects, as separate function invocations would have.
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => env.client().getPipelines()));
      assert.deepEqual(results.map((r) => r.status), Array(20).fill("fulfilled"));

      const stats = env.sim.stats(env.subdomain);
      assert.equal(stats.refreshes, 1);
      assert.equal(stats.revokedTokenReuses, 0);
      assert.equal(
        stats.requests.filter((r) => r.status === 401).length,
        0,
        "no call went out with a dead token",
      );
      const after = await readConnection(env.sql, env.connectionId);
      assert.notEqual(after.access_token, before.access_token);
      assert.notEqual(after.refresh_token, before.refresh_token);
      assert.ok(after.access_token_expires_at!.getTime() > Date.now() + 3600_000);
      assert.ok(after.token_refreshed_at!.getTime() > before.token_refreshed_at!.getTime());
      assert.equal(after.amocrm_account_id, String(env.accountId), "account id taken from the token");
      assert.equal(after.state, "active");
    }),
});

Deno.test({
  name: "two processes on an expired token share one refresh (row lock, re-read after the lock)",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount({
      ...FAST_ACCOUNT,
      connection: { ...FAST_ACCOUNT.connection, accessTokenExpiresAt: EXPIRED() },
    }, async (env) => {
      const startAt = Date.now() + 2500;
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--config",
          new URL("../../../deno.json", import.meta.url).pathname,
          new URL("./_hammer_worker.ts", import.meta.url).pathname,
          env.connectionId,
          "10",
          "10",
          String(startAt),
        ],
        env: { DATABASE_URL: Deno.env.get("DATABASE_URL")! },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
      const mine = await Promise.allSettled(Array.from({ length: 10 }, () => env.client().getPipelines()));
      const output = await child.output();
      assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
      const theirs = JSON.parse(new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!);

      assert.deepEqual(mine.map((r) => r.status), Array(10).fill("fulfilled"));
      assert.equal(theirs.ok, 10, JSON.stringify(theirs.errors));
      const stats = env.sim.stats(env.subdomain);
      assert.equal(stats.refreshes, 1);
      assert.equal(stats.revokedTokenReuses, 0);
    }),
});

Deno.test({
  name: "a refresh answered 401 (revoked) marks the connection reauth_required and stops calling",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount(FAST_ACCOUNT, async (env) => {
      // Someone else refreshed and lost the answer: we still hold the now-dead refresh token.
      await env.client().refreshToken();
      await env.sql`update amocrm.connections set access_token = 'stale', refresh_token = ${env.tokens
        .refresh_token!},
                      access_token_expires_at = ${EXPIRED()} where id = ${env.connectionId}`;
      await assert.rejects(env.client().getPipelines(), (error) => {
        assert.ok(error instanceof AmoCrmReauthRequiredError);
        assert.equal(error.status, 401);
        assert.match(error.detail, /revoked/i);
        return true;
      });
      const row = await readConnection(env.sql, env.connectionId);
      assert.equal(row.state, "reauth_required");
      assert.match(row.state_reason ?? "", /revoked/i);

      const seen = env.sim.stats(env.subdomain).totalRequests;
      await assert.rejects(env.client().getPipelines(), AmoCrmReauthRequiredError);
      assert.equal(
        env.sim.stats(env.subdomain).totalRequests,
        seen,
        "no HTTP call for a reauth_required connection",
      );
    }),
});

Deno.test({
  name: "a 401 on the API refreshes once and repeats the call",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount(FAST_ACCOUNT, async (env) => {
      await env
        .sql`update amocrm.connections set access_token = 'not-a-token' where id = ${env.connectionId}`;
      const pipelines = await env.client().getPipelines();
      assert.ok(pipelines.length > 0);
      const stats = env.sim.stats(env.subdomain);
      assert.equal(stats.refreshes, 1);
      assert.deepEqual(stats.requests.map((r) => r.status), [401, 200, 200]);
      const traces = await readTraces(env.sql, env.connectionId);
      const pipelineCall = traces.find((t) => t.endpoint === "/api/v4/leads/pipelines")!;
      assert.equal(pipelineCall.status, 200);
      assert.equal(pipelineCall.retries, 1);
    }),
});

Deno.test({
  name: "long-lived tokens are never refreshed; a 401 on one requires re-authorization",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount({
      ...FAST_ACCOUNT,
      longLived: true,
      connection: { ...FAST_ACCOUNT.connection, accessTokenExpiresAt: EXPIRED() },
    }, async (env) => {
      // Our stored expiry says "expired", but a long-lived token is used as is.
      assert.ok((await env.client().getPipelines()).length > 0);
      env.sim.revokeTokens(env.subdomain);
      await assert.rejects(env.client().getPipelines(), AmoCrmReauthRequiredError);
      const stats = env.sim.stats(env.subdomain);
      assert.equal(stats.refreshes, 0);
      assert.equal(stats.requests.filter((r) => r.path.startsWith("/oauth2")).length, 0);
      assert.equal((await readConnection(env.sql, env.connectionId)).state, "reauth_required");
    }),
});

Deno.test({
  name: "the authorization code exchange activates a pending connection; a used code is rejected",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount({
      ...FAST_ACCOUNT,
      connection: {
        ...FAST_ACCOUNT.connection,
        state: "pending",
        accessToken: null,
        refreshToken: null,
        accessTokenExpiresAt: null,
      },
    }, async (env) => {
      const code = env.sim.issueAuthorizationCode(env.subdomain);
      const result = await env.client().exchangeAuthorizationCode(code);
      assert.equal(result.amocrmAccountId, env.accountId);
      const row = await readConnection(env.sql, env.connectionId);
      assert.equal(row.state, "active");
      assert.ok(row.access_token && row.refresh_token);
      assert.ok((await env.client().getPipelines()).length > 0);

      await assert.rejects(env.client().exchangeAuthorizationCode(code), AmoCrmBadRequestError);
      assert.equal(
        (await readConnection(env.sql, env.connectionId)).state,
        "active",
        "a bad code changes nothing",
      );
    }),
});

Deno.test({
  name: "keep-alive refreshes OAuth connections idle for long, and only those",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount(FAST_ACCOUNT, async (env) => {
      const idle = new Date(Date.now() - 45 * 86_400_000);
      await env
        .sql`update amocrm.connections set token_refreshed_at = ${idle} where id = ${env.connectionId}`;
      const deps = { sql: env.sql, log: () => {} };
      const report = await keepAliveIdleConnections(deps, {
        idleDays: 30,
        connectionIds: [env.connectionId],
      });
      assert.deepEqual(report.refreshed, [env.connectionId]);
      assert.equal(env.sim.stats(env.subdomain).refreshes, 1);
      const again = await keepAliveIdleConnections(deps, { idleDays: 30, connectionIds: [env.connectionId] });
      assert.equal(again.checked, 0, "a fresh token is left alone");
      assert.equal(env.sim.stats(env.subdomain).refreshes, 1);
    }),
});
