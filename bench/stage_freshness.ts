// Freshness benchmark: how long after the webhook's 200 a stage move is visible in every tile that shows it,
// read as a member through RLS exactly as PostgREST reads (role authenticated + request.jwt.claims, one
// transaction per call). Target (issue 16): p95 ≤ 1 s. Prints figures; never asserts.
//
//   deno run -A bench/stage_freshness.ts [--moves 200] [--rate 5] [--leads 320] [--pipelines 8] [--poll-ms 20]
//                                        [--timeout-ms 10000] [--seed 16] [--keep]
//                                        [--concurrent-load] [--load-rate 500] [--load-events 250]
//                                        [--load-senders 1]
//
// Against a running stack: DATABASE_URL (default the dev database of `npm start`) and FUNCTIONS_URL (default
// its functions host); the test stack of `npm test -- --keep` works too (its ports, AMO_ROI_PORT_OFFSET). The
// bench creates a connected user account with a stage catalog of `--pipelines` pipelines (one creative each),
// `--leads` product leads linked to amoCRM deals by add_lead webhooks, and a member; deletes it at the end
// (unless --keep). Then it POSTs `--moves` status_lead webhooks (the captured layout, account block first) to
// the amocrm-webhook function at `--rate` per second, each moving one deal to another open stage, and polls
// every stage tile — public.stage_funnel, public.stage_durations, public.creative_funnel (all time and 30
// days), public.funnel_daily — every `--poll-ms` until it shows the move, comparing with a model of the
// account kept client-side (bench/lib/stage_model.ts). Only public RPCs are read, so the figures stay valid
// whatever the tiles compute from (history scans, or rollups folded in the background).
//
// One move at a time per pipeline (pipelines are separate rows in every tile, creatives separate rows in the
// funnels): concurrent moves never make a tile ambiguous. When every pipeline still waits for its last move,
// the next send waits too; the report counts those and prints the rate reached. A move not shown within
// --timeout-ms counts as that long and frees its pipeline (the next move's expected state includes it).
// --concurrent-load: meanwhile another account POSTs `--load-rate` update_lead events per second in bodies of
// `--load-events` (new deals every time), so the moves share the intake and the apply with bulk traffic;
// `--load-rate 0` keeps `--load-senders` such POSTs in flight instead (as fast as the intake answers). The
// report says how many of the load's POSTs still wait for the apply at the end (a load the apply cannot keep
// up with: an account's inbox state, read with the setup connection, never by the tiles' check).
import postgres from "postgres";
import { parseArgs } from "node:util";
import { runLoad } from "./lib/load_loop.ts";
import { startBulkLoad } from "./lib/bulk_load.ts";
import {
  type ChangeRecord,
  formBody,
  leadEntity,
  postWebhook,
  signedUrlAccepting,
  type WebhookAccount,
} from "./lib/lead_webhooks.ts";
import { ms, summarize, table } from "./lib/stats.ts";
import {
  durationDifference,
  type DurationRow,
  funnelDifference,
  type FunnelRow,
  leadCountDifference,
  type LeadCountRow,
  PipelineModel,
  type StageDef,
} from "./lib/stage_model.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    moves: { type: "string", default: "200" },
    rate: { type: "string", default: "5" },
    leads: { type: "string", default: "320" },
    pipelines: { type: "string", default: "8" },
    "poll-ms": { type: "string", default: "20" },
    "timeout-ms": { type: "string", default: "10000" },
    seed: { type: "string", default: "16" },
    "concurrent-load": { type: "boolean", default: false },
    "load-rate": { type: "string", default: "500" },
    "load-senders": { type: "string", default: "1" },
    "load-events": { type: "string", default: "250" },
    keep: { type: "boolean", default: false },
  },
});
const MOVES = Math.max(1, Number(args.moves));
const RATE = Math.max(0.1, Number(args.rate));
const PIPELINES = Math.max(1, Number(args.pipelines));
const LEADS = Math.max(PIPELINES, Number(args.leads));
const POLL_MS = Math.max(1, Number(args["poll-ms"]));
const TIMEOUT_MS = Number(args["timeout-ms"]);
const BUDGET_MS = 1000;
const DB_URL = Deno.env.get("DATABASE_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
const FUNCTIONS_URL = (Deno.env.get("FUNCTIONS_URL") ?? "http://127.0.0.1:54321/functions/v1").replace(
  /\/$/,
  "",
);

const t0 = performance.now();
const log = (msg: string) =>
  console.error(`[freshness ${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${msg}`);

type Sql = postgres.Sql;

// Deterministic choices (mulberry32), so a run can be repeated.
let seed = Number(args.seed) >>> 0;
function random(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
const NOW_S = Math.floor(Date.now() / 1000);
const describeLoad = () =>
  Number(args["load-rate"]) > 0
    ? `${args["load-rate"]} update_lead events/s in POSTs of ${args["load-events"]}`
    : `${args["load-senders"]} closed-loop senders, POSTs of ${args["load-events"]} update_lead events`;
const sleep = (msDelay: number) => new Promise((r) => setTimeout(r, msDelay));

// ------------------------------------------------------------------------------------------ account and bodies

/** Open stages 1..5 (the third flagged qualified), then won and lost, as a synced amoCRM pipeline has them. */
function stagesOf(pipeline: number): StageDef[] {
  const open = ["New", "Contacted", "Meeting", "Proposal", "Contract"].map((name, i) => ({
    statusId: pipeline * 100 + i + 1,
    name,
    sort: (i + 1) * 10,
    qualified: i === 2,
  }));
  return [...open, { statusId: 142, name: "Won", sort: 10000, qualified: false }, {
    statusId: 143,
    name: "Lost",
    sort: 11000,
    qualified: false,
  }];
}
const openStages = (model: PipelineModel) =>
  model.stages.filter((s) => s.statusId !== 142 && s.statusId !== 143);

interface BenchAccount {
  userAccountId: string;
  memberId: string;
  webhook: WebhookAccount;
  url: string;
  models: PipelineModel[];
  /** amoCRM deal id → its pipeline's model. */
  pipelineOf: Map<number, PipelineModel>;
}

async function insertAccount(sql: Sql, label: string): Promise<{ id: string; webhook: WebhookAccount }> {
  const suffix = crypto.randomUUID().slice(0, 8);
  const subdomain = `fresh${suffix}`;
  const amocrmId = 600_000_000 + Math.floor(Math.random() * 99_000_000);
  const [{ id }] = await sql<{ id: string }[]>`
    insert into public.user_accounts (name) values (${`${label} ${suffix}`}) returning id`;
  // Connected the way amocrm-connect leaves it, minus the tokens: the bench never calls amoCRM's API.
  await sql`
    insert into amocrm.connections (user_account_id, subdomain, amocrm_account_id, state, account_currency,
      account_timezone)
    values (${id}, ${subdomain}, ${amocrmId}, 'active', 'RUB', 'Europe/Moscow')`;
  return { id, webhook: { subdomain, id: amocrmId, selfUrl: `https://${subdomain}.amocrm.ru` } };
}

async function createBenchAccount(sql: Sql): Promise<BenchAccount> {
  const { id: userAccountId, webhook } = await insertAccount(sql, "stage freshness bench");
  const [{ id: memberId }] = await sql<{ id: string }[]>`
    insert into auth.users (email) values (${`${crypto.randomUUID()}@bench.local`}) returning id`;
  await sql`insert into public.user_account_members (user_account_id, user_id) values (${userAccountId}, ${memberId})`;
  const [{ id: directionId }] = await sql<{ id: string }[]>`
    insert into public.directions (user_account_id, name) values (${userAccountId}, 'Freshness') returning id`;

  const models: PipelineModel[] = [];
  for (let p = 1; p <= PIPELINES; p++) {
    const pipelineId = 7000 + p;
    const [{ id: creativeId }] = await sql<{ id: string }[]>`
      insert into public.creatives (user_account_id, direction_id, name)
      values (${userAccountId}, ${directionId}, ${`Creative of pipeline ${p}`}) returning id`;
    const stages = stagesOf(pipelineId);
    for (const s of stages) {
      await sql`
        insert into public.amocrm_pipeline_stages (user_account_id, pipeline_id, pipeline_name, status_id,
          status_name, sort_order, status_type, is_qualified_stage)
        values (${userAccountId}, ${pipelineId}, ${`Pipeline ${p}`}, ${s.statusId}, ${s.name}, ${s.sort}, 0,
          ${s.qualified})`;
    }
    models.push(new PipelineModel(pipelineId, creativeId, stages));
  }

  // Product leads sent to amoCRM two hours ago, each with its deal id; the deals appear by add_lead webhooks
  // in the first two stages, 50 per POST.
  const now = Math.floor(Date.now() / 1000);
  const created = now - 7200;
  const firstDeal = 40_000_000 + Math.floor(Math.random() * 9_000_000) * 10;
  const pipelineOf = new Map<number, PipelineModel>();
  const adds: ChangeRecord[] = [];
  for (let i = 0; i < LEADS; i++) {
    const model = models[i % PIPELINES];
    const dealId = firstDeal + i;
    const status = openStages(model)[Math.floor(i / PIPELINES) % 2].statusId;
    await sql`
      insert into public.leads (user_account_id, creative_id, direction_id, phone, amocrm_lead_id, created_at)
      values (${userAccountId}, ${model.creativeId}, ${directionId}, ${`+7902${String(i).padStart(7, "0")}`},
        ${dealId}, to_timestamp(${created}))`;
    model.add(dealId, status);
    pipelineOf.set(dealId, model);
    adds.push({
      group: "leads",
      action: "add",
      entity: leadEntity(webhook, {
        id: dealId,
        status,
        pipeline: model.pipelineId,
        created,
        updated: created + 1,
      }),
    });
  }
  const bodies: string[] = [];
  for (let i = 0; i < adds.length; i += 50) bodies.push(formBody(webhook, adds.slice(i, i + 50)));
  const url = await signedUrlAccepting(FUNCTIONS_URL, userAccountId, bodies[0]);
  for (const body of bodies.slice(1)) {
    const status = await postWebhook(url, body);
    if (status !== 200) throw new Error(`add_lead POST answered ${status}`);
  }
  return { userAccountId, memberId, webhook, url, models, pipelineOf };
}

// ------------------------------------------------------------------------------------------------ the tiles

type Tile = "stage_funnel" | "stage_durations" | "creative_funnel" | "creative_funnel_30d" | "funnel_daily";
const TILES: Tile[] = [
  "stage_funnel",
  "stage_durations",
  "creative_funnel",
  "creative_funnel_30d",
  "funnel_daily",
];

/** Connections of one tile; each call is its own transaction as the member, like a PostgREST request. */
class MemberReader {
  private readonly sql: Sql;
  private readonly claims: string;
  constructor(
    memberId: string,
    private readonly accountId: string,
    private readonly days30: [string, string],
    connections: number,
  ) {
    this.sql = postgres(DB_URL, { max: connections, prepare: false, onnotice: () => {} });
    this.claims = JSON.stringify({ sub: memberId, role: "authenticated", aud: "authenticated" });
  }

  private asMember<T>(query: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
    return this.sql.begin(async (tx) => {
      await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${this.claims}, true)`;
      return await query(tx);
    }) as Promise<T>;
  }

  /** The rows of a tile that concern one pipeline's model (the whole answer for the account-wide tiles). */
  read(tile: Tile, model?: PipelineModel): Promise<readonly unknown[]> {
    const a = this.accountId;
    switch (tile) {
      case "stage_funnel":
        return this.asMember((tx) => tx`select * from public.stage_funnel(${a}::uuid)`);
      case "stage_durations":
        return this.asMember((tx) => tx`select * from public.stage_durations(${a}::uuid)`);
      case "creative_funnel":
        return this.asMember((tx) => tx`select * from public.creative_funnel(${a}::uuid)`);
      case "creative_funnel_30d":
        return this.asMember((tx) =>
          tx`select * from public.creative_funnel(${a}::uuid, ${this.days30[0]}::date, ${
            this.days30[1]
          }::date)`
        );
      case "funnel_daily":
        return this.asMember((tx) =>
          tx`select * from public.funnel_daily(${a}::uuid, null, null, null, ${model!.creativeId}::uuid)`
        );
    }
  }

  end(): Promise<void> {
    return this.sql.end();
  }
}

/** "" when the tile's rows show the pipeline's model. */
function difference(tile: Tile, model: PipelineModel, rows: readonly unknown[]): string {
  switch (tile) {
    case "stage_funnel":
      return funnelDifference(model, rows as readonly FunnelRow[]);
    case "stage_durations":
      return durationDifference(model, rows as readonly DurationRow[]);
    case "creative_funnel":
    case "creative_funnel_30d":
      return leadCountDifference(
        model,
        (rows as readonly (LeadCountRow & { creative_id: string })[]).filter((r) =>
          r.creative_id === model.creativeId
        ),
      );
    case "funnel_daily":
      return leadCountDifference(model, rows as readonly LeadCountRow[]);
  }
}

/** Whether a move changes what the tile shows: the stage tiles always, the lead funnels when it qualifies. */
const changes = (tile: Tile, move: Move) =>
  tile === "stage_funnel" || tile === "stage_durations" || move.qualifies;

/** Tiles that answer for every pipeline at once are read once per poll; funnel_daily once per creative. */
const perPipeline = (tile: Tile) => tile === "funnel_daily";

// ------------------------------------------------------------------------------------------------- the moves

interface Move {
  index: number;
  model: PipelineModel;
  dealId: number;
  from: number;
  to: number;
  qualifies: boolean;
  sentAt: number;
  ackAt?: number;
  shown: Partial<Record<Tile, number>>;
  lastDifference: Partial<Record<Tile, string>>;
  done: () => void;
}

interface Outcome {
  move: Move;
  delayMs: number;
  perTileMs: Record<Tile, number>;
}

async function main() {
  const setupSql = postgres(DB_URL, { max: 2, prepare: false, onnotice: () => {} });
  const command = `deno run -A bench/stage_freshness.ts ${Deno.args.join(" ")}`.trim();
  log(`DB ${new URL(DB_URL).host}, functions ${FUNCTIONS_URL}`);
  const account = await createBenchAccount(setupSql);
  const cleanups: string[] = [account.userAccountId];
  try {
    await measure(setupSql, account, cleanups, command);
  } finally {
    await removeAccounts(setupSql, cleanups, account.memberId);
    await setupSql.end();
  }
}

async function measure(setupSql: Sql, account: BenchAccount, cleanups: string[], command: string) {
  const [{ from30, today }] = await setupSql<{ from30: string; today: string }[]>`
    select ((now() at time zone 'Europe/Moscow')::date - 29)::text as from30,
      (now() at time zone 'Europe/Moscow')::date::text as today`;
  const readers = new Map<Tile, MemberReader>(
    TILES.map((t) => [
      t,
      new MemberReader(
        account.memberId,
        account.userAccountId,
        [from30, today],
        perPipeline(t) ? PIPELINES : 1,
      ),
    ]),
  );

  const pending = new Map<PipelineModel, Move>();
  const readMs = Object.fromEntries(TILES.map((t) => [t, [] as number[]])) as Record<Tile, number[]>;
  const outcomes: Outcome[] = [];
  const failures: Move[] = [];
  let polling = true;
  let stopReason = "";

  const settle = (move: Move) => {
    if (move.ackAt === undefined || TILES.some((t) => move.shown[t] === undefined)) return;
    const perTileMs = Object.fromEntries(
      TILES.map((t) => [t, Math.max(0, move.shown[t]! - move.ackAt!)]),
    ) as Record<Tile, number>;
    outcomes.push({ move, delayMs: Math.max(...Object.values(perTileMs)), perTileMs });
    pending.delete(move.model);
    move.done();
  };

  // Each tile polls on its own connection, at most every POLL_MS, while some move has not shown in it.
  const poller = async (tile: Tile) => {
    const reader = readers.get(tile)!;
    while (polling) {
      const issuedAt = performance.now();
      const waiting = [...pending.values()].filter((m) => m.sentAt < issuedAt && m.shown[tile] === undefined);
      if (waiting.length > 0) {
        const timedRead = async (model?: PipelineModel) => {
          const readStart = performance.now();
          const rows = await reader.read(tile, model);
          readMs[tile].push(performance.now() - readStart);
          return rows;
        };
        // funnel_daily answers for one creative: the waiting pipelines are read at once, one connection each.
        const shared = perPipeline(tile) ? undefined : await timedRead();
        const answers = shared ? [] : await Promise.all(waiting.map((m) => timedRead(m.model)));
        for (const [i, move] of waiting.entries()) {
          const rows = shared ?? answers[i];
          const diff = difference(tile, move.model, rows);
          if (diff === "") {
            move.shown[tile] = performance.now();
            settle(move);
          } else move.lastDifference[tile] = diff;
        }
      }
      const rest = POLL_MS - (performance.now() - issuedAt);
      if (rest > 0) await sleep(rest);
    }
  };

  // Setup is done when every tile shows every pipeline's add webhooks.
  log(`${LEADS} product leads in ${PIPELINES} pipelines posted as add_lead webhooks; waiting for the tiles`);
  const setupDeadline = performance.now() + 120_000;
  for (;;) {
    const diffs: string[] = [];
    for (const model of account.models) {
      for (const tile of TILES) {
        const diff = difference(tile, model, await readers.get(tile)!.read(tile, model));
        if (diff) diffs.push(`${tile} pipeline ${model.pipelineId}: ${diff}`);
      }
    }
    if (diffs.length === 0) break;
    if (performance.now() > setupDeadline) {
      throw new Error(`the tiles never showed the added deals:\n${diffs.slice(0, 10).join("\n")}`);
    }
    await sleep(250);
  }
  log("every tile shows the added deals");

  // Optional bulk traffic from another account.
  let load: ReturnType<typeof startBulkLoad> | undefined;
  let loadAccountId = "";
  if (args["concurrent-load"]) {
    const { id, webhook } = await insertAccount(setupSql, "stage freshness bulk load");
    cleanups.push(id);
    loadAccountId = id;
    const eventsPerPost = Math.max(1, Number(args["load-events"]));
    const probe = formBody(webhook, [{
      group: "leads",
      action: "update",
      entity: leadEntity(webhook, { id: 1, status: 101, pipeline: 1, created: NOW_S - 60, updated: NOW_S }),
    }]);
    load = startBulkLoad({
      url: await signedUrlAccepting(FUNCTIONS_URL, id, probe),
      account: webhook,
      eventsPerPost,
      eventsPerSecond: Math.max(0, Number(args["load-rate"])),
      senders: Math.max(1, Number(args["load-senders"])),
    });
    log(`bulk load from another account: ${describeLoad()}`);
  }

  const pollers = TILES.map(poller);
  const lastTs = new Map<number, number>();
  const freeWaiters: (() => void)[] = [];
  const wakeFree = () => freeWaiters.splice(0).forEach((w) => w());
  let heldBack = 0;
  let heldBackMs = 0;
  let sent = 0;
  let ackFailures = 0;
  const ackMs: number[] = [];

  const sendMove = async (scheduledAt: number) => {
    if (sent >= MOVES || stopReason) return;
    const index = sent++;
    // A pipeline without a move in flight: wait for one when every pipeline has one.
    let free = account.models.filter((m) => !pending.has(m));
    if (free.length === 0) {
      heldBack++;
      while (free.length === 0 && !stopReason) {
        await new Promise<void>((r) => freeWaiters.push(r));
        free = account.models.filter((m) => !pending.has(m));
      }
      heldBackMs += performance.now() - scheduledAt;
      if (stopReason) return;
    }
    const model = pick(free);
    const dealId = pick([...model.leads.keys()]);
    const current = model.leads.get(dealId)!.status;
    const to = pick(openStages(model).filter((s) => s.statusId !== current)).statusId;
    const wasQualified = model.isQualified(dealId);
    const from = model.move(dealId, to);
    // A later second than the deal's last event: each move is its own transition, ordered by updated_at.
    const ts = Math.max(Math.floor(Date.now() / 1000), (lastTs.get(dealId) ?? 0) + 1);
    lastTs.set(dealId, ts);
    const body = formBody(account.webhook, [{
      group: "leads",
      action: "status",
      entity: leadEntity(account.webhook, {
        id: dealId,
        status: to,
        pipeline: model.pipelineId,
        created: ts - 7200,
        updated: ts,
        oldStatus: from,
      }),
    }]);
    let done!: () => void;
    const visible = new Promise<void>((r) => (done = r));
    const move: Move = {
      index,
      model,
      dealId,
      from,
      to,
      qualifies: !wasQualified && model.isQualified(dealId),
      sentAt: performance.now(),
      shown: {},
      lastDifference: {},
      done,
    };
    pending.set(model, move);
    const status = await postWebhook(account.url, body);
    move.ackAt = performance.now();
    ackMs.push(move.ackAt - move.sentAt);
    if (status !== 200) {
      ackFailures++;
      stopReason = `move ${index} answered ${status}: the model no longer matches the account`;
      wakeFree();
      return;
    }
    settle(move);
    const timer = setTimeout(() => {
      if (!pending.has(model) || pending.get(model) !== move) return;
      // Counted as not visible in time; the pipeline takes its next move, whose expected state includes this
      // one, so the run goes on measuring (a tile that shows the next move shows this one too).
      failures.push(move);
      pending.delete(model);
      done();
    }, TIMEOUT_MS);
    await visible;
    clearTimeout(timer);
    wakeFree();
  };

  log(`${MOVES} moves at ${RATE}/s, polling every ${POLL_MS} ms`);
  const started = await runLoad(
    { mode: "open", durationS: MOVES / RATE, concurrency: 1, rate: RATE },
    sendMove,
  );
  const seconds = (performance.now() - started) / 1000;
  polling = false;
  const loadResult = await load?.stop();
  await Promise.all(pollers);
  const [{ waiting: loadWaiting }] = loadAccountId
    ? await setupSql<{ waiting: number }[]>`
      select count(*)::int as waiting from amocrm.webhook_inbox
      where user_account_id = ${loadAccountId} and state = 'received'`
    : [{ waiting: 0 }];

  // ------------------------------------------------------------------------------------------------ report
  // A move not visible within the timeout counts as the timeout (a lower bound), so it still weighs on p95.
  const delays = [...outcomes.map((o) => o.delayMs), ...failures.map(() => TIMEOUT_MS)];
  const over = delays.filter((d) => d > BUDGET_MS).length;
  const qualifying = outcomes.filter((o) => o.move.qualifies);
  const row = (label: string, samples: number[]) => {
    const s = summarize(samples);
    return [label, String(s.runs), ms(s.p50), ms(s.p95), ms(s.max), ms(s.mean)];
  };
  console.log(`\n$ ${command}`);
  console.log(
    `stage freshness: ${LEADS} product leads in ${PIPELINES} pipelines (one creative each), ` +
      `DB ${new URL(DB_URL).host}, functions ${FUNCTIONS_URL}`,
  );
  console.log(
    `load: ${outcomes.length + failures.length} of ${MOVES} moves in ${seconds.toFixed(1)} s = ` +
      `${((outcomes.length + failures.length) / seconds).toFixed(2)} moves/s (asked ${RATE}/s); ` +
      `${heldBack} sends waited for a free pipeline (${(heldBackMs / 1000).toFixed(1)} s in all)` +
      (loadResult
        ? `; bulk load from another account (${describeLoad()}): ${loadResult.posts} POSTs, ` +
          `${(loadResult.events / loadResult.seconds).toFixed(0)} events/s ` +
          `[${Object.entries(loadResult.statuses).map(([s, n]) => `${s}×${n}`).join(" ")}], ` +
          `${loadWaiting} of them not applied yet at the end`
        : ""),
  );
  console.log(`poll: every ≤ ${POLL_MS} ms per tile, as a member through RLS; visible = answer received\n`);
  console.log(table(["ms from the 200 until visible", "moves", "p50", "p95", "max", "mean"], [
    row("in every tile", delays),
    ...TILES.map((t) =>
      row(
        `  ${t} (moves that change it)`,
        outcomes.filter((o) => changes(t, o.move)).map((o) => o.perTileMs[t]),
      )
    ),
    row("in every tile, moves that qualify", qualifying.map((o) => o.delayMs)),
    row("webhook POST → 200", ackMs),
  ]));
  console.log("");
  console.log(table(
    ["ms per tile read (one RPC as the member)", "reads", "p50", "p95", "max", "mean"],
    TILES.map((t) => row(t, readMs[t])),
  ));
  const p95 = summarize(delays).p95;
  console.log(
    `\n${over} of ${delays.length} moves over ${BUDGET_MS} ms; p95 ${ms(p95)} ms ` +
      `(${p95 <= BUDGET_MS ? "within" : "over"} the 1 s target)` +
      (failures.length
        ? `; ${failures.length} not visible within ${TIMEOUT_MS} ms (counted as ${TIMEOUT_MS})`
        : "") +
      (ackFailures ? `; ${ackFailures} POSTs not answered 200` : ""),
  );
  if (stopReason) console.log(`stopped early: ${stopReason}`);
  for (const move of failures) {
    for (const tile of TILES.filter((t) => move.shown[t] === undefined)) {
      console.log(
        `  move ${move.index} (deal ${move.dealId} ${move.from}→${move.to}) ${tile}: ${
          move.lastDifference[tile]
        }`,
      );
    }
  }

  for (const reader of readers.values()) await reader.end();
}

async function removeAccounts(sql: Sql, accountIds: string[], memberId: string): Promise<void> {
  if (args.keep) return log(`kept the accounts: ${accountIds.join(", ")}`);
  for (const id of accountIds) {
    await retryOnDeadlock(() => sql`delete from public.user_accounts where id = ${id}`);
  }
  await sql`delete from auth.users where id = ${memberId}`;
}

/** A background apply may hold locks on the account's rows: a deadlock with the cascading delete is retried. */
async function retryOnDeadlock(work: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      await work();
      return;
    } catch (error) {
      if (attempt >= 5 || (error as { code?: string }).code !== "40P01") throw error;
      await sleep(200 * attempt);
    }
  }
}

await main();
