// One logical amoCRM API call: gate (state, breaker, shared rate token, current token) → HTTP attempt →
// classify → retry with full-jitter backoff when safe → trace. Every amoCRM API call goes through here.
import { fullJitterDelayMs, isRetryableStatus } from "./backoff.ts";
import type { AmoCrmContext } from "./deps.ts";
import { AmoCrmConnectionStateError, AmoCrmNetworkError, AmoCrmReauthRequiredError } from "./errors.ts";
import { acquireGate } from "./gate.ts";
import { retryAfterMs, sendHttp } from "./http.ts";
import { refreshAccessToken } from "./oauth.ts";
import { closeBreaker, openBreaker, pauseRateBucket, setConnectionState } from "./store.ts";
import { traceCall } from "./trace.ts";
import { addressOf, buildUrl, endpointOf, type QueryParams, resolveNextUrl } from "./urls.ts";

/** Server-suggested waits longer than this are not honoured (the caller would rather fail and retry later). */
const MAX_RETRY_AFTER_MS = 60_000;

export interface ApiRequest {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** `/api/v4/...` plus `query`, or `href`: a `_links.next` URL (absolute or `/api/v4/...?...`). */
  path?: string;
  query?: QueryParams;
  href?: string;
  body?: unknown;
  /** Safe to repeat after a timeout / 5xx (GET; webhook upsert/delete by destination). */
  idempotent: boolean;
  /** Batched read: throw AmoCrmGatewayTimeoutError on a 504 at once so the caller can ask for less. */
  throwOn504?: boolean;
  signal?: AbortSignal;
}

export interface ApiResponse {
  status: number;
  /** Parsed JSON; null for 204 / empty body. */
  body: unknown;
  url: string;
}

export async function apiRequest(ctx: AmoCrmContext, request: ApiRequest): Promise<ApiResponse> {
  const { deps, options, connectionId } = ctx;
  const started = deps.now();
  let retries = 0;
  let status: number | null = null;
  let endpoint = request.path ?? pathOf(request.href ?? "");
  let accountId: string | null = null;
  let failure: unknown;
  let refreshedAfter401 = false;
  const sleepBeforeRetry = async (attempt: number, hintMs: number | null) => {
    retries++;
    const backoff = fullJitterDelayMs(attempt, options.retry, deps.random);
    await deps.sleep(Math.max(backoff, Math.min(hintMs ?? 0, MAX_RETRY_AFTER_MS)));
  };
  try {
    for (let attempt = 0;; attempt++) {
      const gate = await acquireGate(ctx, "api", { endpoint, method: request.method });
      accountId = gate.amocrm_account_id;
      const baseUrl = addressOf(gate, connectionId, endpoint);
      const url = request.href !== undefined
        ? resolveNextUrl(baseUrl, request.href)
        : buildUrl(baseUrl, request.path ?? "", request.query);
      endpoint = endpointOf(baseUrl, url);
      const where = { endpoint, method: request.method, connectionId };

      let token = gate.access_token;
      if (!token) {
        throw new AmoCrmConnectionStateError("no_token", { ...where, detail: "no access token stored" });
      }
      const expiresAt = gate.access_token_expires_at?.getTime();
      if (
        gate.token_kind === "oauth" && expiresAt !== undefined &&
        expiresAt - options.refreshMarginSeconds * 1000 <= deps.now()
      ) {
        token = (await refreshAccessToken(ctx, { staleAccessToken: token, reason: "expired" })).accessToken;
      }

      let outcome;
      try {
        outcome = await sendHttp(deps.fetch, {
          ...where,
          url,
          headers: { authorization: `Bearer ${token}`, accept: "application/hal+json, application/json" },
          body: request.body,
          timeoutMs: options.requestTimeoutMs,
          signal: request.signal,
        });
      } catch (error) {
        // Timeouts and resets: the request may have been processed, so only idempotent ones are repeated.
        if (
          error instanceof AmoCrmNetworkError && request.idempotent && attempt + 1 < options.retry.maxAttempts
        ) {
          if (request.signal?.aborted) throw error;
          await sleepBeforeRetry(attempt, null);
          continue;
        }
        throw error;
      }
      status = outcome.status;

      if (outcome.ok) {
        // The half-open probe after a cool-down got through: the account is no longer blocked.
        if (gate.breaker_probe) await closeBreaker(deps.sql, connectionId);
        return { status: outcome.status, body: outcome.body, url };
      }

      const error = outcome.error;
      switch (outcome.status) {
        case 401: {
          if (gate.token_kind === "oauth" && !refreshedAfter401) {
            // An expired/revoked access token: refresh once (single-flight) and repeat the call.
            refreshedAfter401 = true;
            retries++;
            await refreshAccessToken(ctx, { staleAccessToken: token, reason: "unauthorized" });
            attempt--; // not a failure of the endpoint: does not use up a retry
            continue;
          }
          const reason = `401 on ${request.method} ${endpoint}: ${error.detail}`;
          await setConnectionState(deps.sql, connectionId, "reauth_required", reason);
          throw new AmoCrmReauthRequiredError({ ...where, status: 401, detail: reason, cause: error });
        }
        case 402:
          await setConnectionState(deps.sql, connectionId, "account_unpaid", error.detail);
          throw error;
        case 403:
          await openBreaker(
            deps.sql,
            connectionId,
            `403 on ${request.method} ${endpoint}: ${error.detail}`,
            options.breakerCooldownSeconds,
          );
          throw error;
        case 429:
          // Make every instance slow down, not only this one.
          await pauseRateBucket(deps.sql, connectionId, options.rateLimitPauseMs);
          break;
        case 504:
          if (request.throwOn504) throw error;
          break;
      }
      // A 429 was rejected before processing, so even a write may be repeated; 5xx only when idempotent.
      const retryable = isRetryableStatus(outcome.status) && (request.idempotent || outcome.status === 429);
      if (retryable && attempt + 1 < options.retry.maxAttempts) {
        await sleepBeforeRetry(attempt, retryAfterMs(outcome.headers, deps.now()));
        continue;
      }
      throw error;
    }
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    await traceCall(ctx, {
      amocrmAccountId: accountId,
      method: request.method,
      endpoint,
      status,
      durationMs: deps.now() - started,
      retries,
      error: failure,
    });
  }
}

function pathOf(href: string): string {
  try {
    return new URL(href, "http://relative.invalid").pathname;
  } catch {
    return href;
  }
}
