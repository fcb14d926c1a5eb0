// Who may call the operator and cron functions: pg_cron (x-cron-secret, the value also kept in Vault as
// amo_roi_cron_secret) or an admin with the service role key. Both compared in constant time.
import { timingSafeEqual } from "node:crypto";

function sameSecret(given: string | null | undefined, expected: string | undefined): boolean {
  if (!given || !expected) return false;
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface OperatorSecrets {
  cronSecret?: string;
  serviceRoleKey?: string;
}

export function operatorSecretsFromEnv(): OperatorSecrets {
  return {
    cronSecret: Deno.env.get("AMO_ROI_CRON_SECRET"),
    serviceRoleKey: Deno.env.get("SUPABASE_SERVICE_ROLE_KEY"),
  };
}

/** True when the request comes from pg_cron or carries the service role key. */
export function isOperator(req: Request, secrets: OperatorSecrets): boolean {
  const bearer = req.headers.get("authorization")?.match(/^Bearer\s+(.+)$/i)?.[1];
  return sameSecret(req.headers.get("x-cron-secret"), secrets.cronSecret) ||
    sameSecret(bearer, secrets.serviceRoleKey);
}
