// What amocrm-connect accepts, validated in one place so a wrong request is answered with every problem at
// once. Client id/secret/redirect URI default to the integration's env (AMOCRM_CLIENT_ID, …_SECRET,
// …_REDIRECT_URI): one integration serves every account, only the code is per account.
import { z } from "zod";
import { AMOCRM_BASE_DOMAINS } from "../_shared/amocrm/mod.ts";
import { uuidField } from "../_shared/uuid.ts";

const SUBDOMAIN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

const bodySchema = z.object({
  userAccountId: uuidField("userAccountId must be a uuid"),
  subdomain: z.string({ error: "subdomain is required" }).trim()
    .regex(SUBDOMAIN, {
      error: "subdomain must be the account's amoCRM subdomain, e.g. acme for acme.amocrm.ru",
    })
    .refine((s) => s.toLowerCase() !== "www", { error: "subdomain must not be www" }),
  baseDomain: z.enum(AMOCRM_BASE_DOMAINS, {
    error: `baseDomain must be one of ${AMOCRM_BASE_DOMAINS.join(", ")}`,
  })
    .optional(),
  apiBaseUrl: z.url({ protocol: /^https?$/, error: "apiBaseUrl must be an http(s) URL" }).optional(),
  code: z.string().trim().min(1, { error: "code must not be empty" }).optional(),
  longLivedToken: z.string().trim().min(1, { error: "longLivedToken must not be empty" }).optional(),
  clientId: z.string().trim().min(1).optional(),
  clientSecret: z.string().trim().min(1).optional(),
  redirectUri: z.url({ error: "redirectUri must be a URL" }).optional(),
});

export interface ConnectRequest {
  userAccountId: string;
  subdomain: string;
  baseDomain: (typeof AMOCRM_BASE_DOMAINS)[number];
  apiBaseUrl: string | null;
  credential: { kind: "code"; code: string } | { kind: "long_lived"; token: string; expiresAt: Date | null };
  clientId: string | null;
  clientSecret: string | null;
  redirectUri: string | null;
}

export type ParsedConnect = { ok: true; request: ConnectRequest } | { ok: false; problems: string[] };

/** `exp` of a JWT access token (amoCRM's tokens are JWTs); null when it has none or is not a JWT. */
export function jwtExpiry(token: string): Date | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const json = atob(
      payload.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(payload.length / 4) * 4, "="),
    );
    const exp = Number((JSON.parse(json) as { exp?: unknown }).exp);
    return Number.isFinite(exp) && exp > 0 ? new Date(exp * 1000) : null;
  } catch {
    return null;
  }
}

export function parseConnectRequest(
  params: Record<string, unknown>,
  env: (name: string) => string | undefined,
): ParsedConnect {
  const parsed = bodySchema.safeParse(params);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((i) => i.message) };
  }
  const body = parsed.data;
  const problems: string[] = [];
  if (!body.code && !body.longLivedToken) {
    problems.push("send code (OAuth authorization code) or longLivedToken");
  }
  if (body.code && body.longLivedToken) problems.push("send either code or longLivedToken, not both");
  const clientId = body.clientId ?? env("AMOCRM_CLIENT_ID") ?? null;
  const clientSecret = body.clientSecret ?? env("AMOCRM_CLIENT_SECRET") ?? null;
  const redirectUri = body.redirectUri ?? env("AMOCRM_REDIRECT_URI") ?? null;
  if (body.code) {
    // The code exchange needs all three; refreshing later needs them too.
    if (!clientId) problems.push("clientId is missing (body or env AMOCRM_CLIENT_ID)");
    if (!clientSecret) problems.push("clientSecret is missing (body or env AMOCRM_CLIENT_SECRET)");
    if (!redirectUri) problems.push("redirectUri is missing (body or env AMOCRM_REDIRECT_URI)");
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    request: {
      userAccountId: body.userAccountId.toLowerCase(),
      subdomain: body.subdomain.toLowerCase(),
      baseDomain: body.baseDomain ?? "amocrm.ru",
      apiBaseUrl: body.apiBaseUrl ?? null,
      credential: body.code
        ? { kind: "code", code: body.code }
        : { kind: "long_lived", token: body.longLivedToken!, expiresAt: jwtExpiry(body.longLivedToken!) },
      clientId,
      clientSecret,
      redirectUri,
    },
  };
}
