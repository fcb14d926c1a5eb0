import type { Random } from "./random.ts";

/** One OAuth integration (client) installed in an account. */
export interface Integration {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

interface TokenRecord {
  kind: "access" | "refresh" | "code";
  subdomain: string;
  clientId: string;
  expiresAtMs: number;
  /** Codes and refresh tokens are single-use; a revoked access token belongs to a disconnected integration. */
  revoked: boolean;
  longLived: boolean;
}

export interface TokenResponse {
  token_type: "Bearer";
  expires_in: number;
  access_token: string;
  refresh_token?: string;
  /** Token issue time on the server, unix seconds (Kommo's token reference, developers.kommo.com/reference/get-token). */
  server_time?: number;
}

/** Failure of the token endpoint, rendered as amoCRM's OAuth problem JSON. */
export interface OAuthFailure {
  status: 400 | 401;
  title: string;
  detail: string;
  hint: string;
  revokedReuse?: boolean;
}

export type OAuthResult = { ok: true; tokens: TokenResponse } | { ok: false; failure: OAuthFailure };

export const AUTH_CODE_TTL_MS = 20 * 60 * 1000;
export const REFRESH_TOKEN_TTL_MS = 90 * 24 * 3600 * 1000;
const LONG_LIVED_DEFAULT_SECONDS = 5 * 365 * 24 * 3600;

const fail = (
  status: 400 | 401,
  detail: string,
  hint: string,
  extra: Partial<OAuthFailure> = {},
): OAuthResult => ({
  ok: false,
  failure: { status, title: status === 401 ? "Unauthorized" : "Bad Request", detail, hint, ...extra },
});

const base64url = (text: string): string =>
  btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** Issues, refreshes and validates tokens for every account of the simulator. */
export class TokenService {
  readonly #tokens = new Map<string, TokenRecord>();
  #counter = 0;

  constructor(private readonly random: Random, private readonly nowMs: () => number) {}

  issueCode(subdomain: string, clientId: string): string {
    const code = `def50200${(++this.#counter).toString(16)}${this.#randomHex(48)}`;
    this.#tokens.set(code, this.#record("code", subdomain, clientId, AUTH_CODE_TTL_MS, false));
    return code;
  }

  /** Tokens without the OAuth dance (test setup), or a long-lived token (no refresh token). */
  mint(
    subdomain: string,
    clientId: string,
    accountId: number,
    opts: { expiresInSeconds: number; longLived?: boolean },
  ): TokenResponse {
    if (opts.longLived) {
      const seconds = opts.expiresInSeconds || LONG_LIVED_DEFAULT_SECONDS;
      const access = this.#jwt(subdomain, clientId, accountId, seconds);
      this.#tokens.set(access, this.#record("access", subdomain, clientId, seconds * 1000, true));
      return {
        token_type: "Bearer",
        expires_in: seconds,
        access_token: access,
        server_time: Math.floor(this.nowMs() / 1000),
      };
    }
    return this.#pair(subdomain, clientId, accountId, opts.expiresInSeconds);
  }

