// Deadlock benchmark: concurrent appliers over overlapping deals. Webhook batches (private.receive_webhook,
// then private.apply_webhook_events in the next transaction, as the intake does) and confirmation snapshots
// (private.apply_deal_snapshot, one transaction per deal, as the worker does), all moving
// the same deals through the pipeline with every rollup kept fresh. Prints figures; never asserts.
//
//   deno run -A bench/apply_deadlocks.ts              4 appliers for 60 s, against 1 applier for 20 s
//   options: --workers N, --seconds N, --deals N (the overlapping pool), --batch N (events per batch),
//            --snapshot-every N (every Nth round is a snapshot round; 0 = webhook batches only)
//
// Deadlocks are counted by the server (pg_stat_database.deadlocks of the bench database, before and after);
// apply_webhook_events retries an event that hit one, so they cost time, not data. Freshness: the time from a
// batch's intake commit (the webhook's 200) to the commit of its apply (the stage rollups fold at that commit,
// so every tile shows it from then on), p50/p95. DATABASE_URL names the server (default: the dev database);
// the data goes to a throwaway database on it (bench/lib/bench_db.ts).
import postgres from "postgres";
import { parseArgs } from "node:util";
import { createBenchDatabase, dropBenchDatabase } from "./lib/bench_db.ts";
import { ms, summarize, table } from "./lib/stats.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    workers: { type: "string", default: "4" },
    seconds: { type: "string", default: "60" },
    deals: { type: "string", default: "200" },
    batch: { type: "string", default: "20" },
    "snapshot-every": { type: "string", default: "3" },
    keep: { type: "boolean", default: false },
  },
});
const WORKERS = Number(args.workers), SECONDS = Number(args.seconds);
const DEALS = Number(args.deals), BATCH = Number(args.batch);
const SNAPSHOT_EVERY = Number(args["snapshot-every"]);
const ADMIN_URL = Deno.env.get("DATABASE_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
const STAGES = [10, 20, 30, 40, 142, 143];
const started = performance.now();
const log = (msg: string) =>
  console.error(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}`);

type Sql = postgres.Sql;

async function setUp(sql: Sql): Promise<string> {
  const [{ id: account }] = await sql<{ id: string }[]>`
    insert into public.user_accounts (name) values ('deadlock bench') returning id`;
  await sql`
    insert into public.amocrm_pipeline_stages
      (user_account_id, pipeline_id, pipeline_name, status_id, status_name, sort_order, is_qualified_stage)
    values (${account}, 100, 'Sales', 10, 'New', 10, false), (${account}, 100, 'Sales', 20, 'Talk', 20, false),
      (${account}, 100, 'Sales', 30, 'Meeting', 30, true), (${account}, 100, 'Sales', 40, 'Contract', 40, false),
      (${account}, 100, 'Sales', 142, 'Won', 10000, false), (${account}, 100, 'Sales', 143, 'Lost', 11000, false)`;
  // Product leads with their amoCRM deal ids; creatives spread them over several rollup rows.
  await sql`insert into public.creatives (user_account_id, name) select ${account}, 'C' || g from generate_series(1, 10) g`;
  await sql`
    insert into public.leads (user_account_id, creative_id, amocrm_lead_id, phone, created_at)
    select ${account}, (select id from public.creatives where user_account_id = ${account} order by id
      offset g % 10 limit 1), 1000 + g, '+7905' || lpad(g::text, 7, '0'), now() - (g % 5) * interval '1 day'
    from generate_series(1, ${DEALS}::int) g`;
  return account;
}

let clock = Math.floor(Date.now() / 1000);
const tick = () => ++clock;

function leadEvent(deal: number, status: number, ts: number) {
  return {
    entity: "lead",
    action: "status",
    amocrm_id: deal,
    amocrm_ts: ts,
    payload: {
      id: String(deal),
      status_id: String(status),
      pipeline_id: "100",
      price: "1000",
      updated_at: String(ts),
      last_modified: String(ts),
      created_at: "1700000000",
      name: `Deal ${deal}`,
    },
  };
}

const pickDeals = () => {
  const set = new Set<number>();
  while (set.size < Math.min(BATCH, DEALS)) set.add(1001 + Math.floor(Math.random() * DEALS));
  return [...set];
};
const pickStage = () => STAGES[Math.floor(Math.random() * STAGES.length)];

interface WorkerResult {
  events: number;
  errors: number;
  freshness: number[];
}

/** One applier: alternates webhook batches and snapshot batches until the deadline. */
async function applier(url: string, account: string, until: number, index: number): Promise<WorkerResult> {
  const sql = postgres(url, { max: 1, prepare: false, onnotice: () => {} });
  const result: WorkerResult = { events: 0, errors: 0, freshness: [] };
  try {
    let round = index;
    while (performance.now() < until) {
      const deals = pickDeals();
      try {
        if (SNAPSHOT_EVERY === 0 || round++ % SNAPSHOT_EVERY !== SNAPSHOT_EVERY - 1) {
          const events = deals.map((d) => leadEvent(d, pickStage(), tick()));
          const [{ inbox_id }] = await sql<{ inbox_id: string }[]>`
            select inbox_id::text from private.receive_webhook(${account}, 'application/x-www-form-urlencoded',
              'bench', ${sql.json(events)})`;
          const t0 = performance.now();
          await sql`select private.apply_webhook_events(${inbox_id}::bigint)`;
          result.freshness.push(performance.now() - t0);
        } else {
          // A confirmation read: the deals as the API returns them, one short transaction per deal (as the
          // worker applies them).
          for (const d of deals) {
            const s = {
              id: d,
              status_id: pickStage(),
              pipeline_id: 100,
              price: 1000,
              updated_at: tick(),
              created_at: 1700000000,
            };
            await sql`select private.apply_deal_snapshot(${account}, ${sql.json(s)})`;
          }
        }
        result.events += deals.length;
      } catch (e) {
        result.errors++;
        if (result.errors <= 3) log(`worker ${index}: ${(e as Error).message}`);
      }
    }
  } finally {
    await sql.end();
  }
  return result;
}

async function deadlocks(sql: Sql): Promise<number> {
  const [{ n }] = await sql<{ n: string }[]>`
    select deadlocks::text as n from pg_stat_database where datname = current_database()`;
  return Number(n);
}

async function phase(url: string, sql: Sql, account: string, workers: number, seconds: number) {
  await sql`select pg_stat_clear_snapshot()`;
  const before = await deadlocks(sql);
  const until = performance.now() + seconds * 1000;
  const t0 = performance.now();
  const results = await Promise.all(
    Array.from({ length: workers }, (_, i) => applier(url, account, until, i)),
  );
  const elapsed = (performance.now() - t0) / 1000;
  // The statistics collector reports with a delay.
  await new Promise((r) => setTimeout(r, 1000));
  await sql`select pg_stat_clear_snapshot()`;
  const after = await deadlocks(sql);
  const events = results.reduce((a, r) => a + r.events, 0);
  const errors = results.reduce((a, r) => a + r.errors, 0);
  const fresh = summarize(results.flatMap((r) => r.freshness));
  log(`${workers} applier(s): ${events} events in ${elapsed.toFixed(0)} s, ${after - before} deadlocks`);
  return { workers, events, perSecond: events / elapsed, deadlocks: after - before, errors, fresh };
}

async function main(): Promise<void> {
  const url = await createBenchDatabase(ADMIN_URL, log);
  const sql = postgres(url, { max: 1, prepare: false, onnotice: () => {} });
  let report = "";
  try {
    const account = await setUp(sql);
    log(`warm-up: every deal once`);
    await phase(url, sql, account, 1, 3);
    const one = await phase(url, sql, account, 1, Math.max(5, Math.floor(SECONDS / 3)));
    const many = await phase(url, sql, account, WORKERS, SECONDS);
    // The rollups after all that: equal to the scanning definitions.
    const diff = await sql<{ diff: string }[]>`
      select count(*)::text as diff from (
        (select * from public.stage_funnel(${account}) except all select * from private.stage_funnel_from_history(${account}))
        union all
        (select * from private.stage_funnel_from_history(${account}) except all select * from public.stage_funnel(${account}))) d`
      .then(([r]) => r.diff, () => "n/a (no stage rollups in this schema)");
    const row = (p: typeof one) => [
      String(p.workers),
      String(p.events),
      p.perSecond.toFixed(0),
      (p.perSecond / one.perSecond).toFixed(2) + "x",
      String(p.deadlocks),
      String(p.errors),
      ms(p.fresh.p50),
      ms(p.fresh.p95),
    ];
    report =
      `\nDeadlock benchmark — ${DEALS} overlapping deals, batches of ${BATCH} events (2 webhook batches : ` +
      `1 snapshot batch), ${((performance.now() - started) / 1000).toFixed(0)} s\n\n` +
      table(
        [
          "appliers",
          "events",
          "events/s",
          "vs 1",
          "deadlocks",
          "failed batches",
          "apply p50 ms",
          "apply p95 ms",
        ],
        [row(one), row(many)],
      ) +
      `\n\nDeadlocks: pg_stat_database.deadlocks of the bench database. apply p50/p95: webhook batch intake ` +
      `commit (the 200) to apply commit (visible in every tile).\nStage rollups vs the history scan after ` +
      `all writes: ${diff} differing stage_funnel rows.`;
  } finally {
    await sql.end();
    if (!args.keep) await dropBenchDatabase(ADMIN_URL);
  }
  console.log(report);
}

await main();
