// amocrm-reconcile (operator). What webhooks missed, read back from the amoCRM API.
//   {userAccountId, mode: "incremental" | "full"}  reconcile that account now; answers the run's report
//   {userAccountId, mode: "backfill"}              start a resumable backfill (a page per worker job)
//   {mode: "incremental"} or {}                    pg_cron every 6 h: one `reconcile` job per active
//                                                  connection, so no invocation holds many accounts' work
import { type AmoCrmClient, createAmoCrmClient, defaultSql, type Sql } from "../_shared/amocrm/mod.ts";
import { startBackfill } from "../_shared/jobs/backfill.ts";
import { enqueueReconcile, reconcileAccount } from "../_shared/jobs/reconcile.ts";
import type { OperatorSecrets } from "../_shared/ops/auth.ts";
import {
  BadRequest,
  oneOf,
  operatorEndpoint,
  optionalUuid,
  targetConnections,
} from "../_shared/ops/endpoint.ts";

const MODES = ["incremental", "full", "backfill"] as const;

export interface ReconcileDeps {
  sql?: Sql;
  secrets: OperatorSecrets;
  clientFor?: (connectionId: string) => AmoCrmClient;
  /** Time budget of an inline reconcile (default 100 s, inside the edge wall-clock limit). */
  budgetMs?: number;
}

export function createReconcileHandler(deps: ReconcileDeps) {
  return operatorEndpoint("amocrm-reconcile", deps.secrets, async (params) => {
    const sql = deps.sql ?? defaultSql();
    const clientFor = deps.clientFor ??
      ((connectionId) => createAmoCrmClient({ connectionId, deps: { sql } }));
    const userAccountId = optionalUuid(params, "userAccountId");
    const mode = oneOf(params, "mode", MODES);
    const connections = await targetConnections(sql, userAccountId);

    if (userAccountId) {
      if (mode === "backfill") return { userAccountId, mode, ...(await startBackfill(sql, userAccountId)) };
      const client = clientFor(connections[0].connectionId);
      return {
        userAccountId,
        ...(await reconcileAccount(sql, client, userAccountId, { mode, budgetMs: deps.budgetMs })),
      };
    }
    if (mode === "backfill") throw new BadRequest("mode backfill needs a userAccountId");
    const queued = [];
    for (const c of connections) {
      queued.push({
        userAccountId: c.userAccountId,
        jobId: await enqueueReconcile(sql, c.userAccountId, { mode }),
      });
    }
    return { mode, queued };
  });
}
