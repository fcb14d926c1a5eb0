// The client's SQL: every statement it runs against amocrm.* / private.amocrm_* lives here.
import type { Sql } from "./deps.ts";

export type CallPurpose = "api" | "refresh" | "exchange";

/** One row of private.amocrm_begin_call(). */
export interface CallGate {
  wait_ms: number;
  /** null = go; else the connection state, `breaker_open` or `not_found`. */
  blocked: string | null;
  blocked_reason: string | null;
  breaker_probe: boolean;
  token_kind: string | null;
  access_token: string | null;
  access_token_expires_at: Date | null;
  amocrm_account_id: string | null;
  subdomain: string | null;
  base_domain: string | null;
  api_base_url: string | null;
}

export async function beginCall(
  sql: Sql,
  connectionId: string,
  purpose: CallPurpose,
  rateHeadroom: number,
): Promise<CallGate> {
  const rows = await sql<CallGate[]>`
    select wait_ms, blocked, blocked_reason, breaker_probe, token_kind, access_token, access_token_expires_at,
           amocrm_account_id::text as amocrm_account_id, subdomain, base_domain, api_base_url
      from private.amocrm_begin_call(${connectionId}::uuid, ${purpose}, ${rateHeadroom}::double precision)`;
  return rows[0];
}

export async function openBreaker(
  sql: Sql,
  connectionId: string,
  reason: string,
  cooldownSeconds: number | null,
): Promise<void> {
  await sql`select private.amocrm_open_breaker(
    ${connectionId}::uuid, ${reason}, make_interval(secs => ${cooldownSeconds}::double precision))`;
}

export async function closeBreaker(sql: Sql, connectionId: string): Promise<boolean> {
  const rows = await sql<{ closed: boolean }[]>`
    select private.amocrm_close_breaker(${connectionId}::uuid) as closed`;
  return rows[0]?.closed ?? false;
}

export async function setConnectionState(
  sql: Sql,
  connectionId: string,
  state: string,
  reason: string | null,
): Promise<void> {
  await sql`select private.amocrm_set_connection_state(${connectionId}::uuid, ${state}, ${reason})`;
}

export async function pauseRateBucket(sql: Sql, connectionId: string, pauseMs: number): Promise<void> {
  await sql`select private.amocrm_pause_rate_bucket(${connectionId}::uuid, ${Math.round(pauseMs)}::integer)`;
}

export interface ApiCallTrace {
  connectionId: string;
  amocrmAccountId: string | null;
  method: string;
  endpoint: string;
  status: number | null;
  durationMs: number;
  retries: number;
  errorKind: string | null;
  errorMessage: string | null;
}

export async function recordApiCall(sql: Sql, t: ApiCallTrace): Promise<void> {
  await sql`
    insert into amocrm.api_calls
      (connection_id, amocrm_account_id, method, endpoint, status, duration_ms, retries, error_kind, error_message)
    values (${t.connectionId}::uuid, ${t.amocrmAccountId}::bigint, ${t.method}, ${t.endpoint}, ${t.status},
            ${Math.round(t.durationMs)}, ${t.retries}, ${t.errorKind}, ${t.errorMessage})`;
}

/** The columns a token refresh / code exchange needs, read under the row lock. */
export interface TokenRow {
  id: string;
  state: string;
  token_kind: string;
  access_token: string | null;
  refresh_token: string | null;
  access_token_expires_at: Date | null;
  token_refreshed_at: Date | null;
  client_id: string | null;
  client_secret: string | null;
  redirect_uri: string | null;
  subdomain: string | null;
  base_domain: string | null;
  api_base_url: string | null;
  amocrm_account_id: string | null;
  breaker_open: boolean;
  breaker_reason: string | null;
  breaker_cooldown_until: Date | null;
}

export async function lockTokenRow(tx: Sql, connectionId: string): Promise<TokenRow | undefined> {
  const rows = await tx<TokenRow[]>`
    select id, state, token_kind, access_token, refresh_token, access_token_expires_at, token_refreshed_at,
           client_id, client_secret, redirect_uri, subdomain, base_domain, api_base_url,
           amocrm_account_id::text as amocrm_account_id, breaker_open, breaker_reason, breaker_cooldown_until
      from amocrm.connections
     where id = ${connectionId}::uuid
       -- NO KEY UPDATE: serialises refreshers exactly like FOR UPDATE, but does not block the KEY SHARE lock
       -- that inserting a trace row (foreign key to this row) takes meanwhile.
       for no key update`;
  return rows[0];
}

export interface StoredTokens {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
  refreshedAt: Date;
  amocrmAccountId: number | null;
  /** Code exchange: the connection becomes active (again). */
  activate: boolean;
}

export async function storeTokens(tx: Sql, connectionId: string, t: StoredTokens): Promise<void> {
  await tx`
    update amocrm.connections c
       set access_token = ${t.accessToken},
           refresh_token = ${t.refreshToken},
           access_token_expires_at = ${t.expiresAt},
           token_refreshed_at = ${t.refreshedAt},
           token_kind = 'oauth',
           amocrm_account_id = coalesce(${t.amocrmAccountId}::bigint, c.amocrm_account_id),
           state = case when ${t.activate} then 'active' else c.state end,
           state_reason = case when ${t.activate} then null else c.state_reason end,
           state_changed_at = case when ${t.activate} and c.state <> 'active' then now() else c.state_changed_at end,
           updated_at = now()
     where c.id = ${connectionId}::uuid`;
}

/** OAuth connections whose token was last refreshed before `idleSince` (their refresh token ages out at 3 months). */
export async function findIdleOAuthConnections(
  sql: Sql,
  idleSince: Date,
  limit: number,
  onlyIds: string[] | null,
): Promise<{ id: string; access_token: string | null }[]> {
  return await sql<{ id: string; access_token: string | null }[]>`
    select c.id, c.access_token
      from amocrm.connections c
     where c.token_kind = 'oauth'
       and c.state = 'active'
       and c.refresh_token is not null
       and not c.breaker_open
       and coalesce(c.token_refreshed_at, c.created_at) < ${idleSince}
       and (${onlyIds}::uuid[] is null or c.id = any(${onlyIds}::uuid[]))
     order by coalesce(c.token_refreshed_at, c.created_at)
     limit ${limit}`;
}
