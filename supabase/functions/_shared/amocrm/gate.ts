// Waiting at the gate: every HTTP call of a connection first gets a go from private.amocrm_begin_call() —
// connection usable, breaker closed, and a token from the account's shared bucket.
import type { AmoCrmContext } from "./deps.ts";
import {
  AmoCrmCircuitOpenError,
  AmoCrmConnectionStateError,
  AmoCrmRateLimitError,
  AmoCrmReauthRequiredError,
  type AmoCrmUnavailableError,
} from "./errors.ts";
import { beginCall, type CallGate, type CallPurpose } from "./store.ts";

export interface GateWhere {
  endpoint?: string;
  method?: string;
}

/** Loops until the gate says go; throws a typed error when the connection refuses calls. */
export async function acquireGate(
  ctx: AmoCrmContext,
  purpose: CallPurpose,
  where: GateWhere = {},
): Promise<CallGate> {
  const { deps, options, connectionId } = ctx;
  const deadline = deps.now() + options.maxRateWaitMs;
  for (;;) {
    const gate = await beginCall(deps.sql, connectionId, purpose, options.rateHeadroom);
    if (gate.blocked) throw blockedError(gate, connectionId, where);
    if (gate.wait_ms <= 0) return gate;
    if (deps.now() + gate.wait_ms > deadline) {
      throw new AmoCrmRateLimitError({
        ...where,
        connectionId,
        detail: `no rate-limit token within ${options.maxRateWaitMs} ms (account saturated)`,
      });
    }
    // A few ms of jitter so that instances woken for the same token do not all ask in the same millisecond;
    // more would only add latency, since the bucket row lock already serialises the askers.
    await deps.sleep(gate.wait_ms + Math.floor(deps.random() * Math.min(8, gate.wait_ms)));
  }
}

export function blockedError(
  gate: CallGate,
  connectionId: string,
  where: GateWhere = {},
): AmoCrmUnavailableError {
  const init = { ...where, connectionId, detail: gate.blocked_reason ?? undefined };
  switch (gate.blocked) {
    case "breaker_open":
      return new AmoCrmCircuitOpenError({
        ...init,
        detail: `circuit breaker open${gate.blocked_reason ? `: ${gate.blocked_reason}` : ""}`,
      });
    case "reauth_required":
      return new AmoCrmReauthRequiredError(init);
    default:
      return new AmoCrmConnectionStateError(gate.blocked ?? "unknown", {
        ...init,
        detail: `connection is ${gate.blocked}${gate.blocked_reason ? `: ${gate.blocked_reason}` : ""}`,
      });
  }
}
