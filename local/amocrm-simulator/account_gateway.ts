import { abortableSleep } from "./abortable.ts";
import type { Account } from "./account.ts";
import type { SimClock } from "./clock.ts";
import type { TokenService } from "./oauth.ts";
import { parseQuery } from "./query_params.ts";
import type { RateLimiter } from "./rate_limiter.ts";
import { nginxHtml, problem } from "./responses.ts";
import { routeApi } from "./routes/api_router.ts";
import { tokenEndpoint } from "./routes/oauth.ts";

export interface GatewayDeps {
  clock: SimClock;
  tokens: TokenService;
  limiter: RateLimiter;
  /** More 429s than this within the violation window block the account. */
  blockAfter429s: number;
  /** Aborted when the simulator stops: hung requests end. */
  stopping: AbortSignal;
}

function bearerOf(request: Request): string | null {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "");
  return match ? match[1] : null;
}

/**
 * Everything amoCRM's edge does to a call for one account, in order: block (403 HTML), rate limit (429),
 * injected faults, auth (401), payment (402), then the API itself. Every call is recorded in the stats.
 */
export async function handleAccountRequest(
  deps: GatewayDeps,
  account: Account,
  request: Request,
  path: string,
  rawSearch: string,
): Promise<Response> {
  const bearer = bearerOf(request);
  const clientId = bearer ? deps.tokens.clientIdOf(account.subdomain, bearer) : null;
  account.stats.arrival(deps.clock.wallMs(), clientId);
  const response = await gate(deps, account, request, path, rawSearch, bearer, clientId);
  account.stats.request({
    time: deps.clock.nowMs(),
    method: request.method,
    path: rawSearch ? `${path}?${rawSearch}` : path,
    status: response.status,
    clientId,
  });
  return response;
}

async function gate(
  deps: GatewayDeps,
  account: Account,
  request: Request,
  path: string,
  rawSearch: string,
  bearer: string | null,
  clientId: string | null,
): Promise<Response> {
  if (account.stats.blocked) {
    account.stats.forbiddenWhileBlocked++;
    return nginxHtml(403);
  }
  if (path === "/oauth2/access_token") {
    if (request.method !== "POST") return problem(405, "Use POST");
    return await injectFaults(deps, account) ??
      await tokenEndpoint(request, account, deps.tokens, account.faults);
  }
  if (!path.startsWith("/api/")) return problem(404, `No route ${path}`);

  const wallMs = deps.clock.wallMs();
  if (!deps.limiter.tryAcquire(account.subdomain, clientId ?? `anonymous:${bearer ?? ""}`, wallMs)) {
    if (account.stats.violation(wallMs) > deps.blockAfter429s) {
      account.stats.blocked = true;
      account.stats.blockedAt = deps.clock.nowMs();
    }
    // amoCRM's 429 comes either from nginx (HTML) or from the API (JSON).
    return account.random.chance(0.5) ? nginxHtml(429) : problem(429, "Too many requests");
  }
  const faulted = await injectFaults(deps, account);
  if (faulted) return faulted;
  if (!bearer || deps.tokens.authenticate(account.subdomain, bearer) === null) {
    return problem(401, "Unauthorized: the access token is missing, expired or revoked");
  }
  if (account.unpaid) return problem(402, "Account is not paid");
  return await routeApi({
    account,
    method: request.method,
    path,
    rawSearch,
    query: parseQuery(rawSearch),
    request,
  });
}

/** Hang / 5xx / slow answers, as configured by the account's fault knobs. Null = carry on normally. */
async function injectFaults(deps: GatewayDeps, account: Account): Promise<Response | null> {
  const hang = account.faults.roll("apiHang");
  if (hang) {
    account.stats.injectedFaults++;
    // Like nginx: no answer until its own 60 s timeout (or the simulator stops), whatever the client does.
    await abortableSleep(hang.hangMs ?? 60_000, deps.stopping);
    return nginxHtml(504);
  }
  const serverError = account.faults.roll("apiServerError");
  if (serverError) {
    account.stats.injectedFaults++;
    const status = serverError.status ?? 500;
    return status === 500 ? problem(500, "Internal server error") : nginxHtml(status);
  }
  const slow = account.faults.roll("apiSlow");
  if (slow) {
    account.stats.injectedFaults++;
    await abortableSleep(slow.delayMs ?? 3000, deps.stopping);
  }
  return null;
}
