// Finding the amoCRM connection(s) an operator call is about.
import type { Sql } from "../amocrm/mod.ts";

export interface ConnectionRef {
  connectionId: string;
  userAccountId: string;
}

/** One account's connection, or every active one when no account is named (cron runs). */
export async function connectionsFor(sql: Sql, userAccountId?: unknown): Promise<ConnectionRef[]> {
  if (userAccountId !== undefined && userAccountId !== null && userAccountId !== "") {
    const rows = await sql<ConnectionRef[]>`
      select id as "connectionId", user_account_id as "userAccountId"
      from amocrm.connections where user_account_id = ${String(userAccountId)}`;
    if (rows.length === 0) throw new Error(`no amoCRM connection for user account ${userAccountId}`);
    return rows;
  }
  return await sql<ConnectionRef[]>`
    select id as "connectionId", user_account_id as "userAccountId"
    from amocrm.connections where state = 'active' and not breaker_open
    order by created_at`;
}
