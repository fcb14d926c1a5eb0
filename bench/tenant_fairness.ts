// Tenant fairness benchmark: how much one noisy account slows another account's webhooks, with the real
// amocrm-webhook handler wired as deployed (intake pool of 6, one background apply connection) and served with
// Deno.serve on loopback. Prints figures, asserts nothing.
//
//   deno run -A bench/tenant_fairness.ts [--duration 10] [--rate 20] [--rounds 5] [--phases ack,apply]
//
// 1. Ack: tenant B sends one small update_lead every 1/rate s (open loop, latency from the scheduled send time)
//    — alone (idle), then while tenant A keeps 4 bodies of about 1 MiB in flight: 100,000 junk keys (stored
//    quarantined), then 4,000 lead updates (stored; what A left unapplied is dropped between phases).
// 2. Apply delay: tenant B's single event, sent right after A's 5,000-event body was acked: the time from B's
//    POST until its event is applied — alone (idle), then behind A's body; `rounds` times each.
// Load comes from child processes (this file with --client) so the server keeps its own event loop.
// DATABASE_URL defaults to the dev database; the bench creates its own two user accounts + connections and
// deletes them (cascading to everything written) at the end.
import { runLoad } from "./lib/load_loop.ts";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { createWebhookHandler } from "../supabase/functions/amocrm-webhook/handler.ts";
import { parseWebhookSecrets } from "../supabase/functions/_shared/webhook/secrets.ts";
import { signWebhookUrl } from "../supabase/functions/_shared/webhook/signature.ts";

const FORM = "application/x-www-form-urlencoded";
const MIB = 1024 * 1024;

interface Tenant {
  userAccountId: string;
  subdomain: string;
  accountId: number;
  url: string;
}

type Body = "small" | "junk" | "leads";

interface ClientPlan {
  tenant: Tenant;
  body: Body;
  /** open: one request every 1/rate s; closed: `concurrency` requests in flight. */
  mode: "open" | "closed";
  rate: number;
  concurrency: number;
  durationS: number;
  firstLeadId: number;
}

interface ClientResult {
  statuses: Record<string, number>;
  latenciesMs: number[];
  bytes: number;
}

// ------------------------------------------------------------------------------------------------- bodies

