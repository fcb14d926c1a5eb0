// amocrm-requeue-dead-jobs (operator): jobs that used up their attempts are listed, with their reason, in
// public.amocrm_connection_status (dead_jobs, dead_job_errors). Once the cause is fixed, this gives them a
// fresh attempt budget — of one account ({"userAccountId": …}) or of all ({}) — and kicks the worker.
import { defaultSql, type Sql } from "../_shared/amocrm/mod.ts";
import type { OperatorSecrets } from "../_shared/ops/auth.ts";
import { operatorEndpoint, optionalUuid } from "../_shared/ops/endpoint.ts";

export function createRequeueDeadJobsHandler(deps: { sql?: Sql; secrets: OperatorSecrets }) {
  return operatorEndpoint("amocrm-requeue-dead-jobs", deps.secrets, async (params) => {
    const sql = deps.sql ?? defaultSql();
    const userAccountId = optionalUuid(params, "userAccountId") ?? null;
    const [{ requeued }] = await sql<{ requeued: number }[]>`
      select private.requeue_dead_jobs(${userAccountId}::uuid) as requeued`;
    if (requeued > 0) await sql`select private.invoke_function('amocrm-worker', '{"reason":"requeue"}')`;
    return { userAccountId, requeued };
  });
}
