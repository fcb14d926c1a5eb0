// Apply cost per webhook event, measured inside Postgres: the same POSTs stored (private.receive_webhook) and
// applied (private.apply_webhook_events) as the intake's background step does, timed with clock_timestamp()
// around the apply only. Two workloads: a deal's ordinary life (add, status + update pairs a second apart, a
// price edit) and robot chains (several moves of one deal within one second, one POST per move). Prints
// figures, asserts nothing.
//
//   deno run -A bench/apply_cost.ts [--deals 400] [--rounds 5]
//
// DATABASE_URL defaults to the dev database; the bench creates its own user account and deletes it (cascading
// to everything written) at the end.
import { parseArgs } from "node:util";
import postgres from "postgres";

const { values } = parseArgs({
  options: { deals: { type: "string", default: "400" }, rounds: { type: "string", default: "5" } },
});
const deals = Math.max(1, Number(values.deals));
const rounds = Math.max(1, Number(values.rounds));
const dbUrl = Deno.env.get("DATABASE_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
const sql = postgres(dbUrl, { prepare: false, max: 1, onnotice: () => {} });

/** One webhook lead event as the intake hands it to SQL (every payload value a string). */
function leadEvent(
  action: string,
  id: number,
  ts: number,
  status: number,
  price: number,
  oldStatus?: number,
) {
  const payload: Record<string, string> = {
    id: String(id),
    status_id: String(status),
    pipeline_id: "100",
    price: String(price),
    updated_at: String(ts),
    last_modified: String(ts),
    created_at: String(ts0),
    name: `Deal ${id}`,
  };
  if (oldStatus !== undefined) payload.old_status_id = String(oldStatus);
  return { entity: "lead", action, amocrm_id: id, amocrm_ts: ts, payload };
}

const ts0 = 1_700_000_000;

/** Ordinary life: one POST per event, each move a status event and an update event of the same second. */
function ordinaryLife(firstId: number): unknown[][] {
  const posts: unknown[][] = [];
  for (let d = 0; d < deals; d++) {
    const id = firstId + d;
    const t = ts0 + d * 10;
    posts.push([leadEvent("add", id, t, 10, 0)]);
    let from = 10;
    [20, 30, 40].forEach((to, i) => {
      posts.push([leadEvent("status", id, t + i + 1, to, 0, from)]);
      posts.push([leadEvent("update", id, t + i + 1, to, 0)]);
      from = to;
    });
    posts.push([leadEvent("update", id, t + 5, 40, 5000)]);
  }
  return posts;
}

/** Robot chains: 10→20→30→20→40 within one second, one POST per move, plus the update of that second. */
function robotChains(firstId: number): unknown[][] {
  const posts: unknown[][] = [];
  for (let d = 0; d < deals; d++) {
    const id = firstId + d;
    const t = ts0 + d * 10;
    posts.push([leadEvent("add", id, t, 10, 0)]);
    const chain = [10, 20, 30, 20, 40];
    for (let i = 1; i < chain.length; i++) {
      posts.push([leadEvent("status", id, t + 1, chain[i], 0, chain[i - 1])]);
    }
    posts.push([leadEvent("update", id, t + 1, 40, 0)]);
  }
  return posts;
}

async function measure(account: string, posts: unknown[][]): Promise<number> {
  const events = posts.reduce((n, p) => n + p.length, 0);
  const [{ ms }] = await sql<{ ms: number }[]>`
    select private.bench_apply_ms(${account}::uuid, ${sql.json(posts as never)}) as ms`;
  return (ms * 1000) / events;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const [{ id: account }] = await sql<{ id: string }[]>`
  insert into public.user_accounts (name) values ('apply cost bench') returning id`;
try {
  // A temporary helper (this session only): times the apply of the stored POSTs, one after another.
  // Stored and applied in one transaction, so the cron backstop never sees (or takes) the bench's rows.
  await sql.unsafe(`
    create or replace function private.bench_apply_ms(p_account uuid, p_posts jsonb) returns double precision
    language plpgsql as $$
    declare v_ids bigint[]; v_id bigint; v_t0 timestamptz;
    begin
      select array_agg(r.inbox_id order by p.ordinality) into v_ids
      from jsonb_array_elements(p_posts) with ordinality p
      cross join lateral private.receive_webhook(p_account, 'application/x-www-form-urlencoded', 'bench', p.value) r;
      v_t0 := clock_timestamp();
      foreach v_id in array v_ids loop perform private.apply_webhook_events(v_id); end loop;
      return extract(epoch from clock_timestamp() - v_t0) * 1000;
    end $$;`);
  await sql`
    insert into public.amocrm_pipeline_stages
      (user_account_id, pipeline_id, pipeline_name, status_id, status_name, sort_order, is_qualified_stage)
    select ${account}::uuid, 100, 'Sales', s, 'Stage ' || s, s, s = 30
    from unnest(array[10, 20, 30, 40]) s
    union all select ${account}::uuid, 100, 'Sales', 142, 'Won', 10000, false
    union all select ${account}::uuid, 100, 'Sales', 143, 'Lost', 11000, false`;
  const results: Record<string, number[]> = { "ordinary life": [], "robot chains (5 moves/s)": [] };
  for (let r = 0; r < rounds; r++) {
    const base = 10_000_000 + r * deals * 2;
    results["ordinary life"].push(await measure(account, ordinaryLife(base)));
    results["robot chains (5 moves/s)"].push(await measure(account, robotChains(base + deals)));
  }
  console.log(
    `apply cost per event — ${deals} deals per workload, ${rounds} rounds, DB ${new URL(dbUrl).host}`,
  );
  for (const [name, xs] of Object.entries(results)) {
    console.log(
      `${name.padEnd(28)} median ${median(xs).toFixed(1).padStart(7)} µs/event   ` +
        `(rounds: ${xs.map((x) => x.toFixed(0)).join(", ")})`,
    );
  }
} finally {
  await sql`drop function if exists private.bench_apply_ms(uuid, jsonb)`;
  await sql`delete from public.user_accounts where id = ${account}`;
  await sql.end();
}
