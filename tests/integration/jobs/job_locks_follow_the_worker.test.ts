// A job's lock follows its worker's life. A worker renews the locks of its whole batch while it runs, so a job
// slower than the lock (one amoCRM call can retry for minutes) is never handed to a second worker; a worker that
// stops renewing (killed) loses its job after the lock, and the next worker takes it over. The kind is the
// test's own, so the stack's worker never takes these jobs; the lock is shortened to 1 s to keep the test fast.
import assert from "node:assert/strict";
import { drainJobs } from "../../../supabase/functions/_shared/jobs/runner.ts";
import { connectDb } from "../../support/connected_account.ts";

const DATABASE_URL = Deno.env.get("DATABASE_URL");
const KIND = "test_job_lock";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withAccountAndJobs<T>(
  count: number,
  fn: (sql: ReturnType<typeof connectDb>, ids: number[]) => Promise<T>,
) {
  const sql = connectDb();
  const userAccountId = crypto.randomUUID();
  await sql`insert into public.user_accounts (id, name) values (${userAccountId}, 'job lock test')`;
  await sql`insert into amocrm.connections (user_account_id, subdomain, state, token_kind, access_token)
    values (${userAccountId}, ${"lock-" + userAccountId.slice(0, 8)}, 'active', 'long_lived', 't')`;
  try {
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      const [{ id }] = await sql<{ id: string }[]>`
        select private.enqueue_job(${KIND}, ${userAccountId}, '{}'::jsonb, null)::text as id`;
      ids.push(Number(id));
    }
    return await fn(sql, ids);
  } finally {
    await sql`delete from public.user_accounts where id = ${userAccountId}`;
    await sql.end();
  }
}

const stealAttempt = (sql: ReturnType<typeof connectDb>) =>
  sql<{ id: string }[]>`select id::text from private.claim_jobs(${[KIND]}, 10, 'other-worker', 1)`;

Deno.test({
  name: "a live worker keeps every job of its batch while one of them runs longer than the lock",
  ignore: !DATABASE_URL,
  fn: () =>
    withAccountAndJobs(2, async (sql, ids) => {
      const stolen: string[] = [];
      const report = await drainJobs({
        sql,
        worker: "slow-worker",
        budgetMs: 10_000,
        batchSize: 2,
        lockSeconds: 1,
        heartbeatMs: 200,
        clientFor: () => ({}) as never,
        handlers: {
          [KIND]: async () => {
            // Three lock lengths in the handler; meanwhile another worker tries to take the batch.
            for (let i = 0; i < 6; i++) {
              await sleep(500);
              stolen.push(...(await stealAttempt(sql)).map((r) => r.id));
            }
            return "slow";
          },
        },
      });
      assert.deepEqual(stolen, [], "no job of the running batch was handed to another worker");
      assert.equal(report.done, 2);
      const states = await sql`select state from amocrm.jobs where id = any(${ids}::bigint[])`;
      assert.deepEqual(states.map((s) => s.state), ["done", "done"]);
    }),
});

Deno.test({
  name: "a worker that stops renewing (killed) loses its job after the lock, and another takes it over",
  ignore: !DATABASE_URL,
  fn: () =>
    withAccountAndJobs(1, async (sql, [id]) => {
      // The killed worker claimed it and then renewed nothing.
      await sql`select * from private.claim_jobs(${[KIND]}, 1, 'killed-worker', 1)`;
      assert.equal((await stealAttempt(sql)).length, 0, "not while its lock holds");
      await sleep(1_200);
      const report = await drainJobs({
        sql,
        worker: "next-worker",
        budgetMs: 5_000,
        lockSeconds: 1,
        clientFor: () => ({}) as never,
        handlers: { [KIND]: () => Promise.resolve("taken over") },
      });
      assert.deepEqual(report.results.map((r) => [Number(r.id), r.outcome]), [[id, "taken over"]]);
    }),
});