  /** POST /oauth2/access_token for one account (integration already looked up by client_id). */
  exchange(
    subdomain: string,
    accountId: number,
    integration: Integration | undefined,
    body: Record<string, unknown>,
    accessTtlSeconds: number,
  ): OAuthResult {
    const { client_id, client_secret, grant_type, redirect_uri } = body;
    for (const [name, value] of Object.entries({ client_id, client_secret, grant_type, redirect_uri })) {
      if (typeof value !== "string" || value === "") {
        return fail(400, "The request is missing a required parameter", `Check the \`${name}\` parameter`);
      }
    }
    if (!integration || integration.clientSecret !== client_secret) {
      return fail(401, "Client authentication failed", "Client authentication failed");
    }
    if (integration.redirectUri !== redirect_uri) {
      return fail(400, "The request is invalid", "Redirect URI mismatch");
    }
    if (grant_type === "authorization_code") {
      const code = typeof body.code === "string" ? body.code : "";
      const record = this.#tokens.get(code);
      if (
        !record || record.kind !== "code" || record.subdomain !== subdomain || record.clientId !== client_id
      ) {
        return fail(
          400,
          "The provided authorization grant is invalid",
          "Cannot decrypt the authorization code",
        );
      }
      if (record.revoked) {
        return fail(
          400,
          "The provided authorization grant is invalid",
          "Authorization code has been revoked",
        );
      }
      if (record.expiresAtMs <= this.nowMs()) {
        return fail(400, "The provided authorization grant is invalid", "Authorization code has expired");
      }
      record.revoked = true;
      return { ok: true, tokens: this.#pair(subdomain, integration.clientId, accountId, accessTtlSeconds) };
    }
    if (grant_type === "refresh_token") {
      const token = typeof body.refresh_token === "string" ? body.refresh_token : "";
      const record = this.#tokens.get(token);
      if (
        !record || record.kind !== "refresh" || record.subdomain !== subdomain ||
        record.clientId !== client_id
      ) {
        return fail(400, "The refresh token is invalid.", "Cannot decrypt the refresh token");
      }
      if (record.revoked) {
        return fail(401, "The refresh token is invalid.", "Token has been revoked", { revokedReuse: true });
      }
      if (record.expiresAtMs <= this.nowMs()) {
        return fail(400, "The refresh token is invalid.", "Token has expired");
      }
      record.revoked = true;
      return { ok: true, tokens: this.#pair(subdomain, integration.clientId, accountId, accessTtlSeconds) };
    }
    return fail(
      400,
      "The authorization grant type is not supported by the authorization server.",
      "Check the `grant_type` parameter",
    );
  }

  /** Resolves a bearer token for an account: the integration's client id, or null if missing/expired/revoked/foreign. */
  authenticate(subdomain: string, accessToken: string): string | null {
    const record = this.#tokens.get(accessToken);
    if (!record || record.kind !== "access" || record.subdomain !== subdomain || record.revoked) return null;
    if (record.expiresAtMs <= this.nowMs()) return null;
    return record.clientId;
  }

  /** Which integration a token belongs to even if expired (rate limiting keys on the integration). */
  clientIdOf(subdomain: string, accessToken: string): string | null {
    const record = this.#tokens.get(accessToken);
    return record && record.subdomain === subdomain ? record.clientId : null;
  }

  /** The admin disconnected the integration: every token of it stops working. */
  revokeAll(subdomain: string, clientId?: string): number {
    let count = 0;
    for (const record of this.#tokens.values()) {
      if (
        record.subdomain === subdomain && (clientId === undefined || record.clientId === clientId) &&
        !record.revoked
      ) {
        record.revoked = true;
        count++;
      }
    }
    return count;
  }

  #pair(subdomain: string, clientId: string, accountId: number, accessTtlSeconds: number): TokenResponse {
    const access = this.#jwt(subdomain, clientId, accountId, accessTtlSeconds);
    const refresh = `def50200${(++this.#counter).toString(16)}${this.#randomHex(64)}`;
    this.#tokens.set(access, this.#record("access", subdomain, clientId, accessTtlSeconds * 1000, false));
    this.#tokens.set(refresh, this.#record("refresh", subdomain, clientId, REFRESH_TOKEN_TTL_MS, false));
    return {
      token_type: "Bearer",
      expires_in: accessTtlSeconds,
      access_token: access,
      refresh_token: refresh,
      server_time: Math.floor(this.nowMs() / 1000),
    };
  }

  #record(kind: TokenRecord["kind"], subdomain: string, clientId: string, ttlMs: number, longLived: boolean) {
    return { kind, subdomain, clientId, expiresAtMs: this.nowMs() + ttlMs, revoked: false, longLived };
  }

  /** Shaped like amoCRM's JWT access tokens (the signature is fake; nobody can verify it anyway). */
  #jwt(subdomain: string, clientId: string, accountId: number, ttlSeconds: number): string {
    const iat = Math.floor(this.nowMs() / 1000);
    const header = base64url(JSON.stringify({ typ: "JWT", alg: "RS256", jti: this.#randomHex(20) }));
    const payload = base64url(JSON.stringify({
      aud: clientId,
      jti: `${++this.#counter}-${this.#randomHex(8)}`,
      iat,
      nbf: iat,
      exp: iat + ttlSeconds,
      sub: String(accountId),
      account_id: accountId,
      base_domain: "amocrm.ru",
      api_domain: "api-b.amocrm.ru",
      scopes: ["crm", "notifications"],
      subdomain,
    }));
    return `${header}.${payload}.${this.#randomHex(64)}`;
  }

  #randomHex(length: number): string {
    let hex = "";
    while (hex.length < length) {
      hex += Math.floor(this.random.next() * 0x100000000).toString(16).padStart(8, "0");
    }
    return hex.slice(0, length);
  }
}
