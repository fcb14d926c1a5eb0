// OAuth 2.0 for amoCRM: authorization-code exchange, single-flight token refresh, keep-alive of idle connections.
//
// amoCRM refresh tokens are single-use: two concurrent refreshes kill the connection until a human re-authorizes.
// So a refresh runs in one Postgres transaction holding the connection row lock (`select … for no key update`,
// the FOR UPDATE variant that does not block foreign-key checks), re-reads
// the tokens after the lock is granted (another instance may have refreshed meanwhile: then its token is used),
// and only otherwise calls amoCRM and stores the new pair in the same transaction.
import { fullJitterDelayMs } from "./backoff.ts";
import { type AmoCrmContext, type AmoCrmDeps, createContext, type Sql } from "./deps.ts";
import {
  AmoCrmCircuitOpenError,
  AmoCrmConnectionStateError,
  AmoCrmError,
  type AmoCrmHttpError,
  AmoCrmInvalidResponseError,
  AmoCrmReauthRequiredError,
} from "./errors.ts";
import { acquireGate } from "./gate.ts";
import { retryAfterMs, sendHttp } from "./http.ts";
import { type AmoTokenResponse, tokenResponseSchema } from "./schemas.ts";
import {
  type CallPurpose,
  findIdleOAuthConnections,
  lockTokenRow,
  openBreaker,
  pauseRateBucket,
  setConnectionState,
  storeTokens,
  type TokenRow,
} from "./store.ts";
import { traceCall } from "./trace.ts";
import { addressOf } from "./urls.ts";

const TOKEN_ENDPOINT = "/oauth2/access_token";

export type RefreshReason = "expired" | "unauthorized" | "keepalive" | "forced";

export interface RefreshRequest {
  /** The access token the caller found unusable; if the stored one differs, someone already refreshed. */
  staleAccessToken: string | null;
  reason: RefreshReason;
  /** keepalive: skip when the token was refreshed at or after this time (by someone else meanwhile). */
  idleSince?: Date;
}

export type RefreshResult =
  | { outcome: "refreshed"; accessToken: string }
  | { outcome: "reused"; accessToken: string };

// Same-process callers share one refresh; the row lock does the same across processes.
const inflightRefreshes = new Map<string, Promise<RefreshResult>>();

/**
 * Returns a usable access token for the connection, refreshing it at most once across all instances.
 * Throws AmoCrmReauthRequiredError when amoCRM rejects the refresh token (the connection is marked
 * `reauth_required`), AmoCrmCircuitOpenError / AmoCrmConnectionStateError when no call may be made.
 */
export function refreshAccessToken(ctx: AmoCrmContext, request: RefreshRequest): Promise<RefreshResult> {
  const key = ctx.connectionId;
  const running = inflightRefreshes.get(key);
  if (running) return running;
  const started = refreshUnderRowLock(ctx, request).finally(() => inflightRefreshes.delete(key));
  inflightRefreshes.set(key, started);
  return started;
}

type LockedOutcome =
  | RefreshResult
  | { outcome: "failed"; error: AmoCrmError; commit: true };

async function refreshUnderRowLock(ctx: AmoCrmContext, request: RefreshRequest): Promise<RefreshResult> {
  const { deps, options, connectionId } = ctx;
  const where = { endpoint: TOKEN_ENDPOINT, method: "POST", connectionId };
  const result = await deps.sql.begin(async (tx): Promise<LockedOutcome> => {
    const sql = tx as unknown as Sql;
    const row = await lockTokenRow(sql, connectionId);
    if (!row) throw new AmoCrmConnectionStateError("not_found", { ...where, detail: "connection not found" });
    if (row.state !== "active") {
      if (row.state === "reauth_required") throw new AmoCrmReauthRequiredError(where);
      throw new AmoCrmConnectionStateError(row.state, where);
    }

    // RE-READ after the lock: the token may have changed while we waited for it.
    const stored = row.access_token;
    const fresh = stored !== null && row.access_token_expires_at !== null &&
      row.access_token_expires_at.getTime() - options.refreshMarginSeconds * 1000 > deps.now();
    if (row.token_kind !== "oauth") {
      // Long-lived tokens are never refreshed. A 401 on one means the grant is gone.
      if (request.reason === "unauthorized" && stored === request.staleAccessToken) {
        const error = new AmoCrmReauthRequiredError({
          ...where,
          status: 401,
          detail: "401 on a long-lived token",
        });
        await setConnectionState(sql, connectionId, "reauth_required", error.detail);
        return { outcome: "failed", error, commit: true };
      }
      if (!stored) throw new AmoCrmConnectionStateError("no_token", { ...where, detail: "no access token" });
      return { outcome: "reused", accessToken: stored };
    }
    // Someone else refreshed meanwhile: use theirs (for an expiry, only if theirs is still fresh itself).
    if (
      stored && stored !== request.staleAccessToken && request.reason !== "forced" &&
      (fresh || request.reason !== "expired")
    ) {
      return { outcome: "reused", accessToken: stored };
    }
    if (request.reason === "expired" && fresh && stored) return { outcome: "reused", accessToken: stored };
    if (
      request.reason === "keepalive" && stored && row.token_refreshed_at && request.idleSince &&
      row.token_refreshed_at.getTime() >= request.idleSince.getTime()
    ) {
      return { outcome: "reused", accessToken: stored };
    }
    if (!row.refresh_token || !row.client_id || !row.client_secret || !row.redirect_uri) {
      const error = new AmoCrmReauthRequiredError({
        ...where,
        detail: "no refresh token / client credentials stored",
      });
      await setConnectionState(sql, connectionId, "reauth_required", error.detail);
      return { outcome: "failed", error, commit: true };
    }
    assertBreakerAllows(row, deps.now(), where);

    const answer = await postTokenRequest(ctx, row, "refresh", {
      client_id: row.client_id,
      client_secret: row.client_secret,
      grant_type: "refresh_token",
      refresh_token: row.refresh_token,
      redirect_uri: row.redirect_uri,
    });
    if ("tokens" in answer) {
      const now = deps.now();
      await storeTokens(sql, connectionId, {
        accessToken: answer.tokens.access_token,
        refreshToken: answer.tokens.refresh_token,
        expiresAt: new Date(now + answer.tokens.expires_in * 1000),
        refreshedAt: new Date(now),
        amocrmAccountId: accountIdFromAccessToken(answer.tokens.access_token),
        activate: false,
      });
      deps.log({
        level: "info",
        msg: "amocrm.token_refreshed",
        connection_id: connectionId,
        reason: request.reason,
      });
      return { outcome: "refreshed", accessToken: answer.tokens.access_token };
    }
    // Persist the consequence in this same transaction, then throw after COMMIT.
    return { outcome: "failed", error: await recordTokenFailure(sql, ctx, answer.error), commit: true };
  });
  if (result.outcome === "failed") throw result.error;
  return result;
}

