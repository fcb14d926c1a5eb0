// One entry point from a raw webhook body to what the function stores: canonical events, the account the
// body claims to come from, or the reason it has to be quarantined.
import { decodeWebhookBodySteps } from "./decode.ts";
import type { BodyFormat } from "./decode.ts";
import { type CanonicalEvent, toCanonicalEvents } from "./events.ts";
import { checkWebhookBodySteps, describeIssues } from "./schemas.ts";
import { runToEnd, type Steps } from "./steps.ts";

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
  return runToEnd(parseWebhookBodySteps(contentType, raw));
}

/** parseWebhookBody in pausable steps (steps.ts), for big bodies. */
export function* parseWebhookBodySteps(contentType: string | null, raw: string): Steps<ParsedWebhook> {
  const decoded = yield* decodeWebhookBodySteps(contentType, raw);
  if (!decoded.ok) return decoded;
  const checked = yield* checkWebhookBodySteps(decoded.value);
  if (!checked.ok) {
    return {
      ok: false,
      format: decoded.format,
      reason: `invalid webhook body: ${describeIssues(checked.issues)}`,
    };
  }
  yield;
  const { events, ignoredCompanies, ignored } = toCanonicalEvents(checked.body);
  yield;
  const account = checked.body.account;
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
