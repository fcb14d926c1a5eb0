// A raw webhook body → what the store gets: the canonical events as JSON, the account the body claims, or the
// reason it is quarantined. Pausable (steps.ts), so the handler can run a big body in fair slices.
import type { BodyFormat } from "../_shared/webhook/decode.ts";
import { type ClaimedAccount, parseWebhookBodySteps } from "../_shared/webhook/parse.ts";
import { STEP_EVERY, type Steps } from "../_shared/webhook/steps.ts";

export interface PreparedPost {
  format: BodyFormat | null;
  claimed: ClaimedAccount;
  /** JSON array of canonical events ("[]" when quarantined). */
  eventsJson: string;
  eventCount: number;
  quarantineReason: string | null;
  /** For the log line. */
  ignoredCompanies: number;
  ignored: string[];
}

/** A NUL in JSON.stringify output: `\u0000` not itself preceded by an escaped backslash. */
const ESCAPED_NUL = /(?:^|[^\\])(?:\\\\)*\\u0000/;

const errorMessage = (error: unknown) => error instanceof Error ? error.message : String(error);

export function* preparePost(contentType: string | null, raw: string): Steps<PreparedPost> {
  const prepared: PreparedPost = {
    format: null,
    claimed: { id: null, subdomain: null },
    eventsJson: "[]",
    eventCount: 0,
    quarantineReason: null,
    ignoredCompanies: 0,
    ignored: [],
  };
  let parsed;
  try {
    parsed = yield* parseWebhookBodySteps(contentType, raw);
  } catch (error) {
    // A parser bug must not cost amoCRM a 5xx: the raw body is kept for a human.
    prepared.quarantineReason = `body could not be parsed: ${errorMessage(error)}`;
    return prepared;
  }
  prepared.format = parsed.format;
  if (!parsed.ok) {
    prepared.quarantineReason = parsed.reason;
    return prepared;
  }
  prepared.claimed = parsed.account;
  prepared.ignoredCompanies = parsed.ignoredCompanies;
  prepared.ignored = parsed.ignored;
  try {
    const parts: string[] = [];
    for (let at = 0; at < parsed.events.length; at += STEP_EVERY / 4) {
      for (const event of parsed.events.slice(at, at + STEP_EVERY / 4)) parts.push(JSON.stringify(event));
      yield;
    }
    prepared.eventsJson = `[${parts.join(",")}]`;
  } catch (error) {
    prepared.quarantineReason = `events could not be serialized: ${errorMessage(error)}`;
  }
  // Postgres text and jsonb cannot hold U+0000; such a body can only be kept for a human to look at.
  if (prepared.quarantineReason === null && ESCAPED_NUL.test(prepared.eventsJson)) {
    prepared.quarantineReason = "body contains NUL characters";
  }
  if (prepared.quarantineReason === null) prepared.eventCount = parsed.events.length;
  else prepared.eventsJson = "[]";
  return prepared;
}
