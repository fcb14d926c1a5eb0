// amocrm-webhook-health (operator; pg_cron every 30 min with {}): for one account (`userAccountId`) or every
// active connection, find our webhook at amoCRM and re-subscribe it when it is missing, disabled or lacks a
// setting. Recorded on the connection (webhook_checked_at, _disabled_seen_at, _repaired_at, webhook_repairs)
// and as a sync run of kind webhook_health.
import { type AmoCrmClient, createAmoCrmClient, defaultSql, type Sql } from "../_shared/amocrm/mod.ts";
import { checkWebhook } from "../_shared/jobs/webhook_health.ts";
import type { OperatorSecrets } from "../_shared/ops/auth.ts";
import {
  forEachConnection,
  operatorEndpoint,
  optionalUuid,
  targetConnections,
} from "../_shared/ops/endpoint.ts";

export interface WebhookHealthDeps {
  sql?: Sql;
  secrets: OperatorSecrets;
  clientFor?: (connectionId: string) => AmoCrmClient;
}

export function createWebhookHealthHandler(deps: WebhookHealthDeps) {
  return operatorEndpoint("amocrm-webhook-health", deps.secrets, async (params) => {
    const sql = deps.sql ?? defaultSql();
    const clientFor = deps.clientFor ??
      ((connectionId) => createAmoCrmClient({ connectionId, deps: { sql } }));
    const userAccountId = optionalUuid(params, "userAccountId");
    const connections = await targetConnections(sql, userAccountId);
    const check = (c: { connectionId: string; userAccountId: string }) =>
      checkWebhook(sql, clientFor(c.connectionId), c.userAccountId);
    if (userAccountId) return { userAccountId, ...(await check(connections[0])) };
    return { accounts: await forEachConnection(connections, check) };
  });
}
