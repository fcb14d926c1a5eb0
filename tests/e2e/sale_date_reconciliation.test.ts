// Reconciliation by sale date, end to end: two simulated amoCRM accounts in different zones and currencies
// (Europe/Moscow in roubles, Asia/Almaty in tenge) play seeded scenarios with prices in kopecks/tiyn over
// webhooks and API confirmation. Product leads are created across local midnight. Then, for every local day,
// ISO week and month of the story: per-creative revenue by sale date + unattributed revenue = the total of the
// deals amoCRM shows won and closed in that period, to the minor unit; and every lead counts on its local day.
import assert from "node:assert/strict";
import { startSimulator, type TruthLead } from "../../local/amocrm-simulator/mod.ts";
import {
  connectDb,
  connectSimulatedAccount,
  insertProductLeads,
  type Sql,
  waitUntilSettled,
} from "../support/connected_account.ts";

const FUNCTIONS_URL = Deno.env.get("FUNCTIONS_URL");
const DAY_MS = 86_400_000;

/** The local calendar day of a unix time in a zone, as YYYY-MM-DD. */
function localDay(unixSeconds: number, timeZone: string): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" })
    .format(new Date(unixSeconds * 1000));
}

const addDays = (day: string, n: number) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);

/** Every day, ISO week (Monday–Sunday) and calendar month touching [first, last]. */
function periods(first: string, last: string): { kind: string; from: string; to: string }[] {
  const out: { kind: string; from: string; to: string }[] = [];
  for (let day = first; day <= last; day = addDays(day, 1)) out.push({ kind: "day", from: day, to: day });
  const weekday = (new Date(`${first}T00:00:00Z`).getUTCDay() + 6) % 7; // Monday = 0
  for (let monday = addDays(first, -weekday); monday <= last; monday = addDays(monday, 7)) {
    out.push({ kind: "week", from: monday, to: addDays(monday, 6) });
  }
  for (let month = `${first.slice(0, 7)}-01`; month <= last;) {
    const next = new Date(Date.parse(`${month}T00:00:00Z`));
    next.setUTCMonth(next.getUTCMonth() + 1);
    const nextMonth = next.toISOString().slice(0, 10);
    out.push({ kind: "month", from: month, to: addDays(nextMonth, -1) });
    month = nextMonth;
  }
  return out;
}

/** Minor units of a decimal amount (JSON number or numeric text). */
const minor = (amount: number | string) => Math.round(Number(amount) * 100);

async function reconcile(
  sql: Sql,
  userAccountId: string,
  timeZone: string,
  truth: TruthLead[],
  leadCreatedAt: number[],
): Promise<string[]> {
  const problems: string[] = [];
  const won = truth.filter((t) => t.status_id === 142 && !t.is_deleted && t.closed_at !== null)
    .map((t) => ({ day: localDay(t.closed_at!, timeZone), amount: minor(t.price) }));
  const leadDays = leadCreatedAt.map((at) => localDay(at, timeZone));
  const days = [...won.map((w) => w.day), ...leadDays].sort();
  for (const p of periods(days[0], days.at(-1)!)) {
    const amoCrm = won.filter((w) => w.day >= p.from && w.day <= p.to).reduce((sum, w) => sum + w.amount, 0);
    const [ours] = await sql`
      select (select coalesce(sum(revenue), 0) from public.creative_funnel(${userAccountId}, ${p.from}::date,
                ${p.to}::date, null, 'sale_date')) as creatives,
             (select unattributed_revenue from public.revenue_totals(${userAccountId}, ${p.from}::date,
                ${p.to}::date)) as unattributed`;
    const got = minor(ours.creatives) + minor(ours.unattributed);
    if (got !== amoCrm) {
      problems.push(
        `${p.kind} ${p.from}…${p.to}: creatives ${ours.creatives} + unattributed ${ours.unattributed} ≠ amoCRM ${
          amoCrm / 100
        }`,
      );
    }
  }

  const expected = new Map<string, number>();
  for (const day of leadDays) expected.set(day, (expected.get(day) ?? 0) + 1);
  const rows = await sql`
    select day::text, leads::int from public.funnel_daily(${userAccountId}, ${days[0]}::date, ${days.at(
    -1,
  )!}::date)
    where leads > 0`;
  const got = new Map(rows.map((r) => [r.day as string, r.leads as number]));
  for (const day of new Set([...expected.keys(), ...got.keys()])) {
    if (expected.get(day) !== got.get(day)) {
      problems.push(
        `leads on ${day}: ${got.get(day) ?? 0}, created that local day: ${expected.get(day) ?? 0}`,
      );
    }
  }
  return problems;
}

