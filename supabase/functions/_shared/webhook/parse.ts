// One entry point from a raw webhook body to what the function stores: canonical events, the account the
// body claims to come from, or the reason it has to be quarantined.
import { decodeWebhookBody } from "./decode.ts";
import type { BodyFormat } from "./decode.ts";
import { type CanonicalEvent, toCanonicalEvents } from "./events.ts";
import { describeIssues, webhookBodySchema } from "./schemas.ts";

/** What the body says about its amoCRM account (`account[id]`, `account[subdomain]`), when it says it. */
export interface ClaimedAccount {
  id: string | null;
  subdomain: string | null;
}

export type ParsedWebhook =
  | {
    ok: true;
    format: BodyFormat;
    events: CanonicalEvent[];
    account: ClaimedAccount;
    ignoredCompanies: number;
    ignored: string[];
  }
  | { ok: false; format: BodyFormat | null; reason: string };

export function parseWebhookBody(contentType: string | null, raw: string): ParsedWebhook {
  const decoded = decodeWebhookBody(contentType, raw);
  if (!decoded.ok) return decoded;
  const checked = webhookBodySchema.safeParse(decoded.value);
  if (!checked.success) {
    return {
      ok: false,
      format: decoded.format,
      reason: `invalid webhook body: ${describeIssues(checked.error)}`,
    };
  }
  const { events, ignoredCompanies, ignored } = toCanonicalEvents(checked.data);
  const account = checked.data.account;
  return {
    ok: true,
    format: decoded.format,
    events,
    account: {
      id: account?.id === undefined || account.id === null || account.id === "" ? null : String(account.id),
      subdomain: account?.subdomain ? account.subdomain : null,
    },
    ignoredCompanies,
    ignored,
  };
}
