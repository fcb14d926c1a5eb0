import type { Account } from "../account.ts";
import type { FaultInjector } from "../faults.ts";
import type { TokenService } from "../oauth.ts";
import { json, nginxHtml } from "../responses.ts";

const OAUTH_PROBLEM_TYPE = "https://developers.amocrm.ru/v3/errors/OAuthProblemJson";

async function readBody(request: Request): Promise<Record<string, unknown>> {
  const text = await request.text();
  const type = request.headers.get("content-type") ?? "";
  if (type.includes("application/x-www-form-urlencoded")) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

/** POST /oauth2/access_token: authorization_code and refresh_token grants, single-use codes and refresh tokens. */
export async function tokenEndpoint(
  request: Request,
  account: Account,
  tokens: TokenService,
  faults: FaultInjector,
): Promise<Response> {
  const body = await readBody(request);
  const clientId = typeof body.client_id === "string" ? body.client_id : "";
  const result = tokens.exchange(
    account.subdomain,
    account.id,
    account.integrations.get(clientId),
    body,
    account.accessTokenTtlSeconds,
  );
  if (!result.ok) {
    const { status, title, detail, hint, revokedReuse } = result.failure;
    if (revokedReuse) account.stats.revokedTokenReuses++;
    return new Response(JSON.stringify({ hint, title, type: OAUTH_PROBLEM_TYPE, status, detail }), {
      status,
      headers: { "content-type": "application/problem+json" },
    });
  }
  if (body.grant_type === "refresh_token") account.stats.refreshes++;
  // The new pair exists now; losing the answer burns the old refresh token for good.
  if (faults.roll("oauthLoseResponse")) {
    account.stats.injectedFaults++;
    return nginxHtml(504);
  }
  return json(result.tokens);
}
