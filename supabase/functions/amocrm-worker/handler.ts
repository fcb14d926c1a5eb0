// amocrm-worker: drains the job queue. Kicked by a trigger right after work is enqueued (pg_net), and by
// pg_cron every minute as a backstop. Operator-only (cron secret or service role key).
import { defaultSql, type Sql } from "../_shared/amocrm/mod.ts";
import { runBackfillPage } from "../_shared/jobs/backfill.ts";
import { probeBlockedAccount } from "../_shared/jobs/breaker_probe.ts";
import { confirmDeals } from "../_shared/jobs/confirm_deals.ts";
import { reconcileAccount } from "../_shared/jobs/reconcile.ts";
import { drainJobs, type JobHandler, type RunnerOptions } from "../_shared/jobs/runner.ts";
import { syncPipelines } from "../_shared/jobs/sync_pipelines.ts";
import type { OperatorSecrets } from "../_shared/ops/auth.ts";
import { operatorEndpoint } from "../_shared/ops/endpoint.ts";
import { logLine } from "../_shared/ops/http.ts";

export const jobHandlers: Record<string, JobHandler> = {
  confirm_deals: ({ sql, client, job }) =>
    confirmDeals(sql, client, job.user_account_id, (job.payload.ids as number[] | undefined) ?? []),
  sync_pipelines: ({ sql, client, job }) => syncPipelines(sql, client, job.user_account_id),
  // One page per job; it queues the next page itself.
  backfill_page: ({ sql, client, job }) => runBackfillPage(sql, client, job.user_account_id, job.payload),
  // Fanned out by amocrm-reconcile's cron run, or the continuation of a run that hit its time budget. The
  // budget keeps it under the job lock (120 s) and, started late in a drain (100 s), under the 150 s limit.
  // The one call after a 403 block's cool-down; success closes the breaker and queues a reconcile.
  breaker_probe: ({ sql, client, job }) => probeBlockedAccount(sql, client, job.user_account_id),
  reconcile: ({ sql, client, job }) =>
    reconcileAccount(sql, client, job.user_account_id, {
      mode: job.payload.mode === "full" ? "full" : "incremental",
      budgetMs: 45_000,
    }),
};

export function createWorkerHandler(deps: {
  sql?: Sql;
  secrets: OperatorSecrets;
  budgetMs?: number;
  clientFor?: RunnerOptions["clientFor"];
}) {
  return operatorEndpoint("amocrm-worker", deps.secrets, async () => {
    const report = await drainJobs({
      sql: deps.sql ?? defaultSql(),
      handlers: jobHandlers,
      worker: `amocrm-worker:${crypto.randomUUID().slice(0, 8)}`,
      budgetMs: deps.budgetMs ?? 100_000,
      clientFor: deps.clientFor,
      log: (fields) => logLine({ fn: "amocrm-worker", ...fields }),
    });
    return { done: report.done, failed: report.failed, deferred: report.deferred, jobs: report.results };
  });
}
