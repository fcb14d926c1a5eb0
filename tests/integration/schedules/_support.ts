// Shared by the schedule tests: the stack's URLs and keys, and operator requests for handlers called
// in-process and over HTTP. "Does the mirror equal the simulator's truth" is tests/support/truth.ts.
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
