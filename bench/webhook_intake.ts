// Webhook intake benchmark: ack latency and throughput of the real amocrm-webhook handler (signature, form parse,
// zod, durable store via private.receive_webhooks — POSTs that arrive together share an insert — and the
// background apply) served with Deno.serve on loopback, next to a bare handler that inserts each raw body with
// its own statement, against the same database in the same run. Prints figures, asserts nothing.
//
//   deno run -A bench/webhook_intake.ts [--duration 10] [--concurrency 16] [--rate 300]
//
// Phases (each ≤ 30 s): closed loops on the bare handler, on the real handler with its background apply kick
// switched off (intake cost alone) and on the real handler as deployed, then an open loop at a fixed rate on
// the real handler (latency measured from each request's scheduled send time, so a stall
// counts against every request it delays). Load comes from a child process (this file with --client) so the
// servers keep their own event loop. DATABASE_URL defaults to the dev database; the bench creates its own user
// account + connection and deletes them (cascading to everything written) at the end.
import { runLoad } from "./lib/load_loop.ts";
import { parseArgs } from "node:util";
import postgres from "postgres";
import { createWebhookHandler } from "../supabase/functions/amocrm-webhook/handler.ts";
import { parseWebhookSecrets } from "../supabase/functions/_shared/webhook/secrets.ts";
import { signWebhookUrl } from "../supabase/functions/_shared/webhook/signature.ts";

const MAX_PHASE_S = 30;

interface ClientPlan {
  url: string;
  mode: "closed" | "open";
  durationS: number;
  concurrency: number;
  rate: number;
  subdomain: string;
  accountId: number;
  /** Lead ids start here so every request carries new events (none deduplicated away). */
  firstLeadId: number;
}

interface ClientResult {
  sent: number;
  ok: number;
  failed: number;
  statuses: Record<string, number>;
  seconds: number;
  latenciesMs: number[];
}

// ---------------------------------------------------------------------------------------------- load client

/** An update_lead body shaped like the captured 2025 ones (account block first, all values strings). */
function leadUpdateBody(plan: ClientPlan, leadId: number, ts: number): string {
  const pairs: [string, string][] = [
    ["account[subdomain]", plan.subdomain],
    ["account[id]", String(plan.accountId)],
    ["account[_links][self]", `https://${plan.subdomain}.amocrm.ru`],
    ["leads[update][0][id]", String(leadId)],
    ["leads[update][0][name]", `Bench deal ${leadId}`],
    ["leads[update][0][status_id]", "17944873"],
    ["leads[update][0][price]", "15000"],
    ["leads[update][0][responsible_user_id]", "2852878"],
    ["leads[update][0][last_modified]", String(ts)],
    ["leads[update][0][modified_user_id]", "0"],
    ["leads[update][0][created_user_id]", "2852878"],
    ["leads[update][0][date_create]", String(ts - 60)],
    ["leads[update][0][pipeline_id]", "936736"],
    ["leads[update][0][account_id]", String(plan.accountId)],
    ["leads[update][0][custom_fields][0][id]", "957901"],
    ["leads[update][0][custom_fields][0][name]", "utm_source"],
    ["leads[update][0][custom_fields][0][values][0][value]", "instagram"],
    ["leads[update][0][created_at]", String(ts - 60)],
    ["leads[update][0][updated_at]", String(ts)],
  ];
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
}

async function runClient(plan: ClientPlan): Promise<ClientResult> {
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let sent = 0;
  let ok = 0;
  const baseTs = Math.floor(Date.now() / 1000);
  const headers = {
    "content-type": "application/x-www-form-urlencoded",
    "user-agent": "amoCRM-WebHook-client/1.0",
  };

  const one = async (scheduledAt: number) => {
    const n = sent++;
    const body = leadUpdateBody(plan, plan.firstLeadId + n, baseTs + n);
    let status = "error";
    try {
      const res = await fetch(plan.url, { method: "POST", body, headers });
      await res.arrayBuffer();
      status = String(res.status);
      if (res.ok) ok++;
    } catch {
      // counted as "error"
    }
    latencies.push(performance.now() - scheduledAt);
    statuses[status] = (statuses[status] ?? 0) + 1;
  };

  const started = await runLoad(plan, one);
  const seconds = (performance.now() - started) / 1000;
  return { sent, ok, failed: sent - ok, statuses, seconds, latenciesMs: latencies };
}

