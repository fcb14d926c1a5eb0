// Drains amocrm.jobs: claims runnable jobs (skip locked, so several invocations can run at once), runs each
// with its account's amoCRM client, and records done / failed-with-backoff. Stops before the edge
// function's wall-clock limit; whatever is left waits for the next kick or cron tick.
// A live worker renews the locks of its whole batch every few seconds (the claim's lock is short), so a long
// amoCRM call never loses its job to another worker while a dead worker's jobs are free again within 30 s.
// A job that meets amoCRM's block (the 403 itself, or the open breaker after it) waits: it is deferred, not
// failed, and runs once the scheduler's probe finds the account unblocked.
import {
  AmoCrmCircuitOpenError,
  type AmoCrmClient,
  AmoCrmForbiddenError,
  createAmoCrmClient,
  type Sql,
} from "../amocrm/mod.ts";

/** How often a worker renews its job locks; well inside the claim's 30 s lock. */
export const HEARTBEAT_MS = 5_000;

export interface JobRow {
  id: number;
  kind: string;
  user_account_id: string;
  payload: Record<string, unknown>;
  attempts: number;
}

export type JobHandler = (ctx: { sql: Sql; client: AmoCrmClient; job: JobRow }) => Promise<unknown>;

export interface RunnerOptions {
  sql: Sql;
  handlers: Record<string, JobHandler>;
  worker: string;
  /** Stop claiming new jobs after this long. */
  budgetMs: number;
  heartbeatMs?: number;
  /** The claim's lock; a job whose heartbeats stop for this long is taken over by another worker. */
  lockSeconds?: number;
  batchSize?: number;
  clientFor?: (connectionId: string) => AmoCrmClient;
  log?: (fields: Record<string, unknown>) => void;
}

export interface RunnerReport {
  done: number;
  failed: number;
  deferred: number;
  results: { id: number; kind: string; outcome: unknown }[];
}

export async function drainJobs(opts: RunnerOptions): Promise<RunnerReport> {
  const started = Date.now();
  const clientFor = opts.clientFor ?? ((connectionId) => createAmoCrmClient({ connectionId }));
  const report: RunnerReport = { done: 0, failed: 0, deferred: 0, results: [] };
  const kinds = Object.keys(opts.handlers);

  while (Date.now() - started < opts.budgetMs) {
    const jobs = await opts.sql<JobRow[]>`
      select id, kind, user_account_id, payload, attempts
      from private.claim_jobs(${kinds}, ${opts.batchSize ?? 5}, ${opts.worker}, ${opts.lockSeconds ?? 30})`;
    if (jobs.length === 0) {
      // A job backing off for a few seconds is retried here rather than at the next cron tick.
      const waitMs = await msUntilNextRetry(opts.sql, kinds);
      if (waitMs === null || waitMs > 15_000 || Date.now() - started + waitMs > opts.budgetMs) break;
      await new Promise((r) => setTimeout(r, Math.max(waitMs, 50)));
      continue;
    }
    const held = new Set(jobs.map((j) => j.id));
    const heartbeat = setInterval(() => {
      opts.sql`select private.heartbeat_jobs(${[...held]}::bigint[], ${opts.worker})`.catch((error) =>
        opts.log?.({ heartbeat_failed: String(error) })
      );
    }, opts.heartbeatMs ?? HEARTBEAT_MS);
    try {
      for (const job of jobs) {
        await runOne(opts, clientFor, job, report);
        held.delete(job.id);
      }
    } finally {
      clearInterval(heartbeat);
    }
  }
  return report;
}

async function runOne(
  opts: RunnerOptions,
  clientFor: (connectionId: string) => AmoCrmClient,
  job: JobRow,
  report: RunnerReport,
): Promise<void> {
  try {
    const [connection] = await opts.sql<{ id: string }[]>`
          select id from amocrm.connections where user_account_id = ${job.user_account_id}`;
    if (!connection) throw new Error(`no amoCRM connection for user account ${job.user_account_id}`);
    const outcome = await opts.handlers[job.kind]({
      sql: opts.sql,
      client: clientFor(connection.id),
      job,
    });
    await opts.sql`select private.complete_job(${job.id}, ${opts.worker})`;
    report.done++;
    report.results.push({ id: job.id, kind: job.kind, outcome });
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (error instanceof AmoCrmCircuitOpenError || error instanceof AmoCrmForbiddenError) {
      // Not the job's fault: it waits, unclaimed, until the breaker's probe succeeds.
      await opts.sql`select private.defer_job(${job.id}, ${"waiting: " + message}, ${opts.worker})`;
      report.deferred++;
      report.results.push({ id: job.id, kind: job.kind, outcome: { deferred: message } });
      opts.log?.({ job: job.id, kind: job.kind, deferred: message });
      return;
    }
    await opts.sql`select private.fail_job(${job.id}, ${message}, ${opts.worker})`;
    report.failed++;
    report.results.push({ id: job.id, kind: job.kind, outcome: { error: message } });
    opts.log?.({ job: job.id, kind: job.kind, attempts: job.attempts, error: message });
  }
}

/** When the next job of these kinds can be claimed (a backoff ending, a dead worker's lock expiring). */
async function msUntilNextRetry(sql: Sql, kinds: string[]): Promise<number | null> {
  const [{ ms }] = await sql<{ ms: number | null }[]>`
    select (extract(epoch from private.next_job_due_at(${kinds}) - now()) * 1000)::int as ms`;
  return ms;
}
