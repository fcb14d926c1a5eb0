// Operator endpoints that answer with the right status: 401 for a caller without the cron secret or service
// role key, 400 for parameters that are missing or wrong (the message says which), 404 for an account with
// no connection, 502 when amoCRM failed, 500 otherwise — the operator sees what to fix.
import { AmoCrmError } from "../amocrm/errors.ts";
import type { Sql } from "../amocrm/deps.ts";
import { isUuid } from "../uuid.ts";
import { isOperator, type OperatorSecrets } from "./auth.ts";
import { json, logLine, requestParams } from "./http.ts";

/** The request is wrong: answered 400 with this message. */
export class BadRequest extends Error {}

/** What the request names does not exist: answered 404. */
export class NotFound extends Error {}

export type Params = Record<string, unknown>;

/** A uuid parameter, or undefined when absent; anything else is a 400. */
export function optionalUuid(params: Params, name: string): string | undefined {
  const value = params[name];
  if (value === undefined || value === null || value === "") return undefined;
  if (!isUuid(value)) throw new BadRequest(`${name} must be a uuid`);
  return value.toLowerCase();
}

export function requiredUuid(params: Params, name: string): string {
  const value = optionalUuid(params, name);
  if (value === undefined) throw new BadRequest(`${name} is required`);
  return value;
}

/** One of the allowed values, the first one when absent. */
export function oneOf<T extends string>(params: Params, name: string, allowed: readonly T[]): T {
  const value = params[name];
  if (value === undefined || value === null || value === "") return allowed[0];
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new BadRequest(`${name} must be one of ${allowed.join(", ")}`);
  }
  return value as T;
}

export interface AccountConnection {
  connectionId: string;
  userAccountId: string;
}

/** The named account's connection (404 when it has none), or every active one whose breaker is closed. */
export async function targetConnections(
  sql: Sql,
  userAccountId: string | undefined,
): Promise<AccountConnection[]> {
  if (userAccountId !== undefined) {
    const rows = await sql<AccountConnection[]>`
      select id as "connectionId", user_account_id as "userAccountId"
      from amocrm.connections where user_account_id = ${userAccountId}`;
    if (rows.length === 0) throw new NotFound(`no amoCRM connection for user account ${userAccountId}`);
    return rows;
  }
  return await sql<AccountConnection[]>`
    select id as "connectionId", user_account_id as "userAccountId"
    from amocrm.connections where state = 'active' and not breaker_open
    order by created_at`;
}

function statusOf(error: unknown): number {
  if (error instanceof BadRequest || error instanceof SyntaxError) return 400;
  if (error instanceof NotFound) return 404;
  if (error instanceof AmoCrmError) return 502;
  return 500;
}

/** Wraps an operator function: auth, parameters (query string + JSON body), JSON answer, one log line. */
export function operatorEndpoint(
  name: string,
  secrets: OperatorSecrets,
  work: (params: Params, req: Request) => Promise<unknown>,
): (req: Request) => Promise<Response> {
  return async (req) => {
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    if (!isOperator(req, secrets)) {
      logLine({ fn: name, outcome: "unauthorized" });
      return json({ ok: false, error: "unauthorized: send x-cron-secret or the service role key" }, 401);
    }
    try {
      const result = await work(await requestParams(req), req);
      logLine({ fn: name, outcome: "ok", ms: ms(), result });
      return json({ ok: true, result });
    } catch (error) {
      const status = statusOf(error);
      const message = error instanceof SyntaxError
        ? `body is not valid JSON: ${error.message}`
        : error instanceof Error
        ? error.message
        : String(error);
      logLine({ fn: name, outcome: "error", status, ms: ms(), error: message });
      const body: Record<string, unknown> = { ok: false, error: message };
      if (error instanceof AmoCrmError) body.amocrm = { code: error.code, status: error.status };
      return json(body, status);
    }
  };
}

/** Runs `work` for every connection; one account's failure is reported beside the others, never hides them. */
export async function forEachConnection<T>(
  connections: AccountConnection[],
  work: (connection: AccountConnection) => Promise<T>,
): Promise<
  ({ userAccountId: string; ok: true; result: T } | { userAccountId: string; ok: false; error: string })[]
> {
  const results = [];
  for (const connection of connections) {
    try {
      results.push({
        userAccountId: connection.userAccountId,
        ok: true as const,
        result: await work(connection),
      });
    } catch (error) {
      results.push({
        userAccountId: connection.userAccountId,
        ok: false as const,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return results;
}