// ------------------------------------------------------------------------------------------------- servers

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summarize(label: string, r: ClientResult) {
  const sorted = [...r.latenciesMs].sort((a, b) => a - b);
  const figures = {
    rps: r.ok / r.seconds,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN,
  };
  const statuses = Object.entries(r.statuses).map(([s, n]) => `${s}×${n}`).join(" ");
  console.log(
    `${label.padEnd(34)} ${figures.rps.toFixed(0).padStart(6)} req/s  p50 ${
      figures.p50.toFixed(2).padStart(7)
    } ms  ` +
      `p90 ${figures.p90.toFixed(2).padStart(7)} ms  p99 ${figures.p99.toFixed(2).padStart(7)} ms  ` +
      `max ${figures.max.toFixed(1).padStart(7)} ms  [${statuses}]`,
  );
  return figures;
}

async function spawnClient(plan: ClientPlan): Promise<ClientResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--client", JSON.stringify(plan)],
    stdout: "piped",
    stderr: "inherit",
  });
  const { code, stdout } = await child.output();
  if (code !== 0) throw new Error(`load client exited with ${code}`);
  const lines = new TextDecoder().decode(stdout).trim().split("\n");
  return JSON.parse(lines.at(-1)!);
}

async function main() {
  const { values } = parseArgs({
    options: {
      duration: { type: "string", default: "10" },
      concurrency: { type: "string", default: "16" },
      rate: { type: "string", default: "300" },
    },
  });
  const durationS = Math.min(MAX_PHASE_S, Math.max(1, Number(values.duration)));
  const concurrency = Math.max(1, Number(values.concurrency));
  const rate = Math.max(1, Number(values.rate));
  const dbUrl = Deno.env.get("DATABASE_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";

  const setupSql = postgres(dbUrl, { prepare: false, max: 2, onnotice: () => {} });
  // The same pools as supabase/functions/amocrm-webhook/runtime.ts: 6 for intake, 1 for the background apply.
  const realSql = postgres(dbUrl, { prepare: false, max: 6, onnotice: () => {} });
  const applySql = postgres(dbUrl, { prepare: false, max: 1, onnotice: () => {} });
  const bareSql = postgres(dbUrl, { prepare: false, max: 6, onnotice: () => {} });

  const suffix = crypto.randomUUID().slice(0, 8);
  const accountId = 800_000_000 + Math.floor(Math.random() * 99_000_000);
  const subdomain = `bench${suffix}`;
  const [{ id: userAccountId }] = await setupSql<{ id: string }[]>`
    insert into public.user_accounts (name) values (${`webhook bench ${suffix}`}) returning id`;
  await setupSql`insert into amocrm.connections (user_account_id, subdomain, amocrm_account_id, state)
                 values (${userAccountId}, ${subdomain}, ${accountId}, 'active')`;

  const secrets = parseWebhookSecrets("v1:bench-secret");
  const outcomes: Record<string, number> = {};
  const background = new Set<Promise<unknown>>();
  let kicksDropped = 0;
  let eventsSwept = 0;
  // Per phase: POSTs stored, and how many POSTs shared their insert (summed per POST).
  let phaseStored = 0;
  let phaseBatchSum = 0;
  const realHandlerWith = (applyConcurrency: number) =>
    createWebhookHandler({
      sql: realSql,
      applySql,
      applyConcurrency,
      secrets,
      // Counted rather than printed: thousands of stdout lines per second would measure the terminal.
      log: (entry) => {
        const key = String(entry.outcome ?? entry.event);
        outcomes[key] = (outcomes[key] ?? 0) + 1;
        kicksDropped += Number(entry.apply_kicks_dropped ?? 0);
        if (entry.event === "apply_swept") eventsSwept += Number(entry.events ?? 0);
        if (entry.outcome === "stored") {
          phaseStored++;
          phaseBatchSum += Number(entry.batch ?? 1);
        }
      },
      waitUntil: (p) => {
        background.add(p);
        p.finally(() => background.delete(p));
      },
    });
  const realHandler = realHandlerWith(1);
  // Intake alone (no background apply): what an ack costs next to the bare insert.
  const intakeOnlyHandler = realHandlerWith(0);
  const bareHandler = async (req: Request) => {
    const raw = await req.text();
    await bareSql`insert into amocrm.webhook_inbox (user_account_id, content_type, raw_body)
                  values (${userAccountId}::uuid, ${req.headers.get("content-type")}, ${raw})`;
    return Response.json({ ok: true });
  };

  const quiet = { hostname: "127.0.0.1", port: 0, onListen: () => {} };
  const realServer = Deno.serve(quiet, realHandler);
  const bareServer = Deno.serve(quiet, bareHandler);
  const intakeServer = Deno.serve(quiet, intakeOnlyHandler);
  const realUrl = signWebhookUrl(
    `http://127.0.0.1:${realServer.addr.port}/amocrm-webhook`,
    userAccountId,
    secrets,
  );
  const bareUrl = `http://127.0.0.1:${bareServer.addr.port}/bare`;
  const intakeUrl = signWebhookUrl(
    `http://127.0.0.1:${intakeServer.addr.port}/amocrm-webhook`,
    userAccountId,
    secrets,
  );

  let nextLeadId = 1;
  const plan = (url: string, mode: "closed" | "open", seconds: number): ClientPlan => {
    const p = {
      url,
      mode,
      durationS: seconds,
      concurrency,
      rate,
      subdomain,
      accountId,
      firstLeadId: nextLeadId,
    };
    nextLeadId += 10_000_000;
    return p;
  };

  try {
    const [{ apply }] = await setupSql<{ apply: boolean }[]>`
      select to_regprocedure('private.apply_webhook_events(bigint)') is not null as apply`;
    console.log(
      `webhook intake bench — ${durationS} s per phase, closed loop ${concurrency} connections, ` +
        `open loop ${rate} req/s, loopback, DB ${new URL(dbUrl).host}`,
    );
    console.log(
      `background apply (private.apply_webhook_events): ${apply ? "present" : "absent"}; ` +
        "one statement at a time (≤ 50 inbox rows), backlog ≤ 500 kicks, overflow swept once it drains",
    );
    console.log(
      `body: one update_lead entity (~${
        leadUpdateBody(plan("", "closed", 1), 1, 1).length
      } bytes), new id each request\n`,
    );

    await spawnClient(plan(realUrl, "closed", 1)); // warm-up: JIT, connection pools
    await spawnClient(plan(bareUrl, "closed", 1));
    await spawnClient(plan(intakeUrl, "closed", 1));
    await Promise.all(background);
    await retryOnDeadlock(() =>
      setupSql`delete from amocrm.webhook_inbox where user_account_id = ${userAccountId}`
    );

    const ratio = (label: string, a: { rps: number; p50: number; p99: number }, b: typeof a) =>
      console.log(
        `${label.padEnd(34)} throughput ×${(a.rps / b.rps).toFixed(2)}, ` +
          `p50 ×${(a.p50 / b.p50).toFixed(2)}, p99 ×${(a.p99 / b.p99).toFixed(2)}`,
      );
    // Each phase starts from empty bench rows: no leftover pending events for the per-minute cron backstop
    // to apply in the middle of the next phase.
    const phase = async (label: string, p: ClientPlan) => {
      phaseStored = phaseBatchSum = 0;
      const figures = summarize(label, await spawnClient(p));
      await Promise.all(background);
      const [{ inbox, pending }] = await setupSql<{ inbox: number; pending: number }[]>`
        select (select count(*)::int from amocrm.webhook_inbox where user_account_id = ${userAccountId}) as inbox,
               (select count(*)::int from amocrm.webhook_inbox
                 where user_account_id = ${userAccountId} and state = 'received') as pending`;
      const sharing = phaseStored > 0 && label.startsWith("real")
        ? `; a POST shared its insert with ${(phaseBatchSum / phaseStored - 1).toFixed(1)} others on average`
        : "";
      console.log(`${"".padEnd(34)} ${inbox} inbox rows, ${pending} left unapplied (for cron)${sharing}`);
      await retryOnDeadlock(() =>
        setupSql`delete from amocrm.webhook_inbox where user_account_id = ${userAccountId}`
      );
      return figures;
    };
    const bare = await phase("bare insert, closed loop", plan(bareUrl, "closed", durationS));
    const intake = await phase("real, no apply kick, closed loop", plan(intakeUrl, "closed", durationS));
    const real = await phase("real handler, closed loop", plan(realUrl, "closed", durationS));
    ratio("real (no apply) / bare", intake, bare);
    ratio("real (with apply) / bare", real, bare);
    await phase(`real handler, open loop ${rate}/s`, plan(realUrl, "open", durationS));
    console.log(
      `\napply kicks dropped (backlog full): ${kicksDropped}; events applied by sweeps: ${eventsSwept}`,
    );
    console.log(`handler outcomes: ${Object.entries(outcomes).map(([k, n]) => `${k}×${n}`).join(" ")}`);
  } finally {
    await realServer.shutdown();
    await bareServer.shutdown();
    await intakeServer.shutdown();
    await Promise.all(background);
    await retryOnDeadlock(() => setupSql`delete from public.user_accounts where id = ${userAccountId}`);
    await Promise.all([setupSql.end(), realSql.end(), applySql.end(), bareSql.end()]);
  }
}

if (Deno.args[0] === "--client") {
  console.log(JSON.stringify(await runClient(JSON.parse(Deno.args[1]))));
} else {
  await main();
}

/** The cron backstop may be applying this account's leftovers: a deadlock with the cascading delete is retried. */
async function retryOnDeadlock(work: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      await work();
      return;
    } catch (error) {
      if (attempt >= 5 || (error as { code?: string }).code !== "40P01") throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}
