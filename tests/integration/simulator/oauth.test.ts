import assert from "node:assert/strict";
import { startSimulator } from "../../../local/amocrm-simulator/mod.ts";
import { apiGet, CLIENT } from "./helpers.ts";

async function tokenCall(base: string, body: Record<string, unknown>) {
  const response = await fetch(`${base}/oauth2/access_token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, type: response.headers.get("content-type"), body: await response.json() };
}

const grant = (extra: Record<string, unknown>) => ({
  client_id: CLIENT.clientId,
  client_secret: CLIENT.clientSecret,
  redirect_uri: CLIENT.redirectUri,
  ...extra,
});

Deno.test("oauth: code exchange, single-use code, refresh token single-use → 401 revoked on reuse", async () => {
  const sim = await startSimulator({ seed: 1 });
  try {
    sim.createAccount({ subdomain: "acme", ...CLIENT });
    const base = sim.accountBaseUrl("acme");
    const code = sim.issueAuthorizationCode("acme");
    const first = await tokenCall(base, grant({ grant_type: "authorization_code", code }));
    assert.equal(first.status, 200);
    assert.equal(first.body.token_type, "Bearer");
    assert.equal(first.body.expires_in, 86400);
    assert.equal(typeof first.body.refresh_token, "string");

    const codeAgain = await tokenCall(base, grant({ grant_type: "authorization_code", code }));
    assert.equal(codeAgain.status, 400);

    const refreshed = await tokenCall(
      base,
      grant({ grant_type: "refresh_token", refresh_token: first.body.refresh_token }),
    );
    assert.equal(refreshed.status, 200);
    assert.notEqual(refreshed.body.refresh_token, first.body.refresh_token);

    const reuse = await tokenCall(
      base,
      grant({ grant_type: "refresh_token", refresh_token: first.body.refresh_token }),
    );
    assert.equal(reuse.status, 401);
    assert.equal(reuse.type, "application/problem+json");
    assert.equal(reuse.body.hint, "Token has been revoked");
    assert.deepEqual(Object.keys(reuse.body).sort(), ["detail", "hint", "status", "title", "type"]);

    const stats = sim.stats("acme");
    assert.equal(stats.refreshes, 1);
    assert.equal(stats.revokedTokenReuses, 1);

    const api = await apiGet(base, refreshed.body.access_token, "/api/v4/leads/pipelines");
    assert.equal(api.status, 200);
    await api.body?.cancel();
  } finally {
    await sim.stop();
  }
});

Deno.test("oauth: wrong secret 401, wrong redirect 400, expired code 400, expired/unknown bearer 401", async () => {
  const sim = await startSimulator({ seed: 2 });
  try {
    sim.createAccount({ subdomain: "acme", ...CLIENT, accessTokenTtlSeconds: 3600 });
    const base = sim.accountBaseUrl("acme");
    const code = sim.issueAuthorizationCode("acme");
    const badSecret = await tokenCall(base, {
      ...grant({ grant_type: "authorization_code", code }),
      client_secret: "nope",
    });
    assert.equal(badSecret.status, 401);
    const badRedirect = await tokenCall(base, {
      ...grant({ grant_type: "authorization_code", code }),
      redirect_uri: "https://evil",
    });
    assert.equal(badRedirect.status, 400);

    sim.advanceTime(21 * 60);
    const late = await tokenCall(base, grant({ grant_type: "authorization_code", code }));
    assert.equal(late.status, 400);

    const tokens = await tokenCall(
      base,
      grant({ grant_type: "authorization_code", code: sim.issueAuthorizationCode("acme") }),
    );
    assert.equal(tokens.body.expires_in, 3600, "per-account access token lifetime");
    const ok = await apiGet(base, tokens.body.access_token, "/api/v4/leads");
    assert.equal(ok.status, 204);
    await ok.body?.cancel();
    sim.advanceTime(3601);
    const expired = await apiGet(base, tokens.body.access_token, "/api/v4/leads");
    assert.equal(expired.status, 401);
    assert.equal(expired.headers.get("content-type"), "application/problem+json");
    await expired.body?.cancel();
    const unknown = await apiGet(base, "garbage", "/api/v4/leads");
    assert.equal(unknown.status, 401);
    await unknown.body?.cancel();
  } finally {
    await sim.stop();
  }
});

Deno.test("oauth: long-lived tokens have no refresh token; tokens of one account fail on another", async () => {
  const sim = await startSimulator({ seed: 3 });
  try {
    sim.createAccount({ subdomain: "acme", ...CLIENT });
    sim.createAccount({ subdomain: "other", ...CLIENT });
    const longLived = sim.mintTokens("acme", { longLived: true, expiresInSeconds: 365 * 24 * 3600 });
    assert.equal(longLived.refresh_token, undefined);
    assert.equal(longLived.expires_in, 365 * 24 * 3600);
    sim.advanceTime(200 * 24 * 3600);
    const ok = await apiGet(sim.accountBaseUrl("acme"), longLived.access_token, "/api/v4/leads/pipelines");
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    const foreign = await apiGet(
      sim.accountBaseUrl("other"),
      longLived.access_token,
      "/api/v4/leads/pipelines",
    );
    assert.equal(foreign.status, 401);
    await foreign.body?.cancel();
    sim.revokeTokens("acme");
    const revoked = await apiGet(
      sim.accountBaseUrl("acme"),
      longLived.access_token,
      "/api/v4/leads/pipelines",
    );
    assert.equal(revoked.status, 401);
    await revoked.body?.cancel();
  } finally {
    await sim.stop();
  }
});