const pair = (key: string, value: string) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`;
const accountBlock = (t: Tenant) =>
  [pair("account[subdomain]", t.subdomain), pair("account[id]", String(t.accountId))].join("&");

function smallBody(t: Tenant, leadId: number, ts: number): string {
  return [
    accountBlock(t),
    pair("leads[update][0][id]", String(leadId)),
    pair("leads[update][0][name]", `Deal ${leadId}`),
    pair("leads[update][0][status_id]", "17944873"),
    pair("leads[update][0][pipeline_id]", "936736"),
    pair("leads[update][0][price]", "15000"),
    pair("leads[update][0][updated_at]", String(ts)),
  ].join("&");
}

/** About 0.9 MiB of 100,000 short keys that are no amoCRM group: parsed, then stored as quarantined. */
function junkBody(t: Tenant): string {
  const keys = Array.from({ length: 100_000 }, (_, i) => `k${i}=v${i % 10}`);
  return `${accountBlock(t)}&${keys.join("&")}`;
}

/** `count` lead events in one body, brackets unencoded (PHP's parse_str reads both) to fit 5,000 in 1 MiB. */
function leadsBody(
  t: Tenant,
  action: "update" | "status",
  firstId: number,
  count: number,
  ts: number,
): string {
  const parts = [accountBlock(t)];
  for (let i = 0; i < count; i++) {
    const p = `leads[${action}][${i}]`;
    parts.push(
      `${p}[id]=${firstId + i}&${p}[status_id]=30&${p}[pipeline_id]=936736&${p}[updated_at]=${ts}` +
        (action === "update"
          ? `&${p}[name]=Deal+${firstId + i}&${p}[price]=1500`
          : `&${p}[old_status_id]=20`),
    );
  }
  return parts.join("&");
}

// ---------------------------------------------------------------------------------------------- load client

async function runClient(plan: ClientPlan): Promise<ClientResult> {
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let sent = 0;
  let bytes = 0;
  const ts = Math.floor(Date.now() / 1000);
  const junk = plan.body === "junk" ? junkBody(plan.tenant) : "";
  const bodyFor = (n: number) =>
    plan.body === "small"
      ? smallBody(plan.tenant, plan.firstLeadId + n, ts)
      : plan.body === "junk"
      ? junk
      : leadsBody(plan.tenant, "update", plan.firstLeadId + n * 10_000, 4_000, ts);
  const one = async (scheduledAt: number) => {
    const body = bodyFor(sent++);
    bytes = Math.max(bytes, body.length);
    let status = "error";
    try {
      const res = await fetch(plan.tenant.url, { method: "POST", body, headers: { "content-type": FORM } });
      await res.arrayBuffer();
      status = String(res.status);
    } catch {
      // counted as "error"
    }
    latencies.push(performance.now() - scheduledAt);
    statuses[status] = (statuses[status] ?? 0) + 1;
  };
  await runLoad(plan, one);
  return { statuses, latenciesMs: latencies, bytes };
}

function spawnClient(plan: ClientPlan): Promise<ClientResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--client", JSON.stringify(plan)],
    stdout: "piped",
    stderr: "inherit",
  });
  return child.output().then(({ code, stdout }) => {
    if (code !== 0) throw new Error(`load client exited with ${code}`);
    return JSON.parse(new TextDecoder().decode(stdout).trim().split("\n").at(-1)!);
  });
}

// ------------------------------------------------------------------------------------------------- figures

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const f1 = (ms: number) => `${ms.toFixed(1)} ms`;
const statusLine = (r: ClientResult) => Object.entries(r.statuses).map(([s, n]) => `${s}×${n}`).join(" ");

async function main() {
  const { values } = parseArgs({
    options: {
      duration: { type: "string", default: "10" },
      rate: { type: "string", default: "20" },
      rounds: { type: "string", default: "5" },
      phases: { type: "string", default: "ack,apply" },
    },
  });
  const durationS = Math.min(30, Math.max(2, Number(values.duration)));
  const rate = Math.max(1, Number(values.rate));
  const rounds = Math.max(1, Number(values.rounds));
  const dbUrl = Deno.env.get("DATABASE_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";

  const setupSql = postgres(dbUrl, { prepare: false, max: 2, onnotice: () => {} });
  // The same pools as supabase/functions/amocrm-webhook/runtime.ts: 6 for intake, 1 for the background apply.
  const sql = postgres(dbUrl, { prepare: false, max: 6, onnotice: () => {} });
  const applySql = postgres(dbUrl, { prepare: false, max: 1, onnotice: () => {} });
  const secrets = parseWebhookSecrets("v1:fairness-bench");
  const background = new Set<Promise<unknown>>();
  let victimId = "";
  let victimStoreMs: number[] = [];
  const handler = createWebhookHandler({
    sql,
    applySql,
    applyConcurrency: 1,
    secrets,
    // Counted rather than printed, except what went wrong in the background.
    log: (entry) => {
      if (entry.user_account_id === victimId && typeof entry.store_ms === "number") {
        victimStoreMs.push(entry.store_ms);
      }
      // (23503: the bench itself dropped the row between phases.)
      if (entry.event === "apply_failed" && entry.sqlstate !== "23503") console.error(JSON.stringify(entry));
    },
    waitUntil: (p) => {
      background.add(p);
      p.finally(() => background.delete(p));
    },
  });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  const endpoint = `http://127.0.0.1:${server.addr.port}/amocrm-webhook`;

  const tenants: Tenant[] = [];
  const tenant = async (label: string): Promise<Tenant> => {
    const suffix = crypto.randomUUID().slice(0, 8);
    const accountId = 700_000_000 + Math.floor(Math.random() * 99_000_000);
    const [{ id }] = await setupSql<{ id: string }[]>`
      insert into public.user_accounts (name) values (${`fairness bench ${label} ${suffix}`}) returning id`;
    await setupSql`insert into amocrm.connections (user_account_id, subdomain, amocrm_account_id, state)
                   values (${id}, ${`fair${label}${suffix}`}, ${accountId}, 'active')`;
    const t = {
      userAccountId: id,
      subdomain: `fair${label}${suffix}`,
      accountId,
      url: signWebhookUrl(endpoint, id, secrets),
    };
    tenants.push(t);
    return t;
  };

  try {
    const noisy = await tenant("a");
    const victim = await tenant("b");
    victimId = victim.userAccountId;
    let nextLead = 1;
    const plan = (t: Tenant, body: Body, mode: "open" | "closed", seconds: number): ClientPlan => {
      const p = { tenant: t, body, mode, rate, concurrency: 4, durationS: seconds, firstLeadId: nextLead };
      nextLead += 100_000_000;
      return p;
    };
    // Between phases: what A left waiting is dropped (its kicks then find nothing), the rest applied.
    const settle = async () => {
      for (let attempt = 1;; attempt++) {
        try {
          await setupSql`delete from amocrm.webhook_inbox where user_account_id = ${noisy.userAccountId}
                          and state = 'received'`;
          break;
        } catch (error) {
          if (attempt >= 5 || (error as { code?: string }).code !== "40P01") throw error;
        }
      }
      await Promise.all(background);
      await setupSql`select private.apply_pending_webhook_events(interval '60 seconds')`;
    };
    console.log(
      `tenant fairness bench — loopback, DB ${new URL(dbUrl).host}; intake pool 6, one apply connection\n`,
    );

    // ---- 1. ack latency of tenant B
    if (values.phases.includes("ack")) {
      await spawnClient(plan(victim, "small", "open", 1)); // warm-up
      await spawnClient(plan(noisy, "junk", "closed", 2));
      await settle();
      const ack = async (label: string, noise: Body | null) => {
        victimStoreMs = [];
        const probe = spawnClient(plan(victim, "small", "open", durationS));
        const load = noise ? spawnClient(plan(noisy, noise, "closed", durationS)) : null;
        const [b, a] = await Promise.all([probe, load]);
        const figures = { p50: percentile(b.latenciesMs, 50), p99: percentile(b.latenciesMs, 99) };
        const loadLine = a
          ? `; A: ${(a.bytes / MIB).toFixed(2)} MiB bodies, ack p50 ${f1(percentile(a.latenciesMs, 50))} [${
            statusLine(a)
          }]`
          : "";
        console.log(
          `${label.padEnd(44)} B ack p50 ${f1(figures.p50).padStart(9)}  p99 ${
            f1(figures.p99).padStart(9)
          }  ` +
            `max ${f1(Math.max(...b.latenciesMs)).padStart(9)} (store p99 ${
              f1(percentile(victimStoreMs, 99))
            }) ` +
            `[${statusLine(b)}]${loadLine}`,
        );
        await settle();
        return figures;
      };
      console.log(
        `1. ack latency: tenant B sends one update_lead every ${
          (1000 / rate).toFixed(0)
        } ms for ${durationS} s`,
      );
      const idle = await ack("idle", null);
      const junk = await ack("A keeps 4 junk bodies (100k keys) in flight", "junk");
      const leads = await ack("A keeps 4 bodies of 4,000 leads in flight", "leads");
      for (const [label, loaded] of [["junk", junk], ["leads", leads]] as const) {
        console.log(
          `   B's ack p99 with A's ${label} bodies: ${f1(loaded.p99)} = ×${
            (loaded.p99 / idle.p99).toFixed(1)
          } idle`,
        );
      }
    }

    // ---- 2. apply delay of tenant B's single event
    if (values.phases.includes("apply")) {
      console.log(
        `\n2. apply delay: tenant B's one event, POSTed right after A's 5,000-event body was acked`,
      );
      const post = async (t: Tenant, body: string) => {
        const res = await fetch(t.url, { method: "POST", body, headers: { "content-type": FORM } });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`POST answered ${res.status}`);
      };
      const appliedAt = async (t: Tenant, leadId: number, since: number): Promise<number> => {
        for (;;) {
          const rows = await setupSql`
          select 1 from amocrm.webhook_events
           where user_account_id = ${t.userAccountId} and amocrm_id = ${leadId} and state <> 'pending'`;
          if (rows.length > 0) return performance.now() - since;
          if (performance.now() - since > 300_000) throw new Error("event not applied within 300 s");
          await new Promise((r) => setTimeout(r, 2));
        }
      };
      const ts = Math.floor(Date.now() / 1000);
      const delays = { idle: [] as number[], loaded: [] as number[], noisy: [] as number[] };
      for (let round = 0; round < rounds; round++) {
        const victimLead = 900_000_000 + round * 2;
        let started = performance.now();
        await post(victim, smallBody(victim, victimLead, ts));
        delays.idle.push(await appliedAt(victim, victimLead, started));
        await settle();

        const noisyFirst = 500_000_000 + round * 10_000;
        const noisyBody = leadsBody(noisy, "status", noisyFirst, 5_000, ts);
        const noisyStarted = performance.now();
        await post(noisy, noisyBody);
        started = performance.now();
        await post(victim, smallBody(victim, victimLead + 1, ts));
        delays.loaded.push(await appliedAt(victim, victimLead + 1, started));
        delays.noisy.push(await appliedAt(noisy, noisyFirst + 4_999, noisyStarted));
        await settle();
      }
      const med = (xs: number[]) => percentile(xs, 50);
      console.log(
        `   idle: median ${f1(med(delays.idle))}, max ${f1(Math.max(...delays.idle))} (${rounds} rounds)\n` +
          `   behind A's 5,000 events (${
            (leadsBody(noisy, "status", 1, 5_000, ts).length / MIB).toFixed(2)
          } MiB): ` +
          `median ${f1(med(delays.loaded))}, max ${f1(Math.max(...delays.loaded))} ` +
          `= ×${(med(delays.loaded) / med(delays.idle)).toFixed(1)} idle; ` +
          `A's whole body applied in ${f1(med(delays.noisy))} (median)`,
      );
    }
  } finally {
    await server.shutdown();
    await Promise.all(background);
    for (const t of tenants) {
      await setupSql`delete from public.user_accounts where id = ${t.userAccountId}`.catch(() => {});
    }
    await Promise.all([setupSql.end(), sql.end(), applySql.end()]);
  }
}

if (Deno.args[0] === "--client") {
  console.log(JSON.stringify(await runClient(JSON.parse(Deno.args[1]))));
} else {
  await main();
}