/** Code exchange answered with an error: what it means for the connection. Returns the error to throw. */
async function recordTokenFailure(
  sql: Sql,
  ctx: AmoCrmContext,
  error: AmoCrmHttpError,
): Promise<AmoCrmError> {
  const { connectionId, options } = ctx;
  if (error.status === 401 || error.status === 400) {
    // "Token has been revoked" / invalid grant: only a human re-authorizing can fix it.
    const reason = `token refresh rejected (${error.status}): ${error.detail}`;
    await setConnectionState(sql, connectionId, "reauth_required", reason);
    return new AmoCrmReauthRequiredError({
      status: error.status,
      detail: reason,
      endpoint: error.endpoint,
      method: error.method,
      connectionId,
      cause: error,
    });
  }
  if (error.status === 402) {
    await setConnectionState(sql, connectionId, "account_unpaid", error.detail);
  } else if (error.status === 403) {
    await openBreaker(
      sql,
      connectionId,
      `403 on ${error.endpoint}: ${error.detail}`,
      options.breakerCooldownSeconds,
    );
  }
  return error;
}

function assertBreakerAllows(row: TokenRow, nowMs: number, where: { endpoint: string; method: string }) {
  if (row.breaker_open && (!row.breaker_cooldown_until || row.breaker_cooldown_until.getTime() > nowMs)) {
    throw new AmoCrmCircuitOpenError({
      ...where,
      connectionId: row.id,
      detail: `circuit breaker open${row.breaker_reason ? `: ${row.breaker_reason}` : ""}`,
    });
  }
}

type TokenAnswer = { tokens: AmoTokenResponse } | { error: AmoCrmHttpError };

/**
 * POST {base}/oauth2/access_token. Not idempotent (codes and refresh tokens are single-use), so it is retried
 * only when amoCRM certainly did not process it: a 429. Network errors and timeouts are thrown, not retried.
 */
async function postTokenRequest(
  ctx: AmoCrmContext,
  row: TokenRow,
  purpose: CallPurpose,
  body: Record<string, string>,
): Promise<TokenAnswer> {
  const { deps, options, connectionId } = ctx;
  const started = deps.now();
  let retries = 0;
  let status: number | null = null;
  let failure: unknown;
  try {
    for (let attempt = 0;; attempt++) {
      await acquireGate(ctx, purpose, { endpoint: TOKEN_ENDPOINT, method: "POST" });
      const url = `${addressOf(row, connectionId, TOKEN_ENDPOINT)}${TOKEN_ENDPOINT}`;
      const outcome = await sendHttp(deps.fetch, {
        method: "POST",
        url,
        endpoint: TOKEN_ENDPOINT,
        connectionId,
        headers: { accept: "application/json" },
        body,
        timeoutMs: options.requestTimeoutMs,
      });
      status = outcome.status;
      if (outcome.ok) {
        const parsed = tokenResponseSchema.safeParse(outcome.body);
        if (!parsed.success) {
          throw new AmoCrmInvalidResponseError({
            status,
            endpoint: TOKEN_ENDPOINT,
            method: "POST",
            connectionId,
            detail: `token response: ${parsed.error.message.slice(0, 200)}`,
          });
        }
        return { tokens: parsed.data };
      }
      if (outcome.status === 429) {
        await pauseRateBucket(deps.sql, connectionId, options.rateLimitPauseMs);
        if (attempt + 1 < options.retry.maxAttempts) {
          retries++;
          const hinted = retryAfterMs(outcome.headers, deps.now()) ?? 0;
          await deps.sleep(Math.max(hinted, fullJitterDelayMs(attempt, options.retry, deps.random)));
          continue;
        }
      }
      failure = outcome.error;
      return { error: outcome.error };
    }
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    await traceCall(ctx, {
      amocrmAccountId: row.amocrm_account_id,
      method: "POST",
      endpoint: TOKEN_ENDPOINT,
      status,
      durationMs: deps.now() - started,
      retries,
      error: failure,
    });
  }
}