Deno.test({
  name:
    "by sale date, creatives + unattributed = amoCRM's won total for every day, week and month, in two zones",
  ignore: !FUNCTIONS_URL || !Deno.env.get("DATABASE_URL"),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const sql = connectDb();
    // The story starts at 18:58 UTC: the Almaty account's leads are created across its midnight (19:00 UTC),
    // two hours later the Moscow account's across its own (21:00 UTC). It spans 40 days (two month ends).
    const start = Date.parse("2026-10-20T18:58:00Z");
    const wallAtStart = Date.now();
    const sim = await startSimulator({
      port: 0,
      seed: Number(Deno.env.get("E2E_SEED") ?? 1414),
      timeScale: 1e6,
      now: () => start + (Date.now() - wallAtStart),
    });
    const almaty = await connectSimulatedAccount(sql, sim, {
      functionsUrl: FUNCTIONS_URL!,
      label: "reconcile KZT",
      currency: "KZT",
      timezone: "Asia/Almaty",
    });
    const moscow = await connectSimulatedAccount(sql, sim, {
      functionsUrl: FUNCTIONS_URL!,
      label: "reconcile RUB",
      currency: "RUB",
      timezone: "Europe/Moscow",
    });
    try {
      const options = {
        leads: 150,
        creatives: 4,
        directions: 2,
        managerDeals: 25,
        durationSeconds: 40 * 86_400,
        fractionalPrices: true,
      };
      // 150 leads = 3 creation batches 30 s apart: starting 40 s before midnight crosses it.
      const advanceTo = (iso: string) => sim.advanceTime((Date.parse(iso) - sim.now()) / 1000);
      advanceTo("2026-10-20T18:59:20Z");
      const almatyRun = sim.scenario(almaty.subdomain, options);
      advanceTo("2026-10-20T20:59:20Z");
      const moscowRun = sim.scenario(moscow.subdomain, { ...options, seed: 1415 });
      const almatyLeads = await insertProductLeads(sql, almaty.userAccountId, almatyRun.product);
      const moscowLeads = await insertProductLeads(sql, moscow.userAccountId, moscowRun.product);
      assert.equal(almatyLeads.leadIds.size, 150);
      assert.equal(moscowLeads.leadIds.size, 150);

      // Both stories in time order, one step at a time, webhooks delivered after each step.
      const runs = [almatyRun, moscowRun];
      const nextAt = (run: typeof almatyRun) =>
        run.remaining === 0
          ? Infinity
          : run.startedAtMs + run.plan.steps[run.total - run.remaining].at * 1000;
      for (;;) {
        const run = runs.reduce((a, b) => (nextAt(a) <= nextAt(b) ? a : b));
        if (nextAt(run) === Infinity) break;
        run.step();
        await sim.flushWebhooks({ fastForward: true });
      }
      await waitUntilSettled(sql, almaty.userAccountId, 120_000);
      await waitUntilSettled(sql, moscow.userAccountId, 120_000);

      for (
        const [account, run, zone] of [
          [almaty, almatyRun, "Asia/Almaty"],
          [moscow, moscowRun, "Europe/Moscow"],
        ] as const
      ) {
        const truth = run.truth();
        const wonWithKopecks = truth.filter((t) =>
          t.status_id === 142 && !t.is_deleted && minor(t.price) % 100 !== 0
        );
        assert.ok(wonWithKopecks.length > 5, `${zone}: won deals with fractional prices`);
        assert.ok(
          truth.some((t) => t.status_id === 142 && !t.is_deleted && t.product_ref === null),
          `${zone}: some won deals are unattributed`,
        );
        const createdAt = run.product.map((p) => p.created_at);
        assert.ok(
          new Set(createdAt.map((at) => localDay(at, zone))).size > 1,
          `${zone}: the leads were created across local midnight`,
        );
        assert.deepEqual(await reconcile(sql, account.userAccountId, zone, truth, createdAt), [], zone);
      }
    } finally {
      await almaty.remove();
      await moscow.remove();
      await sim.stop();
      await sql.end();
    }
  },
});
