// The server secrets that sign webhook destination URLs. Versioned so a secret can be rotated: new URLs are
// signed with the newest version while URLs already registered at amoCRM keep verifying with the older one.
//
// Env AMOCRM_WEBHOOK_SECRETS = "v1:<secret>,v2:<secret>" (comma-separated; a secret cannot contain a comma).

/** Key version → secret. */
export type WebhookSecrets = ReadonlyMap<number, string>;

/** Parse "v1:secret1,v2:secret2". Throws with a message that says what is wrong (never the secret itself). */
export function parseWebhookSecrets(text: string): WebhookSecrets {
  const secrets = new Map<number, string>();
  for (const part of text.split(",")) {
    const item = part.trim();
    if (item === "") continue;
    const colon = item.indexOf(":");
    const label = colon === -1 ? item : item.slice(0, colon).trim();
    const match = /^v(\d{1,6})$/.exec(label);
    if (colon === -1 || !match) {
      throw new Error(`AMOCRM_WEBHOOK_SECRETS: entry "${label}" must look like v<number>:<secret>`);
    }
    const version = Number(match[1]);
    const secret = item.slice(colon + 1).trim();
    if (version < 1) throw new Error(`AMOCRM_WEBHOOK_SECRETS: key version must be ≥ 1 (got ${label})`);
    if (secret === "") throw new Error(`AMOCRM_WEBHOOK_SECRETS: secret of ${label} is empty`);
    if (secrets.has(version)) throw new Error(`AMOCRM_WEBHOOK_SECRETS: ${label} is listed twice`);
    secrets.set(version, secret);
  }
  if (secrets.size === 0) throw new Error("AMOCRM_WEBHOOK_SECRETS: no secrets listed");
  return secrets;
}

/** The version new destination URLs are signed with. */
export function newestKeyVersion(secrets: WebhookSecrets): number {
  return Math.max(...secrets.keys());
}

export type SecretsResolution = { ok: true; secrets: WebhookSecrets } | { ok: false; reason: string };

/**
 * The key ring from AMOCRM_WEBHOOK_SECRETS, or why there is none. There is no built-in default, not even
 * locally: the local stack takes it from supabase/functions/.env (copied from .env.example), so an unsigned or
 * guessable URL is never accepted because a setting was forgotten.
 */
export function resolveWebhookSecrets(env: (name: string) => string | undefined): SecretsResolution {
  const configured = env("AMOCRM_WEBHOOK_SECRETS");
  if (configured === undefined || configured.trim() === "") {
    return {
      ok: false,
      reason:
        "AMOCRM_WEBHOOK_SECRETS is not set (e.g. `supabase secrets set AMOCRM_WEBHOOK_SECRETS=v1:<random>`; " +
        "locally supabase/functions/.env, copied from .env.example)",
    };
  }
  try {
    return { ok: true, secrets: parseWebhookSecrets(configured) };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}
