// Lock order of the apply path: a batch takes all its deals up front, before anything else, and writes the
// shared rows (the account's confirm_deals job, the funnel rollup rows) only at its end; so a batch waiting for
// anything holds no shared row another transaction could be waiting for. Fixed interleaving on two
// connections:
//   1. the holder takes what deal 2's event needs: deal 2's lock (an applier in the middle of its own batch),
//      or the row of deal 2's product lead (another deal of the same lead being applied);
//   2. a webhook batch [deal 1, deal 2] starts and blocks on it;
//   3. the holder writes a shared row that deal 1's event writes too (a confirmation job; a lead moved into
//      the same rollup bucket), then commits.
// Before the lock order the batch held that row since deal 1's event: the holder waited for the batch, the
// batch for the holder, and Postgres killed one of them (deadlock_detected). Now the holder goes straight
// through, the batch follows once it commits, and every event applies at the first try.
import assert from "node:assert/strict";
import postgres from "postgres";
import { cleanup, connect, createTestAccount, DB_URL, type Sql, type TestAccount } from "./support.ts";

const D1 = 7001, D2 = 7002;

function statusEvent(deal: number, status: number, ts: number) {
  return {
    entity: "lead",
    action: "status",
    amocrm_id: deal,
    amocrm_ts: ts,
    payload: {
      id: String(deal),
      status_id: String(status),
      old_status_id: "10",
      pipeline_id: "100",
      price: "1000",
      updated_at: String(ts),
      last_modified: String(ts),
      created_at: "1700000000",
      name: `Deal ${deal}`,
    },
  };
}

async function seed(sql: Sql, account: TestAccount): Promise<{ c1: string; c2: string; l3: string }> {
  const acc = account.userAccountId;
  await sql`
    insert into public.amocrm_pipeline_stages
      (user_account_id, pipeline_id, pipeline_name, status_id, status_name, sort_order, is_qualified_stage)
    values (${acc}, 100, 'Sales', 10, 'New', 10, false), (${acc}, 100, 'Sales', 30, 'Meeting', 30, true),
      (${acc}, 100, 'Sales', 142, 'Won', 10000, false), (${acc}, 100, 'Sales', 143, 'Lost', 11000, false)`;
  const [{ id: c1 }] = await sql<{ id: string }[]>`
    insert into public.creatives (user_account_id, name) values (${acc}, 'C1') returning id::text`;
  const [{ id: c2 }] = await sql<{ id: string }[]>`
    insert into public.creatives (user_account_id, name) values (${acc}, 'C2') returning id::text`;
  // The two deals' leads share one rollup bucket (C1, today); a third lead waits in C2.
  await sql`
    insert into public.leads (user_account_id, creative_id, amocrm_lead_id, created_at)
    values (${acc}, ${c1}, ${D1}, now()), (${acc}, ${c1}, ${D2}, now())`;
  const [{ id: l3 }] = await sql<{ id: string }[]>`
    insert into public.leads (user_account_id, creative_id, created_at) values (${acc}, ${c2}, now())
    returning id::text`;
  return { c1, c2, l3 };
}

type Step = (tx: postgres.TransactionSql) => Promise<unknown>;

/** What deal 2's event needs: its deal lock, or the row of its product lead. */
const holdDeal2 = (acc: string): Step => (tx) => tx`select private.lock_deal(${acc}, ${D2})`;
const holdLeadOfDeal2 = (acc: string): Step => (tx) =>
  tx`select 1 from public.leads where user_account_id = ${acc} and amocrm_lead_id = ${D2} for update`;

/**
 * Runs the interleaving: the batch (on its own connection) blocks on what `hold` took, then `sharedWrite`
 * runs in the holder's transaction. Returns the holder's error, if any.
 */
async function interleave(
  sql: Sql,
  account: TestAccount,
  events: unknown[],
  hold: Step,
  sharedWrite: Step,
): Promise<{ holderError: unknown; inbox: string }> {
  const acc = account.userAccountId;
  const [{ inbox_id: inbox }] = await sql<{ inbox_id: string }[]>`
    select inbox_id::text from private.receive_webhook(${acc}, 'application/x-www-form-urlencoded', 'test',
      ${sql.json(events as never)})`;
  const batchConn = await sql.reserve();
  let holderError: unknown = null;
  try {
    const [{ pid }] = await batchConn<{ pid: number }[]>`select pg_backend_pid() as pid`;
    let batch: Promise<unknown> | undefined;
    await sql.begin(async (tx) => {
      await hold(tx);
      // postgres.js sends a query when it is awaited or executed.
      batch = batchConn`select private.apply_webhook_events(${inbox}::bigint)`.execute();
      // Until the batch waits for it.
      for (let i = 0;; i++) {
        const [{ waiting }] = await sql<{ waiting: boolean }[]>`
          select exists (select 1 from pg_locks where pid = ${pid} and not granted) as waiting`;
        if (waiting) break;
        if (i > 500) throw new Error("the batch never waited for what the holder holds");
        await new Promise((r) => setTimeout(r, 10));
      }
      try {
        await tx.savepoint((sp) => sharedWrite(sp));
      } catch (error) {
        holderError = error;
      }
    });
    await batch;
  } finally {
    batchConn.release();
  }
  return { holderError, inbox };
}

