// Handler paths decided before the database is touched: method, signature, configuration, declared size.
// The sql client here throws if called, proving none of these paths reads or writes anything.
import assert from "node:assert/strict";
import { createWebhookHandler } from "../../../supabase/functions/amocrm-webhook/handler.ts";
import type { Sql } from "../../../supabase/functions/amocrm-webhook/store.ts";
import { parseWebhookSecrets } from "../../../supabase/functions/_shared/webhook/secrets.ts";
import { signWebhookUrl } from "../../../supabase/functions/_shared/webhook/signature.ts";

const USER = "9b2f1c3a-5d4e-4f60-8a7b-0c1d2e3f4a5b";
const SECRETS = parseWebhookSecrets("v1:unit-secret");
const BASE = "http://127.0.0.1/functions/v1/amocrm-webhook";

const untouchableSql = (() => {
  throw new Error("the database must not be touched");
}) as unknown as Sql;

function setup(secrets: Parameters<typeof createWebhookHandler>[0]["secrets"] = SECRETS) {
  const logs: Record<string, unknown>[] = [];
  const handler = createWebhookHandler({
    sql: untouchableSql,
    secrets,
    log: (e) => logs.push(e),
    maxBodyBytes: 1000,
  });
  return { handler, logs };
}

const post = (url: string, body = "leads[add][0][id]=1", headers: HeadersInit = {}) =>
  new Request(url, {
    method: "POST",
    body,
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
  });

Deno.test("only POST: anything else is 405 with Allow", async () => {
  const { handler, logs } = setup();
  for (const method of ["GET", "PUT", "DELETE", "HEAD", "OPTIONS"]) {
    const res = await handler(new Request(signWebhookUrl(BASE, USER, SECRETS), { method }));
    await res.body?.cancel();
    assert.equal(res.status, 405, method);
    assert.equal(res.headers.get("allow"), "POST");
  }
  assert.equal(logs.length, 5);
  assert.equal(logs[0].outcome, "method_not_allowed");
});

Deno.test("missing, malformed or wrong sig / user_id → 401 without touching the database", async () => {
  const { handler, logs } = setup();
  const signed = new URL(signWebhookUrl(BASE, USER, SECRETS));
  const otherUser = "9b2f1c3a-5d4e-4f60-8a7b-0c1d2e3f4a5c";
  const urls = [
    BASE,
    `${BASE}?user_id=${USER}`,
    `${BASE}?user_id=${USER}&sig=v1.abc`,
    `${BASE}?user_id=${otherUser}&sig=${signed.searchParams.get("sig")}`,
    `${BASE}?user_id=not-a-uuid&sig=${signed.searchParams.get("sig")}`,
    `${BASE}?sig=${signed.searchParams.get("sig")}`,
    signWebhookUrl(BASE, USER, parseWebhookSecrets("v1:some-other-secret")),
    signWebhookUrl(BASE, USER, parseWebhookSecrets("v9:unit-secret")),
  ];
  for (const url of urls) {
    const res = await handler(post(url));
    assert.equal(res.status, 401, url);
    assert.deepEqual(await res.json(), { error: "invalid signature" });
  }
  assert.ok(
    logs.every((e) =>
      e.outcome === "unauthorized" && typeof e.reason === "string" && typeof e.ms === "number"
    ),
  );
  assert.equal(logs[2].reason, "sig malformed");
  assert.equal(logs[3].reason, "sig mismatch");
  assert.equal(logs[7].reason, "sig unknown_key_version");
});

Deno.test("declared body over the limit → 413 before any database work", async () => {
  const { handler, logs } = setup();
  const body = "x".repeat(1001);
  const res = await handler(
    post(signWebhookUrl(BASE, USER, SECRETS), body, { "content-length": String(body.length) }),
  );
  await res.body?.cancel();
  assert.equal(res.status, 413);
  assert.equal(logs[0].outcome, "too_large");
});

Deno.test("no usable secrets → 500 and a log line that says what to set", async () => {
  const { handler, logs } = setup({ error: "AMOCRM_WEBHOOK_SECRETS is not set" });
  const res = await handler(post(signWebhookUrl(BASE, USER, SECRETS)));
  await res.body?.cancel();
  assert.equal(res.status, 500);
  assert.deepEqual([logs[0].outcome, logs[0].reason], ["misconfigured", "AMOCRM_WEBHOOK_SECRETS is not set"]);
});
