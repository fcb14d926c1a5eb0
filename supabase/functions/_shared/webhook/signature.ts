// The `sig` query parameter of a webhook destination URL: amoCRM signs nothing, so the URL carries our own
// proof that we issued it. sig = "v<key version>.<hex HMAC-SHA256(user account id, secret of that version)>".
import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";
import { isUuid } from "../uuid.ts";
import { newestKeyVersion, parseWebhookSecrets, type WebhookSecrets } from "./secrets.ts";

const SIG_PATTERN = /^v(\d{1,6})\.([0-9a-fA-F]{64})$/;
function hmacHex(userAccountId: string, secret: string): string {
  // Lower-case the id so the signature does not depend on how the uuid was spelled.
  return createHmac("sha256", secret).update(userAccountId.toLowerCase()).digest("hex");
}

/** The `sig` value for one user account with one key version. */
export function webhookSignature(userAccountId: string, keyVersion: number, secret: string): string {
  return `v${keyVersion}.${hmacHex(userAccountId, secret)}`;
}

/**
 * The destination URL to register at amoCRM for a user account, signed with the newest key version.
 * `secrets` is the parsed ring or the raw AMOCRM_WEBHOOK_SECRETS text.
 */
export function signWebhookUrl(
  baseUrl: string | URL,
  userAccountId: string,
  secrets: WebhookSecrets | string,
): string {
  if (!isUuid(userAccountId)) throw new Error(`signWebhookUrl: user account id must be a uuid`);
  const ring = typeof secrets === "string" ? parseWebhookSecrets(secrets) : secrets;
  const version = newestKeyVersion(ring);
  const url = new URL(baseUrl);
  url.searchParams.set("user_id", userAccountId.toLowerCase());
  url.searchParams.set("sig", webhookSignature(userAccountId, version, ring.get(version)!));
  return url.toString();
}

export type SignatureCheck =
  | { ok: true; keyVersion: number }
  | { ok: false; reason: "missing" | "malformed" | "unknown_key_version" | "mismatch" };

/** Check a `sig` against the user account id in constant time (for a given key version). */
export function verifyWebhookSignature(
  userAccountId: string,
  sig: string | null | undefined,
  secrets: WebhookSecrets,
): SignatureCheck {
  if (!sig) return { ok: false, reason: "missing" };
  const match = SIG_PATTERN.exec(sig);
  if (!match) return { ok: false, reason: "malformed" };
  const keyVersion = Number(match[1]);
  const secret = secrets.get(keyVersion);
  if (secret === undefined) return { ok: false, reason: "unknown_key_version" };
  // Both buffers are 32 bytes (the pattern fixed the length), as timingSafeEqual requires.
  const expected = Buffer.from(hmacHex(userAccountId, secret), "hex");
  const given = Buffer.from(match[2], "hex");
  return timingSafeEqual(expected, given) ? { ok: true, keyVersion } : { ok: false, reason: "mismatch" };
}

/**
 * verifyWebhookSignature that remembers the URLs that verified: amoCRM posts to the same few URLs all day, and
 * an HMAC per request is a measurable share of the ack. Only successes are kept (a wrong sig is checked anew
 * every time); past `maxEntries` the memory is emptied and refills.
 */
export function signatureVerifier(secrets: WebhookSecrets, maxEntries = 10_000) {
  const verified = new Map<string, SignatureCheck>();
  return (userAccountId: string, sig: string | null | undefined): SignatureCheck => {
    const key = `${userAccountId}|${sig}`;
    const known = verified.get(key);
    if (known) return known;
    const check = verifyWebhookSignature(userAccountId, sig, secrets);
    if (check.ok) {
      if (verified.size >= maxEntries) verified.clear();
      verified.set(key, check);
    }
    return check;
  };
}
