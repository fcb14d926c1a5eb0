// The scheduler's probe of an account amoCRM blocked (403 → circuit breaker open). private.amocrm_open_breaker
// queues one `breaker_probe` job for the end of the cool-down; it makes one cheap call (GET /api/v4/account).
// When it gets through, the client closes the breaker, the account's waiting jobs become claimable again, and a
// reconcile reads back what changed while we could not read. When amoCRM still answers 403, the breaker is
// re-opened, which queues the next probe: nothing else happens until then.
import { AmoCrmCircuitOpenError, type AmoCrmClient, AmoCrmForbiddenError, type Sql } from "../amocrm/mod.ts";
import { enqueueReconcile } from "./reconcile.ts";

export interface ProbeResult {
  unblocked: boolean;
  reconcileJobId: number | null;
  detail?: string;
}

export async function probeBlockedAccount(
  sql: Sql,
  client: AmoCrmClient,
  userAccountId: string,
): Promise<ProbeResult> {
  try {
    await client.request({ method: "GET", path: "/api/v4/account", idempotent: true });
  } catch (error) {
    // Still blocked (the 403 re-opened the breaker), or another instance holds this interval's probe.
    if (error instanceof AmoCrmForbiddenError || error instanceof AmoCrmCircuitOpenError) {
      return { unblocked: false, reconcileJobId: null, detail: error.message };
    }
    throw error;
  }
  // The watermark of an incremental reconcile is where the last finished one got to, so it covers the block.
  return {
    unblocked: true,
    reconcileJobId: await enqueueReconcile(sql, userAccountId, { reason: "breaker_closed" }),
  };
}
