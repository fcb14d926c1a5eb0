// amocrm-sync-pipelines (operator; pg_cron every 12 h with {}): GET /api/v4/leads/pipelines into
// public.amocrm_pipeline_stages for one account (`userAccountId`, query or body) or every active connection.
// Qualified flags survive, vanished stages are archived; each account's run is an amocrm.sync_runs row.
// The dashboard's button goes through public.request_pipeline_sync() → a sync_pipelines job instead.
import { type AmoCrmClient, createAmoCrmClient, defaultSql, type Sql } from "../_shared/amocrm/mod.ts";
import { syncPipelines } from "../_shared/jobs/sync_pipelines.ts";
import type { OperatorSecrets } from "../_shared/ops/auth.ts";
import {
  forEachConnection,
  operatorEndpoint,
  optionalUuid,
  targetConnections,
} from "../_shared/ops/endpoint.ts";

export interface OperatorDeps {
  sql?: Sql;
  secrets: OperatorSecrets;
  clientFor?: (connectionId: string) => AmoCrmClient;
}

export function createSyncPipelinesHandler(deps: OperatorDeps) {
  return operatorEndpoint("amocrm-sync-pipelines", deps.secrets, async (params) => {
    const sql = deps.sql ?? defaultSql();
    const clientFor = deps.clientFor ??
      ((connectionId) => createAmoCrmClient({ connectionId, deps: { sql } }));
    const userAccountId = optionalUuid(params, "userAccountId");
    const connections = await targetConnections(sql, userAccountId);
    const sync = (c: { connectionId: string; userAccountId: string }) =>
      syncPipelines(sql, clientFor(c.connectionId), c.userAccountId);
    // One named account: its failure is the answer (502 from amoCRM). All accounts: each reports its own.
    if (userAccountId) return { userAccountId, ...(await sync(connections[0])) };
    return { accounts: await forEachConnection(connections, sync) };
  });
}
