// amocrm-token-keepalive (operator; pg_cron daily with {}): refresh OAuth tokens of connections that have
// been idle for `idleDays` (default 30), so their single-use, 3-month refresh tokens never age out on an
// account that simply had no traffic. Long-lived tokens are never refreshed. Each connection it touched gets
// a sync run of kind keepalive (done, or failed with the reason — usually reauth_required).
import {
  defaultSql,
  keepAliveIdleConnections,
  type KeepAliveReport,
  type Sql,
} from "../_shared/amocrm/mod.ts";
import type { OperatorSecrets } from "../_shared/ops/auth.ts";
import { BadRequest, operatorEndpoint, optionalUuid, targetConnections } from "../_shared/ops/endpoint.ts";

export interface KeepAliveDeps {
  sql?: Sql;
  secrets: OperatorSecrets;
  /** The client's clock (tests move it forward instead of waiting a month). */
  now?: () => number;
  fetch?: typeof fetch;
}

async function recordRuns(sql: Sql, report: KeepAliveReport): Promise<void> {
  const outcomes = [
    ...report.refreshed.map((id) => ({ id, error: null as string | null, outcome: "refreshed" })),
    ...report.skipped.map((id) => ({ id, error: null as string | null, outcome: "refreshed_meanwhile" })),
    ...report.failed.map((f) => ({ id: f.connectionId, error: f.error, outcome: "failed" })),
  ];
  for (const o of outcomes) {
    await sql`
      select private.finish_sync_run(private.start_sync_run(c.user_account_id, 'keepalive'), ${o.error},
        ${sql.json({ outcome: o.outcome })})
      from amocrm.connections c where c.id = ${o.id}`;
  }
}

export function createKeepAliveHandler(deps: KeepAliveDeps) {
  return operatorEndpoint("amocrm-token-keepalive", deps.secrets, async (params) => {
    const sql = deps.sql ?? defaultSql();
    const userAccountId = optionalUuid(params, "userAccountId");
    const idleDays = params.idleDays === undefined ? 30 : Number(params.idleDays);
    if (!Number.isFinite(idleDays) || idleDays < 0) throw new BadRequest("idleDays must be a number ≥ 0");
    const connectionIds = userAccountId
      ? (await targetConnections(sql, userAccountId)).map((c) => c.connectionId)
      : undefined;
    const report = await keepAliveIdleConnections({ sql, now: deps.now, fetch: deps.fetch }, {
      idleDays,
      connectionIds,
    });
    await recordRuns(sql, report);
    return report;
  });
}
