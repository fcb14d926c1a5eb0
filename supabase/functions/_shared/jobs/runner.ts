// Drains amocrm.jobs: claims runnable jobs (skip locked, so several invocations can run at once), runs each
// with its account's amoCRM client, and records done / failed-with-backoff. Stops before the edge
// function's wall-clock limit; whatever is left waits for the next kick or cron tick.
import { type AmoCrmClient, createAmoCrmClient, type Sql } from "../amocrm/mod.ts";

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
  batchSize?: number;
  clientFor?: (connectionId: string) => AmoCrmClient;
  log?: (fields: Record<string, unknown>) => void;
}

export interface RunnerReport {
  done: number;
  failed: number;
  results: { id: number; kind: string; outcome: unknown }[];
}

export async function drainJobs(opts: RunnerOptions): Promise<RunnerReport> {
  const started = Date.now();
  const clientFor = opts.clientFor ?? ((connectionId) => createAmoCrmClient({ connectionId }));
  const report: RunnerReport = { done: 0, failed: 0, results: [] };
  const kinds = Object.keys(opts.handlers);

  while (Date.now() - started < opts.budgetMs) {
    const jobs = await opts.sql<JobRow[]>`
      select id, kind, user_account_id, payload, attempts
      from private.claim_jobs(${kinds}, ${opts.batchSize ?? 5}, ${opts.worker})`;
    if (jobs.length === 0) {
      // A job backing off for a few seconds is retried here rather than at the next cron tick.
      const waitMs = await msUntilNextRetry(opts.sql, kinds);
      if (waitMs === null || waitMs > 15_000 || Date.now() - started + waitMs > opts.budgetMs) break;
      await new Promise((r) => setTimeout(r, Math.max(waitMs, 50)));
      continue;
    }
    for (const job of jobs) {
      try {
        const [connection] = await opts.sql<{ id: string }[]>`
          select id from amocrm.connections where user_account_id = ${job.user_account_id}`;
        if (!connection) throw new Error(`no amoCRM connection for user account ${job.user_account_id}`);
        const outcome = await opts.handlers[job.kind]({
          sql: opts.sql,
          client: clientFor(connection.id),
          job,
        });
        await opts.sql`select private.complete_job(${job.id})`;
        report.done++;
        report.results.push({ id: job.id, kind: job.kind, outcome });
      } catch (error) {
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        await opts.sql`select private.fail_job(${job.id}, ${message})`;
        report.failed++;
        report.results.push({ id: job.id, kind: job.kind, outcome: { error: message } });
        opts.log?.({ job: job.id, kind: job.kind, attempts: job.attempts, error: message });
      }
    }
  }
  return report;
}

async function msUntilNextRetry(sql: Sql, kinds: string[]): Promise<number | null> {
  const [{ ms }] = await sql<{ ms: number | null }[]>`
    select (extract(epoch from min(run_after) - now()) * 1000)::int as ms
    from amocrm.jobs where kind = any (${kinds}) and state in ('queued', 'failed')`;
  return ms;
}
