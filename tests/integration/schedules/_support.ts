// Shared by the schedule tests: the stack's URLs and keys, operator requests for handlers called in-process
// and over HTTP, and "does the mirror equal the simulator's truth" as a list of differences.
import type { TruthLead } from "../../../local/amocrm-simulator/mod.ts";
import { createAmoCrmClient } from "../../../supabase/functions/_shared/amocrm/mod.ts";
import type { Sql } from "../../support/connected_account.ts";

export const DATABASE_URL = Deno.env.get("DATABASE_URL");
export const FUNCTIONS_URL = Deno.env.get("FUNCTIONS_URL");
export const SERVICE_ROLE_KEY = Deno.env.get("SUPABASE_SERVICE_ROLE_KEY");
/** These tests need the test stack (npm test): the database and the functions host. */
export const NO_STACK = !DATABASE_URL || !FUNCTIONS_URL || !SERVICE_ROLE_KEY;

/** The secret in-process handlers are built with, and the header that presents it. */
export const CRON_SECRET = "schedules-test-cron-secret";
export const operatorSecrets = { cronSecret: CRON_SECRET };

export function operatorRequest(name: string, body: Record<string, unknown> = {}): Request {
  return new Request(`http://in-process/${name}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-cron-secret": CRON_SECRET },
    body: JSON.stringify(body),
  });
}

/** In-process handlers get a client on the test's own database connection. */
export function clientForSql(sql: Sql) {
  return (connectionId: string) => createAmoCrmClient({ connectionId, deps: { sql } });
}

export interface FunctionAnswer {
  status: number;
  body: { ok: boolean; result?: Record<string, unknown>; error?: string };
}

/** POST to a function on the local functions host, as `npm run admin` does (service role key). */
export async function callFunction(
  name: string,
  body: Record<string, unknown>,
  key = SERVICE_ROLE_KEY,
): Promise<FunctionAnswer> {
  const res = await fetch(`${FUNCTIONS_URL}/${name}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

export async function answerOf(res: Response): Promise<FunctionAnswer> {
  return { status: res.status, body: await res.json() };
}

/** Polls `probe` until it returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export interface CompareOptions {
  /** Also compare every deal's status history (stage and time of each transition). */
  history?: boolean;
}

/**
 * Every difference between the mirror and amoCRM's truth: each deal's stage, deletion and price, the current
 * stage of product leads, sales of won deals (paid, with the deal's price) and no paid sale for any other
 * deal; with `history`, the transitions too. Empty = equal.
 */
export async function differencesFromTruth(
  sql: Sql,
  userAccountId: string,
  truth: TruthLead[],
  leadIds: Map<number, number>,
  opts: CompareOptions = {},
): Promise<string[]> {
  const deals = new Map(
    (await sql`
      select amocrm_lead_id::int as id, pipeline_id, status_id, price::float as price, is_deleted, lead_id::int
      from public.amocrm_deals where user_account_id = ${userAccountId}`).map((d) => [d.id, d]),
  );
  const sales = new Map(
    (await sql`
      select amocrm_deal_id::int as id, status, amount::float as amount from public.sales
      where user_account_id = ${userAccountId}`).map((s) => [s.id, s]),
  );
  const leads = new Map(
    (await sql`
      select id::int, current_pipeline_id, current_status_id from public.leads
      where user_account_id = ${userAccountId}`).map((l) => [l.id, l]),
  );
  const history = opts.history
    ? await sql`
      select amocrm_lead_id::int as id, to_pipeline_id, to_status_id, extract(epoch from changed_at)::int as at
      from public.amocrm_lead_status_history where user_account_id = ${userAccountId}`
    : [];

  const problems: string[] = [];
  for (const t of truth) {
    const deal = deals.get(t.id);
    if (!deal) {
      problems.push(`deal ${t.id} missing`);
      continue;
    }
    const got = `${deal.pipeline_id}/${deal.status_id} price ${deal.price} deleted ${deal.is_deleted}`;
    const want = `${t.pipeline_id}/${t.status_id} price ${t.price} deleted ${t.is_deleted}`;
    if (got !== want) problems.push(`deal ${t.id}: ${got}, amoCRM has ${want}`);

    const sale = sales.get(t.id);
    if (t.status_id === 142 && !t.is_deleted) {
      if (sale?.status !== "paid" || sale.amount !== t.price) {
        problems.push(`deal ${t.id} won for ${t.price}: sale ${JSON.stringify(sale ?? null)}`);
      }
    } else if (sale?.status === "paid") {
      problems.push(`deal ${t.id} is not won now but its sale is paid`);
    }

    const productLead = t.product_ref === null ? undefined : leadIds.get(t.id);
    if (productLead !== undefined && !t.is_deleted) {
      const lead = leads.get(productLead);
      if (lead?.current_pipeline_id !== t.pipeline_id || lead?.current_status_id !== t.status_id) {
        problems.push(
          `lead ${productLead} (deal ${t.id}) shows ${lead?.current_pipeline_id}/${lead?.current_status_id}`,
        );
      }
    }

    if (opts.history) {
      const gotHistory = history.filter((h) => h.id === t.id)
        .map((h) => `${h.to_pipeline_id}/${h.to_status_id}@${h.at}`).sort().join(" ");
      const wantHistory = t.history.map((h) => `${h.to_pipeline_id}/${h.to_status_id}@${h.at}`).sort().join(
        " ",
      );
      if (gotHistory !== wantHistory) {
        problems.push(`deal ${t.id} history: ${gotHistory} | amoCRM: ${wantHistory}`);
      }
    }
  }
  return problems;
}
