// Enqueuing into a deduplicated job while workers claim it must never lose an id: each id enqueued ends up in
// exactly the payload of some claimed job. Several connections enqueue one id per call (as webhook applies do
// with confirm_deals) while another claims and completes jobs as fast as it can, so claims land between the
// steps of a merge. The kind is the test's own, so the stack's worker never takes these jobs.
import assert from "node:assert/strict";
import { connectDb } from "../../support/connected_account.ts";

const DATABASE_URL = Deno.env.get("DATABASE_URL");
const KIND = "test_enqueue_race";
const ENQUEUERS = 4;
const IDS_PER_ENQUEUER = 400;

Deno.test({
  name: "ids enqueued while the job is being claimed all reach a claimed job",
  ignore: !DATABASE_URL,
  fn: async () => {
    const sql = connectDb(); // six connections: the enqueuers and the claimer each keep one busy
    const userAccountId = crypto.randomUUID();
    const dedupeKey = `${KIND}:${userAccountId}`;
    await sql`insert into public.user_accounts (id, name) values (${userAccountId}, 'enqueue race test')`;
    try {
      const claimed: number[] = [];
      const claimOnce = async () => {
        const jobs = await sql<{ id: string; payload: { ids: number[] } }[]>`
          select id::text, payload from private.claim_jobs(${[KIND]}, 1, 'enqueue-race-test', 120)`;
        for (const job of jobs) {
          claimed.push(...job.payload.ids);
          await sql`select private.complete_job(${job.id}::bigint)`;
        }
        return jobs.length;
      };

      let enqueuing = true;
      const enqueuers = Array.from({ length: ENQUEUERS }, async (_, e) => {
        for (let i = 0; i < IDS_PER_ENQUEUER; i++) {
          const id = e * IDS_PER_ENQUEUER + i;
          await sql`select private.enqueue_job(${KIND}, ${userAccountId}, ${
            sql.json({ ids: [id] })
          }, ${dedupeKey})`;
        }
      });
      const claimer = (async () => {
        while (enqueuing) await claimOnce();
        while (await claimOnce() > 0); // what the last enqueues left queued
      })();
      await Promise.all(enqueuers);
      enqueuing = false;
      await claimer;

      const expected = Array.from({ length: ENQUEUERS * IDS_PER_ENQUEUER }, (_, i) => i);
      const got = [...new Set(claimed)].sort((a, b) => a - b);
      const lost = expected.filter((id) => !got.includes(id));
      assert.deepEqual(lost, [], `${lost.length} enqueued ids never reached a claimed job`);
      assert.equal(claimed.length, expected.length, "no id was claimed twice");
      const [{ jobs }] =
        await sql`select count(*)::int as jobs from amocrm.jobs where dedupe_key = ${dedupeKey}`;
      assert.ok(jobs > 1 && jobs < expected.length, `ids shared jobs while claims went on (${jobs} jobs)`);
    } finally {
      await sql`delete from amocrm.jobs where dedupe_key = ${dedupeKey}`;
      await sql`delete from public.user_accounts where id = ${userAccountId}`;
      await sql.end();
    }
  },
});