export interface ExchangeResult {
  accessTokenExpiresAt: Date;
  amocrmAccountId: number | null;
}

/**
 * Exchanges an authorization code (from the consent redirect) for a token pair and activates the connection.
 * The connection row must already hold client_id, client_secret, redirect_uri and the account address.
 */
export async function exchangeAuthorizationCode(ctx: AmoCrmContext, code: string): Promise<ExchangeResult> {
  const { deps, connectionId } = ctx;
  const where = { endpoint: TOKEN_ENDPOINT, method: "POST", connectionId };
  const result = await deps.sql.begin(async (tx) => {
    const sql = tx as unknown as Sql;
    const row = await lockTokenRow(sql, connectionId);
    if (!row) throw new AmoCrmConnectionStateError("not_found", { ...where, detail: "connection not found" });
    if (!row.client_id || !row.client_secret || !row.redirect_uri) {
      throw new AmoCrmConnectionStateError(row.state, {
        ...where,
        detail: "client_id/secret/redirect_uri missing",
      });
    }
    assertBreakerAllows(row, deps.now(), where);
    const answer = await postTokenRequest(ctx, row, "exchange", {
      client_id: row.client_id,
      client_secret: row.client_secret,
      grant_type: "authorization_code",
      code,
      redirect_uri: row.redirect_uri,
    });
    // A rejected code leaves the connection as it was: the user simply tries again.
    if ("error" in answer) return { error: answer.error };
    const now = deps.now();
    const expiresAt = new Date(now + answer.tokens.expires_in * 1000);
    const accountId = accountIdFromAccessToken(answer.tokens.access_token);
    await storeTokens(sql, connectionId, {
      accessToken: answer.tokens.access_token,
      refreshToken: answer.tokens.refresh_token,
      expiresAt,
      refreshedAt: new Date(now),
      amocrmAccountId: accountId,
      activate: true,
    });
    return { value: { accessTokenExpiresAt: expiresAt, amocrmAccountId: accountId } };
  });
  if ("error" in result) throw result.error;
  return result.value;
}

/** amoCRM access tokens are JWTs carrying `account_id`; best effort, null when it is not there. */
export function accountIdFromAccessToken(accessToken: string): number | null {
  const parts = accessToken.split(".");
  if (parts.length !== 3) return null;
  try {
    const json = atob(
      parts[1].replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(parts[1].length / 4) * 4, "="),
    );
    const claims = JSON.parse(json) as Record<string, unknown>;
    const id = Number(claims.account_id);
    return Number.isSafeInteger(id) && id > 0 ? id : null;
  } catch {
    return null;
  }
}

export interface KeepAliveOptions {
  /** Refresh OAuth connections whose token was last refreshed more than this many days ago. Default 30. */
  idleDays?: number;
  /** At most this many connections per run. Default 100. */
  limit?: number;
  /** Only these connections (e.g. one account on demand); default: all. */
  connectionIds?: string[];
}

export interface KeepAliveReport {
  checked: number;
  refreshed: string[];
  skipped: string[];
  failed: { connectionId: string; error: string }[];
}

/**
 * Refreshes idle OAuth connections so their 3-month refresh tokens never age out. Meant for a daily cron job;
 * safe to run concurrently with live traffic (same single-flight refresh as every call).
 */
export async function keepAliveIdleConnections(
  deps: Partial<AmoCrmDeps> = {},
  opts: KeepAliveOptions = {},
): Promise<KeepAliveReport> {
  const base = createContext("", deps);
  const idleSince = new Date(base.deps.now() - (opts.idleDays ?? 30) * 86_400_000);
  const rows = await findIdleOAuthConnections(
    base.deps.sql,
    idleSince,
    opts.limit ?? 100,
    opts.connectionIds ?? null,
  );
  const report: KeepAliveReport = { checked: rows.length, refreshed: [], skipped: [], failed: [] };
  for (const row of rows) {
    const ctx: AmoCrmContext = { ...base, connectionId: row.id };
    try {
      const result = await refreshAccessToken(ctx, {
        staleAccessToken: row.access_token,
        reason: "keepalive",
        idleSince,
      });
      (result.outcome === "refreshed" ? report.refreshed : report.skipped).push(row.id);
    } catch (error) {
      report.failed.push({
        connectionId: row.id,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return report;
}