async function events(sql: Sql, inbox: string) {
  const rows = await sql<{ amocrm_id: string; state: string; attempts: number; error: string | null }[]>`
    select amocrm_id::text, state, attempts, error from amocrm.webhook_events
    where inbox_id = ${inbox}::bigint order by amocrm_id`;
  return [...rows];
}

async function confirmationIds(sql: Sql, acc: string): Promise<number[]> {
  const [{ ids }] = await sql<{ ids: number[] }[]>`
    select coalesce(jsonb_agg(distinct i::bigint order by i::bigint), '[]') as ids
    from amocrm.jobs j, jsonb_array_elements_text(j.payload -> 'ids') i
    where j.user_account_id = ${acc} and j.kind = 'confirm_deals'`;
  return ids;
}

const applied = [
  { amocrm_id: String(D1), state: "applied", attempts: 1, error: null },
  { amocrm_id: String(D2), state: "applied", attempts: 1, error: null },
];

for (
  const [name, hold] of [
    ["takes its deals before anything else: the holder of a later deal", holdDeal2],
    ["waiting for a lead row holds no job row: the holder of that row", holdLeadOfDeal2],
  ] as const
) {
  Deno.test({
    name: `a batch ${name} can queue a confirmation`,
    ignore: !DB_URL,
    fn: async () => {
      const sql = connect();
      const account = await createTestAccount(sql, "lock order job");
      const acc = account.userAccountId;
      try {
        await seed(sql, account);
        const ts = Math.floor(Date.now() / 1000) - 60;
        const { holderError, inbox } = await interleave(
          sql,
          account,
          [statusEvent(D1, 142, ts), statusEvent(D2, 142, ts + 1)],
          hold(acc),
          (tx) => tx`select private.enqueue_deal_confirmation(${acc}, ${D2})`,
        );
        assert.equal(holderError, null, `the holder's confirmation failed: ${holderError}`);
        assert.deepEqual(await events(sql, inbox), applied);
        assert.deepEqual(
          await confirmationIds(sql, acc),
          [D1, D2],
          "both won deals are queued for confirmation",
        );
      } finally {
        await sql`delete from amocrm.jobs where user_account_id = ${acc}`;
        await cleanup(sql, account);
        await sql.end();
      }
    },
  });
}

Deno.test({
  name: "a batch waiting for a lead row holds no rollup row: the holder can move a lead into the same bucket",
  ignore: !DB_URL,
  fn: async () => {
    const sql = connect();
    const account = await createTestAccount(sql, "lock order rollup");
    const acc = account.userAccountId;
    try {
      const { c1, l3 } = await seed(sql, account);
      const ts = Math.floor(Date.now() / 1000) - 60;
      // Both deals reach the qualified stage: their leads' qualification lands in the (C1, today) rows.
      const { holderError, inbox } = await interleave(
        sql,
        account,
        [statusEvent(D1, 30, ts), statusEvent(D2, 30, ts + 1)],
        holdLeadOfDeal2(acc),
        (tx) => tx`update public.leads set creative_id = ${c1}::uuid where id = ${l3}::bigint`,
      );
      assert.equal(holderError, null, `the holder's lead update failed: ${holderError}`);
      assert.deepEqual(await events(sql, inbox), applied);
      const rows = await sql<{ leads: number; qualified_leads: number }[]>`
        select d.leads, d.qualified_leads from private.analytics_lead_daily d
        where d.user_account_id = ${acc} and d.creative_id = ${c1}::uuid
        union all
        select t.leads, t.qualified_leads from private.analytics_lead_totals t
        where t.user_account_id = ${acc} and t.creative_id = ${c1}::uuid`;
      assert.deepEqual([...rows], [{ leads: 3, qualified_leads: 2 }, { leads: 3, qualified_leads: 2 }]);
    } finally {
      await cleanup(sql, account);
      await sql.end();
    }
  },
});
