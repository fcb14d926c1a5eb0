// Analytics benchmark: funnel/ROI reads through RLS at 1M leads in one account, and what keeping the rollup
// fresh costs on the webhook write path. Prints figures; never asserts.
//
//   deno run -A bench/analytics.ts                 1M leads in one account (≈ 5 min on 2 cores)
//   deno run -A bench/analytics.ts --accounts 10   10 accounts x 1M leads = 10M (measured on the first)
//   options: --leads N (per account), --runs N (per read query, default 200), --reuse (keep data from a
//            previous --keep run), --keep (leave the bench database), --no-alternatives, --fast-others (load
//            accounts after the first with triggers off, then rebuild their rollups: same data, less time)
//
// DATABASE_URL (default: the dev database) names the server. The data goes to a separate, throwaway database
// on it (see bench/lib/bench_db.ts for why it is called contrib_regression); the dev database is not written.
import postgres from "postgres";
import { parseArgs } from "node:util";
import { benchDatabaseExists, createBenchDatabase, dropBenchDatabase, withDatabase } from "./lib/bench_db.ts";
import { generateAccount, type GeneratedAccount } from "./lib/analytics_data.ts";
import { ms, summarize, table, timed } from "./lib/stats.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    leads: { type: "string", default: "1000000" },
    accounts: { type: "string", default: "1" },
    runs: { type: "string", default: "200" },
    reuse: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    "no-alternatives": { type: "boolean", default: false },
    "fast-others": { type: "boolean", default: false },
  },
});
const LEADS = Number(args.leads);
const ACCOUNTS = Number(args.accounts);
const RUNS = Number(args.runs);
const WRITES = 500;
const ADMIN_URL = Deno.env.get("DATABASE_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";

const started = performance.now();
const log = (msg: string) =>
  console.error(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}`);

type Sql = postgres.Sql;
const report: string[] = [];
let stageFoldSeconds = 0;

// ---------------------------------------------------------------------------------------------------------------
// Data
// ---------------------------------------------------------------------------------------------------------------

async function prepareData(): Promise<{ url: string; account: GeneratedAccount; loadSeconds: number }> {
  const t0 = performance.now();
  if (args.reuse && await benchDatabaseExists(ADMIN_URL)) {
    const url = withDatabase(ADMIN_URL, "contrib_regression");
    const sql = postgres(url, { max: 1, prepare: false, onnotice: () => {} });
    try {
      const [row] = await sql<{ account_id: string; member_id: string }[]>`
        select a.id as account_id, m.user_id as member_id
        from public.user_accounts a join public.user_account_members m on m.user_account_id = a.id
        where a.name = 'bench account 1'`;
      if (row) {
        log("reusing the existing bench database");
        // --accounts above what it holds: the missing accounts are added (with --fast-others, quickly).
        const [{ n }] = await sql<{ n: number }[]>`
          select count(*)::int as n from public.user_accounts where name like 'bench account %'`;
        const others = await loadAccounts(sql, n + 1, ACCOUNTS);
        if (others.length) {
          await rebuildOthers(sql, others);
          await sql`vacuum analyze`;
        }
        return { url, account: { accountId: row.account_id, memberId: row.member_id }, loadSeconds: 0 };
      }
    } finally {
      await sql.end();
    }
  }
  const url = await createBenchDatabase(ADMIN_URL, log);
  const sql = postgres(url, { max: 1, prepare: false, onnotice: () => {} });
  try {
    const loaded = await loadAccounts(sql, 1, ACCOUNTS);
    const first = loaded.first;
    if (loaded.length) await rebuildOthers(sql, loaded);
    // The load marked every lead dirty for the stage rollups; fold them as cron would, chunk by chunk (with
    // statistics of the loaded tables: without them the fold's plans are off by orders of magnitude).
    log("analyze");
    await sql`analyze`;
    const f0 = performance.now();
    log("stage rollups: folding the load");
    // One transaction per chunk, as cron's runs would commit them.
    while ((await sql`select private.analytics_stage_fold() as n`)[0].n > 0) { /* next chunk */ }
    stageFoldSeconds = (performance.now() - f0) / 1000;
    log(`stage rollups folded in ${stageFoldSeconds.toFixed(0)} s`);
    log("vacuum analyze");
    await sql`vacuum analyze`;
    return { url, account: first!, loadSeconds: (performance.now() - t0) / 1000 };
  } finally {
    await sql.end();
  }
}

/**
 * Generate accounts from..to. --fast-others: accounts after the measured one are loaded with triggers off and
 * their rollups rebuilt from scratch afterwards (private.analytics_rebuild): several times faster than the
 * trigger path, and the same rows, except that their phones stay unnormalized (their product purchases are not
 * credited). Returns the fast-loaded account ids (and the first account generated).
 */
async function loadAccounts(
  sql: Sql,
  from: number,
  to: number,
): Promise<string[] & { first?: GeneratedAccount }> {
  const fastLoaded: string[] & { first?: GeneratedAccount } = [];
  for (let i = from; i <= to; i++) {
    const fast = i > 1 && args["fast-others"];
    log(`account ${i}/${to}: ${LEADS.toLocaleString("en")} leads${fast ? " (triggers off)" : ""}`);
    if (fast) await sql`set session_replication_role = replica`;
    const account = await generateAccount(sql, {
      name: `bench account ${i}`,
      leads: LEADS,
      creatives: 300,
      directions: 20,
      days: 365,
      creativeLifetime: 60,
    }, log);
    if (fast) {
      await sql`set session_replication_role = origin`;
      fastLoaded.push(account.accountId);
    }
    fastLoaded.first ??= account;
  }
  return fastLoaded;
}

async function rebuildOthers(sql: Sql, ids: string[]): Promise<void> {
  log("analyze");
  await sql`analyze`;
  for (const id of ids) {
    log(`rebuilding the rollups of ${id} from scratch`);
    await sql`select private.analytics_rebuild(${id})`;
  }
}

async function describeData(sql: Sql, accountId: string, loadSeconds: number): Promise<void> {
  const [c] = await sql`
    select
      (select count(*) from public.leads) as leads_total,
      (select count(*) from public.leads where user_account_id = ${accountId}) as leads,
      (select count(*) from public.amocrm_lead_status_history where user_account_id = ${accountId}) as history,
      (select count(*) from public.sales where user_account_id = ${accountId}) as sales,
      (select count(*) from public.purchases where user_account_id = ${accountId}) as purchases,
      (select count(*) from public.ad_spend_daily where user_account_id = ${accountId}) as spend_rows,
      (select count(*) from private.analytics_lead_daily where user_account_id = ${accountId}) as rollup_rows,
      (select count(*) from private.analytics_repeat_credits where user_account_id = ${accountId}) as credits`;
  const n = (x: unknown) => Number(x).toLocaleString("en");
  report.push(
    `Data: ${n(c.leads)} leads in the measured account (${n(c.leads_total)} in ${ACCOUNTS} account(s)), ` +
      `${n(c.history)} history rows, ${n(c.sales)} sales, ${n(c.purchases)} product purchases ` +
      `(${n(c.credits)} credited), ${n(c.spend_rows)} spend rows; rollup: ${n(c.rollup_rows)} rows.` +
      (loadSeconds
        ? ` Load with triggers on: ${loadSeconds.toFixed(0)} s (of which folding the stage rollups ` +
          `${stageFoldSeconds.toFixed(0)} s).`
        : ""),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Reads, as a member through RLS
// ---------------------------------------------------------------------------------------------------------------

async function memberConnection(url: string, memberId: string): Promise<Sql> {
  // One connection, so the session-level role and claims stick (as PostgREST sets them per request).
  const sql = postgres(url, { max: 1, prepare: false, onnotice: () => {} });
  const claims = JSON.stringify({ sub: memberId, role: "authenticated", aud: "authenticated" });
  await sql`select set_config('role', 'authenticated', false), set_config('request.jwt.claims', ${claims}, false)`;
  return sql;
}

async function measure(label: string, runs: number, fn: () => Promise<unknown>): Promise<string[]> {
  for (let i = 0; i < Math.min(5, runs); i++) await fn(); // warm caches and connections
  const samples: number[] = [];
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    const [t, result] = await timed(fn);
    samples.push(t);
    rows = Array.isArray(result) ? result.length : rows;
  }
  const s = summarize(samples);
  log(`${label}: p50 ${ms(s.p50)} ms, p95 ${ms(s.p95)} ms`);
  return [label, String(s.runs), String(rows), ms(s.p50), ms(s.p95), ms(s.max)];
}

/** Mark n leads of the account dirty (as writes not folded yet would), run fn, then fold them. */
async function withStageBacklog(
  sql: Sql,
  accountId: string,
  n: number,
  fn: () => Promise<void>,
): Promise<void> {
  await sql`
    insert into private.analytics_stage_dirty (lead_id, user_account_id)
    select id, user_account_id from public.leads where user_account_id = ${accountId}
    order by md5(id::text || 'backlog') limit ${n}`;
  try {
    await fn();
  } finally {
    await sql`select private.analytics_stage_fold()`;
  }
}

async function measureReads(member: Sql, sql: Sql, accountId: string): Promise<void> {
  const [{ today, from30 }] = await member<{ today: string; from30: string }[]>`
    select (now() at time zone 'Europe/Moscow')::date::text as today,
      ((now() at time zone 'Europe/Moscow')::date - 29)::text as from30`;
  const rows: string[][] = [];
  rows.push(
    await measure(
      "creative_funnel, last 30 days",
      RUNS,
      () => member`select * from public.creative_funnel(${accountId}::uuid, ${from30}::date, ${today}::date)`,
    ),
  );
  rows.push(
    await measure(
      "creative_funnel, all time",
      RUNS,
      () => member`select * from public.creative_funnel(${accountId}::uuid)`,
    ),
  );
  rows.push(
    await measure(
      "creative_funnel, whole history as a range (daily rows)",
      Math.max(5, Math.floor(RUNS / 10)),
      () =>
        member`select * from public.creative_funnel(${accountId}::uuid, '2000-01-01'::date, ${today}::date)`,
    ),
  );
  rows.push(
    await measure(
      "creative_funnel, last 30 days, by sale date",
      RUNS,
      () =>
        member`select * from public.creative_funnel(${accountId}::uuid, ${from30}::date, ${today}::date, null, 'sale_date')`,
    ),
  );
  rows.push(
    await measure(
      "creative_funnel, all time, by sale date",
      RUNS,
      () => member`select * from public.creative_funnel(${accountId}::uuid, null, null, null, 'sale_date')`,
    ),
  );
  rows.push(
    await measure(
      "creative_funnel, whole history as a range, by sale date",
      Math.max(5, Math.floor(RUNS / 10)),
      () =>
        member`select * from public.creative_funnel(${accountId}::uuid, '2000-01-01'::date, ${today}::date, null, 'sale_date')`,
    ),
  );
  rows.push(
    await measure(
      "creative_funnel_stats view (all time)",
      RUNS,
      () => member`select * from public.creative_funnel_stats where user_account_id = ${accountId}::uuid`,
    ),
  );
  const few = Math.max(5, Math.floor(RUNS / 10));
  rows.push(
    await measure(
      "direction_funnel, all time",
      few,
      () => member`select * from public.direction_funnel(${accountId}::uuid)`,
    ),
  );
  rows.push(
    await measure(
      "qualification_stats",
      few,
      () => member`select * from public.qualification_stats(${accountId}::uuid)`,
    ),
  );
  rows.push(
    await measure(
      "funnel_daily, last 30 days",
      few,
      () => member`select * from public.funnel_daily(${accountId}::uuid, ${from30}::date, ${today}::date)`,
    ),
  );
  rows.push(
    await measure(
      "direction_funnel, last 30 days, by sale date",
      few,
      () =>
        member`select * from public.direction_funnel(${accountId}::uuid, ${from30}::date, ${today}::date, null, 'sale_date')`,
    ),
  );
  rows.push(
    await measure(
      "funnel_daily, last 30 days, by sale date",
      few,
      () =>
        member`select * from public.funnel_daily(${accountId}::uuid, ${from30}::date, ${today}::date, null, null, 'sale_date')`,
    ),
  );
  rows.push(
    await measure(
      "revenue_totals, last 30 days (by sale date)",
      few,
      () => member`select * from public.revenue_totals(${accountId}::uuid, ${from30}::date, ${today}::date)`,
    ),
  );
  rows.push(
    await measure(
      "account_revenue_totals",
      few,
      () => member`select * from public.account_revenue_totals where user_account_id = ${accountId}::uuid`,
    ),
  );
  const [{ creative }] = await member<{ creative: string }[]>`
    select creative_id::text as creative from private.analytics_stage_counts
    where user_account_id = ${accountId}::uuid and day = 'infinity' and creative_id is not null
    group by 1 order by sum(entered) desc limit 1`;
  const stageReads: [string, () => Promise<unknown>][] = [
    [
      "stage_funnel, last 30 days",
      () =>
        member`select * from public.stage_funnel(${accountId}::uuid, 100, ${from30}::date, ${today}::date)`,
    ],
    ["stage_funnel, all time", () => member`select * from public.stage_funnel(${accountId}::uuid, 100)`],
    [
      "stage_funnel, last 30 days, one creative",
      () =>
        member`select * from public.stage_funnel(${accountId}::uuid, 100, ${from30}::date, ${today}::date, ${creative}::uuid)`,
    ],
    [
      "stage_funnel, whole history as a range (daily rows)",
      () =>
        member`select * from public.stage_funnel(${accountId}::uuid, 100, '2000-01-01'::date, ${today}::date)`,
    ],
    [
      "stage_durations, last 30 days",
      () =>
        member`select * from public.stage_durations(${accountId}::uuid, 100, ${from30}::date, ${today}::date)`,
    ],
    [
      "stage_durations, all time",
      () => member`select * from public.stage_durations(${accountId}::uuid, 100)`,
    ],
    [
      "stage_durations, all time, one creative",
      () =>
        member`select * from public.stage_durations(${accountId}::uuid, 100, null, null, ${creative}::uuid)`,
    ],
    [
      "pipeline_stage_funnel view (all time)",
      () => member`select * from public.pipeline_stage_funnel where user_account_id = ${accountId}::uuid`,
    ],
  ];
  for (const [label, fn] of stageReads) rows.push(await measure(label, RUNS, fn));
  // Reads add the change of leads not folded yet themselves: the cost of a backlog of 500 such leads.
  await withStageBacklog(sql, accountId, 500, async () => {
    rows.push(await measure("stage_funnel, all time, 500 leads not folded yet", few, stageReads[1][1]));
    rows.push(await measure("stage_durations, all time, 500 leads not folded yet", few, stageReads[5][1]));
  });
  // What the rollup saves: the same per-creative counts aggregated from the base tables on every request.
  const scratch = (from: string | null, to: string | null) =>
    member`
      select l.creative_id, count(*) as leads, count(*) filter (where l.is_qualified) as qualified,
        count(distinct s.lead_id) as conversions, coalesce(sum(s.amount), 0) as revenue
      from public.leads l
      left join public.sales s on s.lead_id = l.id and s.status = 'paid'
      where l.user_account_id = ${accountId}::uuid
        and l.created_at >= coalesce(${from}::date, '-infinity'::date)
        and l.created_at < coalesce(${to}::date + 1, 'infinity'::date)
      group by l.creative_id`;
  rows.push(
    await measure("from-scratch aggregate, last 30 days (no rollup)", 5, () => scratch(from30, today)),
  );
  rows.push(await measure("from-scratch aggregate, all time (no rollup)", 5, () => scratch(null, null)));

  report.push(
    "\nReads as an authenticated member through RLS (client round trip, postgres.js, prepare: false)\n" +
      table(["query", "runs", "rows", "p50 ms", "p95 ms", "max ms"], rows),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Writes: what keeping the rollup fresh costs
// ---------------------------------------------------------------------------------------------------------------

interface WriteSets {
  plainClient: string[];
  flipClient: string[];
  plainServer: string[];
  flipServer: string[];
}

async function pickLeads(sql: Sql, accountId: string): Promise<WriteSets> {
  // Unqualified leads in an open stage: a status-only update leaves them unqualified (no trigger work), the
  // qualifying update flips them (rollup trigger fires). Spread over the account so no single rollup row is hot.
  const ids = (await sql<{ id: string }[]>`
    select id::text from public.leads
    where user_account_id = ${accountId} and not is_qualified and current_status_id in (10, 20)
    order by md5(id::text) limit ${4 * WRITES}`).map((r) => r.id);
  return {
    plainClient: ids.slice(0, WRITES),
    flipClient: ids.slice(WRITES, 2 * WRITES),
    plainServer: ids.slice(2 * WRITES, 3 * WRITES),
    flipServer: ids.slice(3 * WRITES, 4 * WRITES),
  };
}

async function measureWrites(sql: Sql, accountId: string, sets: WriteSets): Promise<number> {
  const plain: number[] = [];
  const flip: number[] = [];
  const saleBare: number[] = [];
  const saleTracked: number[] = [];
  // Sales a previous run (--reuse) left behind; removing them goes through the triggers too.
  await sql`delete from public.sales where user_account_id = ${accountId} and amocrm_deal_id >= 2000000000000`;
  // Interleaved, so drift (autovacuum, checkpoints) hits both sides alike. Each statement is its own transaction.
  for (let i = 0; i < WRITES; i++) {
    const [a] = await timed(() =>
      sql`update public.leads set current_status_id = 30 where id = ${sets.plainClient[i]}`
    );
    const [b] = await timed(() =>
      sql`update public.leads set current_status_id = 30, is_qualified = true where id = ${
        sets.flipClient[i]
      }`
    );
    const [c] = await timed(() =>
      sql`insert into public.sales (user_account_id, amocrm_deal_id, lead_id, amount, status)
          values (${accountId}, ${2_000_000_000_000 + i}, null, 1000, 'paid')`
    );
    const [d] = await timed(() =>
      sql`insert into public.sales (user_account_id, amocrm_deal_id, lead_id, amount, status)
          values (${accountId}, ${3_000_000_000_000 + i}, ${sets.flipClient[i]}, 1000, 'paid')`
    );
    plain.push(a);
    flip.push(b);
    saleBare.push(c);
    saleTracked.push(d);
  }

  // Server side: the statements alone, without network and commit, timed with clock_timestamp() in one DO block.
  const arr = (ids: string[]) => `array[${ids.join(",")}]::bigint[]`;
  await sql.unsafe(`
    do $$
    declare
      v_plain bigint[] := ${arr(sets.plainServer)};
      v_flip bigint[] := ${arr(sets.flipServer)};
      v_t timestamptz;
      v_plain_us float8 := 0;
      v_flip_us float8 := 0;
      v_sale_bare_us float8 := 0;
      v_sale_tracked_us float8 := 0;
      i integer;
    begin
      for i in 1 .. array_length(v_plain, 1) loop
        v_t := clock_timestamp();
        update public.leads set current_status_id = 30 where id = v_plain[i];
        v_plain_us := v_plain_us + extract(epoch from clock_timestamp() - v_t) * 1e6;
        v_t := clock_timestamp();
        update public.leads set current_status_id = 30, is_qualified = true where id = v_flip[i];
        v_flip_us := v_flip_us + extract(epoch from clock_timestamp() - v_t) * 1e6;
        v_t := clock_timestamp();
        insert into public.sales (user_account_id, amocrm_deal_id, lead_id, amount, status)
        values ('${accountId}', 4000000000000 + i, null, 1000, 'paid');
        v_sale_bare_us := v_sale_bare_us + extract(epoch from clock_timestamp() - v_t) * 1e6;
        v_t := clock_timestamp();
        insert into public.sales (user_account_id, amocrm_deal_id, lead_id, amount, status)
        values ('${accountId}', 5000000000000 + i, v_flip[i], 1000, 'paid');
        v_sale_tracked_us := v_sale_tracked_us + extract(epoch from clock_timestamp() - v_t) * 1e6;
      end loop;
      perform set_config('bench.plain_us', (v_plain_us / array_length(v_plain, 1))::text, false);
      perform set_config('bench.flip_us', (v_flip_us / array_length(v_plain, 1))::text, false);
      perform set_config('bench.sale_bare_us', (v_sale_bare_us / array_length(v_plain, 1))::text, false);
      perform set_config('bench.sale_tracked_us', (v_sale_tracked_us / array_length(v_plain, 1))::text, false);
    end $$`);
  const [server] = await sql<{ plain: string; flip: string; sale_bare: string; sale_tracked: string }[]>`
    select current_setting('bench.plain_us') as plain, current_setting('bench.flip_us') as flip,
      current_setting('bench.sale_bare_us') as sale_bare, current_setting('bench.sale_tracked_us') as sale_tracked`;

  const p = summarize(plain), f = summarize(flip), sb = summarize(saleBare), st = summarize(saleTracked);
  const us = (x: string) => Number(x).toFixed(1);
  const ratio = (a: number, b: number) => (a / b).toFixed(2) + "x";
  report.push(
    "\nWrite path: a plain UPDATE of the lead vs the same UPDATE flipping is_qualified (rollup trigger fires),\n" +
      "and a sale insert without analytics work (no lead) vs one with it (paid sale of a lead)\n" +
      table(
        ["statement", "client p50 ms", "client mean ms", "server µs/stmt"],
        [
          ["update leads set current_status_id (stage mark only)", ms(p.p50), ms(p.mean), us(server.plain)],
          ["... same + is_qualified = true (rollup kept fresh)", ms(f.p50), ms(f.mean), us(server.flip)],
          [
            "ratio",
            ratio(f.p50, p.p50),
            ratio(f.mean, p.mean),
            ratio(Number(server.flip), Number(server.plain)),
          ],
          ["insert sale, no lead (no analytics work)", ms(sb.p50), ms(sb.mean), us(server.sale_bare)],
          ["insert paid sale of a lead (money + rollup)", ms(st.p50), ms(st.mean), us(server.sale_tracked)],
          [
            "ratio",
            ratio(st.p50, sb.p50),
            ratio(st.mean, sb.mean),
            ratio(Number(server.sale_tracked), Number(server.sale_bare)),
          ],
        ],
      ),
  );
  return p.p50;
}

// ---------------------------------------------------------------------------------------------------------------
// Stage rollups: what an applied stage event pays (the dirty mark) and what folding it costs afterwards
// ---------------------------------------------------------------------------------------------------------------

const STAGE_TRIGGERS = [
  ["public.amocrm_lead_status_history", "analytics_stage_history_inserted"],
  ["public.leads", "analytics_stage_lead_updated"],
];

async function setStageTriggers(sql: Sql, enabled: boolean): Promise<void> {
  for (const [table, trigger] of STAGE_TRIGGERS) {
    await sql.unsafe(`alter table ${table} ${enabled ? "enable" : "disable"} trigger ${trigger}`);
  }
}

/** Server µs per event of a stage move as the apply writes it: the history row, then the lead's new stage. */
function stageMove(accountId: string, to: number): string {
  return `insert into public.amocrm_lead_status_history (user_account_id, lead_id, amocrm_lead_id, from_pipeline_id,
      from_status_id, to_pipeline_id, to_status_id, changed_at, source)
    select l.user_account_id, l.id, l.id, l.current_pipeline_id, l.current_status_id, 100, ${to}, now(), 'webhook'
    from public.leads l where l.id = v_id and l.user_account_id = '${accountId}';
    update public.leads set current_status_id = ${to} where id = v_id`;
}

async function measureStageUpkeep(sql: Sql, accountId: string): Promise<void> {
  const ROUND = 100;
  const ids = (await sql<{ id: string }[]>`
    select id::text from public.leads where user_account_id = ${accountId} and current_status_id in (10, 20)
    order by md5(id::text || 'stage-upkeep') limit ${3 * WRITES}`).map((r) => r.id);
  const plain: number[] = [], bare: number[] = [], kept: number[] = [], fold: number[] = [];
  // Rounds alternate the three, so drift hits them alike; triggers are toggled between rounds only.
  for (let r = 0; r * ROUND < WRITES; r++) {
    const slice = (k: number) => ids.slice(k * WRITES + r * ROUND, k * WRITES + (r + 1) * ROUND);
    await setStageTriggers(sql, false);
    try {
      plain.push(
        await serverMicros(sql, "update public.leads set current_status_id = 30 where id = v_id", slice(0)),
      );
      bare.push(await serverMicros(sql, stageMove(accountId, 30), slice(1)));
    } finally {
      await setStageTriggers(sql, true);
      // What changed while the marks were off must still reach the rollups (the final check compares them).
      await sql`insert into private.analytics_stage_dirty (lead_id, user_account_id)
        select id, user_account_id from public.leads where id = any(${[...slice(0), ...slice(1)]}::bigint[])`;
      await sql`select private.analytics_stage_fold()`;
    }
    kept.push(await serverMicros(sql, stageMove(accountId, 30), slice(2)));
    // The fold the intake runs after that apply, for the events just marked (batches of 20, as one POST).
    const [{ us }] = await sql<{ us: string }[]>`
      select (extract(epoch from clock_timestamp() - t0) * 1e6 / ${ROUND})::text as us
      from (select clock_timestamp() as t0) t, lateral (select private.analytics_stage_fold()) f`;
    fold.push(Number(us));
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const p = mean(plain), b = mean(bare), k = mean(kept), f = mean(fold);
  const us = (x: number) => x.toFixed(1);
  const times = (x: number) => (x / p).toFixed(2) + "x";
  report.push(
    "\nStage rollups on the write path (server µs per event, one DO block per round of " + ROUND +
      " events, rounds interleaved)\n" +
      table(["what", "µs / event", "vs plain lead UPDATE"], [
        ["plain lead UPDATE (current_status_id; no rollup work)", us(p), "1.00x"],
        ["stage move: history row + lead UPDATE, stage triggers off", us(b), times(b)],
        ["stage move with the stage rollups kept (dirty mark)", us(k), times(k)],
        ["  upkeep = the difference, per applied event", us(k - b), ""],
        ["  plain UPDATE + upkeep", us(p + k - b), times(p + k - b)],
        ["fold afterwards (one call for the round), per event", us(f), times(f)],
        ["  plain UPDATE + upkeep + fold", us(p + k - b + f), times(p + k - b + f)],
      ]),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Alternatives the design was chosen against, measured on the same data
// ---------------------------------------------------------------------------------------------------------------

/**
 * Server-side cost of one statement, µs per execution: a DO block runs it once per id (as `v_id`) and times
 * each run with clock_timestamp(), so network and commit stay out of it.
 */
async function serverMicros(sql: Sql, statement: string, ids: (string | number)[]): Promise<number> {
  await sql.unsafe(`
    do $$
    declare
      v_ids bigint[] := array[${ids.join(",")}]::bigint[];
      v_id bigint;
      v_t timestamptz;
      v_total float8 := 0;
    begin
      foreach v_id in array v_ids loop
        v_t := clock_timestamp();
        ${statement};
        v_total := v_total + extract(epoch from clock_timestamp() - v_t) * 1e6;
      end loop;
      perform set_config('bench.us', (v_total / array_length(v_ids, 1))::text, false);
    end $$`);
  const [{ us }] = await sql<{ us: string }[]>`select current_setting('bench.us') as us`;
  return Number(us);
}

async function clientP50(fn: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < WRITES; i++) samples.push((await timed(fn))[0]);
  return summarize(samples).p50;
}

async function measureAlternatives(sql: Sql, accountId: string): Promise<void> {
  const rows: string[][] = [];
  const us = (x: number) => x.toFixed(1);
  const times = (x: number, base: number) => (x / base).toFixed(2) + "x";

  // 1. A statement-level UPDATE trigger (transition tables) cannot have a column list or WHEN, so it runs on
  //    every status-only update; this one does the minimum such a design would do. Timed between two runs
  //    without it, on fresh leads each time.
  const ids = (await sql<{ id: string }[]>`
    select id::text from public.leads where user_account_id = ${accountId} and current_status_id = 20
    order by md5(id::text || 'alt') limit ${3 * WRITES}`).map((r) => r.id);
  const statusOnly = "update public.leads set current_status_id = 40 where id = v_id";
  const before = await serverMicros(sql, statusOnly, ids.slice(0, WRITES));
  await sql.unsafe(`
    create or replace function private.bench_statement_update() returns trigger language plpgsql set search_path = ''
    as $$ begin
      insert into private.analytics_lead_daily as r (user_account_id, creative_id, direction_id, day, qualified_leads)
      select n.user_account_id, n.creative_id, n.direction_id, private.analytics_day(n.created_at),
        sum(coalesce(n.is_qualified, false)::integer - coalesce(o.is_qualified, false)::integer)
      from new_rows n join old_rows o on o.id = n.id
      where o.is_qualified is distinct from n.is_qualified
      group by 1, 2, 3, 4
      on conflict (user_account_id, creative_id, direction_id, day)
        do update set qualified_leads = r.qualified_leads + excluded.qualified_leads;
      return null;
    end $$;
    create trigger bench_statement_update after update on public.leads
      referencing old table as old_rows new table as new_rows
      for each statement execute function private.bench_statement_update();`);
  let withStatement = NaN;
  try {
    withStatement = await serverMicros(sql, statusOnly, ids.slice(WRITES, 2 * WRITES));
  } finally {
    await sql.unsafe(`drop trigger if exists bench_statement_update on public.leads;
      drop function if exists private.bench_statement_update();`);
  }
  const after = await serverMicros(sql, statusOnly, ids.slice(2 * WRITES, 3 * WRITES));
  const chosen = (before + after) / 2;
  rows.push(["status-only update, row-level WHEN trigger (chosen): no trigger call", us(chosen), ""]);
  rows.push([
    "status-only update with a statement-level UPDATE trigger",
    us(withStatement),
    times(withStatement, chosen),
  ]);

  // 2. Lead inserts, in a scratch account: no analytics trigger, the statement-level trigger (chosen) and a
  //    row-level one; single rows right after a bulk load in the same session (the cached-plan trap) and bulk.
  const [{ id: scratch }] = await sql<{ id: string }[]>`
    insert into public.user_accounts (name) values ('bench scratch') returning id`;
  const bulk = async () =>
    (await timed(() =>
      sql`insert into public.leads (user_account_id, phone, is_qualified, created_at)
          select ${scratch}, '+7902' || lpad(g::text, 7, '0'), g % 3 = 0, now() - (g % 90) * interval '1 day'
          from generate_series(1, 100000) g`
    ))[0];
  const singleSql = `insert into public.leads (user_account_id, phone, created_at)
    values ('${scratch}', '+7903' || lpad(v_id::text, 7, '0'), now())`;
  const single = async (offset: number) => ({
    client: await clientP50(() =>
      sql`insert into public.leads (user_account_id, phone, created_at) values (${scratch}, '+79030000000', now())`
    ),
    server: await serverMicros(sql, singleSql, Array.from({ length: WRITES }, (_, i) => offset + i)),
  });
  try {
    const stmtBulk = await bulk();
    const stmtSingle = await single(0);
    await sql.unsafe(`alter table public.leads disable trigger analytics_leads_inserted`);
    let bare = { client: NaN, server: NaN };
    let rowBulk = NaN;
    let rowSingle = { client: NaN, server: NaN };
    try {
      bare = await single(10_000);
      await sql.unsafe(`
        create or replace function private.bench_row_insert() returns trigger language plpgsql set search_path = ''
        as $$ begin
          perform private.analytics_bump(new.user_account_id, new.creative_id, new.direction_id,
            private.analytics_day(new.created_at), 1, coalesce(new.is_qualified, false)::integer, 0, 0, 0, 0, 0);
          return null;
        end $$;
        create trigger bench_row_insert after insert on public.leads
          for each row execute function private.bench_row_insert();`);
      rowBulk = await bulk();
      rowSingle = await single(20_000);
    } finally {
      await sql.unsafe(`drop trigger if exists bench_row_insert on public.leads;
        drop function if exists private.bench_row_insert();
        alter table public.leads enable trigger analytics_leads_inserted;`);
    }
    rows.push(["single-lead insert, no analytics trigger (baseline): client p50 ms / server µs", "", ""]);
    rows.push(["  client p50 ms", ms(bare.client), ""]);
    rows.push(["  server µs", us(bare.server), ""]);
    rows.push(["single-lead insert, statement-level trigger (chosen), after a bulk load", "", ""]);
    rows.push(["  client p50 ms", ms(stmtSingle.client), times(stmtSingle.client, bare.client)]);
    rows.push(["  server µs", us(stmtSingle.server), times(stmtSingle.server, bare.server)]);
    rows.push(["single-lead insert, row-level trigger", "", ""]);
    rows.push(["  client p50 ms", ms(rowSingle.client), times(rowSingle.client, bare.client)]);
    rows.push(["  server µs", us(rowSingle.server), times(rowSingle.server, bare.server)]);
    rows.push(["bulk insert of 100k leads, statement-level trigger (chosen), ms", ms(stmtBulk), ""]);
    rows.push(["bulk insert of 100k leads, row-level trigger, ms", ms(rowBulk), times(rowBulk, stmtBulk)]);
  } finally {
    await sql`delete from public.user_accounts where id = ${scratch}`;
  }

  report.push(
    "\nDesign alternatives (same data; server µs = per statement inside one DO block)\n" +
      table(["alternative", "value", "vs"], rows),
  );
}

/**
 * The stage rollups after every write above: (1) the rollup rows equal a rebuild from scratch (compared inside a
 * transaction that is rolled back), (2) the tiles equal the scanning definitions (the median within its bucket).
 */
async function checkStageRollups(sql: Sql, accountId: string): Promise<string> {
  log("stage rollups: folding what is left, then comparing with a rebuild and with the history scan");
  while ((await sql`select private.analytics_stage_fold() as n`)[0].n > 0) { /* next chunk */ }
  // The rebuild runs in a transaction that is rolled back (by throwing the result out of it).
  class Outcome {
    constructor(readonly text: string) {}
  }
  const rowsDiff = await sql.begin(async (tx) => {
    await tx`create temp table stage_before on commit drop as
      select 'c' as t, to_jsonb(r) as r from private.analytics_stage_counts r
      where user_account_id = ${accountId} and (in_stage, entered, furthest, open_visits) <> (0, 0, 0, 0)
      union all
      select 'h', to_jsonb(r) from private.analytics_stage_hist r
      where user_account_id = ${accountId} and (visits, seconds_sum) <> (0, 0)`;
    await tx`select private.analytics_stage_rebuild(${accountId})`;
    const [{ n, rows }] = await tx<{ n: string; rows: string }[]>`
      with after as (
        select 'c' as t, to_jsonb(r) as r from private.analytics_stage_counts r where user_account_id = ${accountId}
        union all
        select 'h', to_jsonb(r) from private.analytics_stage_hist r where user_account_id = ${accountId})
      select (select count(*) from ((table stage_before except all table after)
          union all (table after except all table stage_before)) d)::text as n,
        (select count(*) from stage_before)::text as rows`;
    throw new Outcome(`${n} of ${Number(rows).toLocaleString("en")}`);
  }).then(() => "n/a", (e) => e instanceof Outcome ? e.text : Promise.reject(e));
  const [{ today, from30 }] = await sql<{ today: string; from30: string }[]>`
    select (now() at time zone 'Europe/Moscow')::date::text as today,
      ((now() at time zone 'Europe/Moscow')::date - 29)::text as from30`;
  const tiles = async (from: string | null, to: string | null) => {
    const [{ funnel, durations }] = await sql<{ funnel: string; durations: string }[]>`
      select
        (select count(*) from (
          (select * from public.stage_funnel(${accountId}, null, ${from}::date, ${to}::date)
           except all select * from private.stage_funnel_from_history(${accountId}, null, ${from}::date, ${to}::date))
          union all
          (select * from private.stage_funnel_from_history(${accountId}, null, ${from}::date, ${to}::date)
           except all select * from public.stage_funnel(${accountId}, null, ${from}::date, ${to}::date))) d)::text
          as funnel,
        (select count(*)
         from public.stage_durations(${accountId}, null, ${from}::date, ${to}::date) n
         full join private.stage_durations_from_history(${accountId}, null, ${from}::date, ${to}::date) o
           using (pipeline_id, status_id)
         where (n.completed_visits, n.open_visits, n.avg_hours) is distinct from
             (o.completed_visits, o.open_visits, o.avg_hours)
           or abs(n.median_hours - o.median_hours) > 0.19 * 1.19 * (o.median_hours + 1 / 60.0) + 0.01)::text
          as durations`;
    return `funnel ${funnel}, durations ${durations}`;
  };
  return `Stage rollups after all writes: rollup rows vs a rebuild from scratch: ${rowsDiff} rows differ; ` +
    `tiles vs the history scan (differing rows): all time ${await tiles(
      null,
      null,
    )}; last 30 days ${await tiles(
      from30,
      today,
    )}.`;
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const { url, account, loadSeconds } = await prepareData();
  const sql = postgres(url, { max: 1, prepare: false, onnotice: () => {} });
  const member = await memberConnection(url, account.memberId);
  try {
    await describeData(sql, account.accountId, loadSeconds);
    await measureReads(member, sql, account.accountId);
    const sets = await pickLeads(sql, account.accountId);
    await measureWrites(sql, account.accountId, sets);
    await measureStageUpkeep(sql, account.accountId);
    if (!args["no-alternatives"]) await measureAlternatives(sql, account.accountId);
    // The writes above went through the triggers; the rollup must still equal the from-scratch numbers.
    const [{ diff }] = await sql<{ diff: string }[]>`
      select count(*)::text as diff from (
        (select user_account_id, creative_id, direction_id, day, leads::bigint, qualified_leads::bigint,
           converted_leads::bigint, paid_sales::bigint, revenue, repeat_purchases::bigint, repeat_revenue
         from private.analytics_lead_daily where user_account_id = ${account.accountId}
           and (leads, qualified_leads, converted_leads, paid_sales, revenue, repeat_purchases, repeat_revenue)
             <> (0, 0, 0, 0, 0, 0, 0)
         except select * from private.analytics_expected_rollup(${account.accountId}))
        union all
        (select * from private.analytics_expected_rollup(${account.accountId})
         except select user_account_id, creative_id, direction_id, day, leads, qualified_leads, converted_leads,
           paid_sales, revenue, repeat_purchases, repeat_revenue
         from private.analytics_lead_daily where user_account_id = ${account.accountId})) d`;
    const [{ totals_diff }] = await sql<{ totals_diff: string }[]>`
      select count(*)::text as totals_diff from (
        (select creative_id, direction_id, leads::bigint, qualified_leads::bigint, converted_leads::bigint,
           paid_sales::bigint, revenue, repeat_purchases::bigint, repeat_revenue
         from private.analytics_lead_totals where user_account_id = ${account.accountId}
         except
         select creative_id, direction_id, sum(leads), sum(qualified_leads), sum(converted_leads), sum(paid_sales),
           sum(revenue), sum(repeat_purchases), sum(repeat_revenue)
         from private.analytics_lead_daily where user_account_id = ${account.accountId} group by 1, 2)) d`;
    report.push(
      `\nRollup vs from-scratch aggregate after all writes: ${diff} differing daily rows, ` +
        `${totals_diff} totals rows differing from the daily sums.`,
    );
    report.push(await checkStageRollups(sql, account.accountId));
  } finally {
    await member.end();
    await sql.end();
  }
  if (args.keep) {
    log(`kept the bench database (${withDatabase(ADMIN_URL, "contrib_regression")}); rerun with --reuse`);
  } else {
    await dropBenchDatabase(ADMIN_URL);
  }
  console.log(
    `\nAnalytics benchmark — ${LEADS.toLocaleString("en")} leads per account, ${ACCOUNTS} account(s), ` +
      `${((performance.now() - started) / 1000).toFixed(0)} s\n`,
  );
  console.log(report.join("\n"));
}

await main();
