// Signed destination URLs: key ring parsing, signing with the newest version, constant-time verification,
// and AMOCRM_WEBHOOK_SECRETS being required (no built-in default).
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readDotEnv } from "../../../local/functions-host/config.ts";
import {
  newestKeyVersion,
  parseWebhookSecrets,
  resolveWebhookSecrets,
} from "../../../supabase/functions/_shared/webhook/secrets.ts";
import {
  signatureVerifier,
  signWebhookUrl,
  verifyWebhookSignature,
  webhookSignature,
} from "../../../supabase/functions/_shared/webhook/signature.ts";

const USER = "3f0c8f4e-9a61-4c1e-8d0b-2a7e5b1c9d10";
const RING = parseWebhookSecrets("v1:old-secret, v2:new-secret");

Deno.test("secrets: v<n>:<secret> pairs, comma-separated; the newest version signs", () => {
  assert.deepEqual([...RING.entries()], [[1, "old-secret"], [2, "new-secret"]]);
  assert.equal(newestKeyVersion(RING), 2);
  assert.equal(parseWebhookSecrets("v7:a:b:c").get(7), "a:b:c", "a secret may contain colons");
  for (const bad of ["", "secret", "v1", "v1:", "x1:s", "v0:s", "v1:a,v1:b"]) {
    assert.throws(() => parseWebhookSecrets(bad), /AMOCRM_WEBHOOK_SECRETS/, bad);
  }
});

Deno.test("sig = v<version>.<hex HMAC-SHA256(user account id)>", () => {
  const expected = createHmac("sha256", "new-secret").update(USER).digest("hex");
  assert.equal(webhookSignature(USER, 2, "new-secret"), `v2.${expected}`);
  // The uuid's spelling does not matter.
  assert.equal(webhookSignature(USER.toUpperCase(), 2, "new-secret"), `v2.${expected}`);
});

Deno.test("signWebhookUrl builds the destination with user_id and the newest key's sig", () => {
  const url = new URL(signWebhookUrl("https://x.supabase.co/functions/v1/amocrm-webhook", USER, RING));
  assert.equal(url.origin + url.pathname, "https://x.supabase.co/functions/v1/amocrm-webhook");
  assert.equal(url.searchParams.get("user_id"), USER);
  assert.equal(url.searchParams.get("sig"), webhookSignature(USER, 2, "new-secret"));
  // Raw env text works too, and existing query parameters survive.
  const again = new URL(
    signWebhookUrl("http://127.0.0.1:54321/functions/v1/amocrm-webhook?x=1", USER, "v1:s"),
  );
  assert.equal(again.searchParams.get("x"), "1");
  assert.equal(again.searchParams.get("sig"), webhookSignature(USER, 1, "s"));
  assert.throws(() => signWebhookUrl("https://x", "not-a-uuid", RING));
});

Deno.test("verify: every listed key version verifies; anything else is rejected with a reason", () => {
  assert.deepEqual(verifyWebhookSignature(USER, webhookSignature(USER, 1, "old-secret"), RING), {
    ok: true,
    keyVersion: 1,
  });
  assert.deepEqual(verifyWebhookSignature(USER, webhookSignature(USER, 2, "new-secret"), RING), {
    ok: true,
    keyVersion: 2,
  });
  const good = webhookSignature(USER, 2, "new-secret");
  assert.deepEqual(verifyWebhookSignature(USER, good.toUpperCase().replace("V2", "v2"), RING).ok, true);
  const cases: [string | null, string][] = [
    [null, "missing"],
    ["", "missing"],
    ["deadbeef", "malformed"],
    [good.slice(0, -2), "malformed"],
    [`${good}00`, "malformed"],
    [good.replace("v2.", "2."), "malformed"],
    [good.replace("v2.", "v3."), "unknown_key_version"],
    [good.replace("v2.", "v1."), "mismatch"],
    [webhookSignature(USER, 2, "other-secret"), "mismatch"],
  ];
  for (const [sig, reason] of cases) {
    assert.deepEqual(verifyWebhookSignature(USER, sig, RING), { ok: false, reason }, String(sig));
  }
  const otherUser = "3f0c8f4e-9a61-4c1e-8d0b-2a7e5b1c9d11";
  assert.deepEqual(verifyWebhookSignature(otherUser, good, RING), { ok: false, reason: "mismatch" });
});

Deno.test("AMOCRM_WEBHOOK_SECRETS is required: no built-in default, not even on loopback", async () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  for (const url of ["http://127.0.0.1:54321", "http://localhost:54321", "https://abc.supabase.co", ""]) {
    for (
      const unset of [{}, { AMOCRM_WEBHOOK_SECRETS: "" }, { AMOCRM_WEBHOOK_SECRETS: "  " }] as Record<
        string,
        string
      >[]
    ) {
      const resolved = resolveWebhookSecrets(env({ SUPABASE_URL: url, ...unset }));
      assert.ok(!resolved.ok && /AMOCRM_WEBHOOK_SECRETS is not set/.test(resolved.reason), url);
    }
  }

  const configured = resolveWebhookSecrets(
    env({ SUPABASE_URL: "http://127.0.0.1:54321", AMOCRM_WEBHOOK_SECRETS: "v3:s" }),
  );
  assert.ok(configured.ok && configured.secrets.get(3) === "s");
  const broken = resolveWebhookSecrets(env({ AMOCRM_WEBHOOK_SECRETS: "oops" }));
  assert.ok(!broken.ok && /v<number>:<secret>/.test(broken.reason));

  // The local stacks get the secret from .env.example (the test host reads it as is, the dev stack copies it).
  const example = await readDotEnv(
    new URL("../../../supabase/functions/.env.example", import.meta.url).pathname,
  );
  const local = resolveWebhookSecrets(env(example));
  assert.ok(local.ok && local.secrets.size > 0, ".env.example must set a usable AMOCRM_WEBHOOK_SECRETS");
});

Deno.test("signatureVerifier: the same answers as verifyWebhookSignature; remembers only URLs that verified", () => {
  const ring = new Map(RING);
  const verify = signatureVerifier(ring, 2);
  const good = webhookSignature(USER, 2, "new-secret");
  const wrong = webhookSignature(USER, 2, "not-the-secret");
  assert.deepEqual(verify(USER, good), verifyWebhookSignature(USER, good, ring));
  assert.deepEqual(verify(USER, wrong), { ok: false, reason: "mismatch" });
  assert.deepEqual(verify(USER, null), { ok: false, reason: "missing" });

  // Observe the memory by changing the ring behind its back (the function's ring never changes at runtime):
  // the URL that verified is still accepted, a failure is checked anew.
  ring.set(2, "not-the-secret");
  assert.equal(verify(USER, good).ok, true);
  assert.equal(verify(USER, wrong).ok, true);
  // Past maxEntries the memory starts over: the old URL is checked against the changed ring again.
  const other = "9b2f1c3a-5d4e-4f60-8a7b-0c1d2e3f4a5c";
  verify(other, webhookSignature(other, 2, "not-the-secret"));
  assert.deepEqual(verify(USER, good), { ok: false, reason: "mismatch" });
});
