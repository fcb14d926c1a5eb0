// Test fixtures for the amoCRM client integration tests: a real Postgres (DATABASE_URL, all migrations applied)
// and connection rows with unique ids that each test removes again.
import postgres from "postgres";
import type { Sql } from "../../../supabase/functions/_shared/amocrm/mod.ts";

export const DATABASE_URL = Deno.env.get("DATABASE_URL") ?? "";
/** Integration tests need the database; without DATABASE_URL they are reported as ignored. */
export const NO_DATABASE = DATABASE_URL === "";

export function openSql(): Sql {
  return postgres(DATABASE_URL, { prepare: false, max: 20, onnotice: () => {} });
}

export interface ConnectionSeed {
  subdomain: string;
  apiBaseUrl: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  accessToken?: string | null;
  refreshToken?: string | null;
  /** Default: one day ahead. */
  accessTokenExpiresAt?: Date | null;
  tokenRefreshedAt?: Date | null;
  tokenKind?: "oauth" | "long_lived";
  state?: string;
  rateLimitPerSecond?: number;
}

/** Inserts a user account and its amoCRM connection; returns the connection id. */
export async function insertConnection(sql: Sql, seed: ConnectionSeed): Promise<string> {
  const userAccountId = crypto.randomUUID();
  const connectionId = crypto.randomUUID();
  await sql`insert into public.user_accounts (id, name) values (${userAccountId}, ${`amocrm client test ${seed.subdomain}`})`;
  await sql`
    insert into amocrm.connections
      (id, user_account_id, subdomain, base_domain, api_base_url, client_id, client_secret, redirect_uri,
       token_kind, access_token, refresh_token, access_token_expires_at, token_refreshed_at, state,
       rate_limit_per_second)
    values (${connectionId}, ${userAccountId}, ${seed.subdomain}, 'amocrm.ru', ${seed.apiBaseUrl}, ${seed.clientId},
            ${seed.clientSecret}, ${seed.redirectUri}, ${seed.tokenKind ?? "oauth"}, ${
    seed.accessToken ?? null
  },
            ${seed.refreshToken ?? null},
            ${
    seed.accessTokenExpiresAt === undefined ? new Date(Date.now() + 86_400_000) : seed.accessTokenExpiresAt
  },
            ${seed.tokenRefreshedAt ?? new Date()}, ${seed.state ?? "active"}, ${
    seed.rateLimitPerSecond ?? 7
  })`;
  return connectionId;
}

export interface ConnectionRow {
  state: string;
  state_reason: string | null;
  access_token: string | null;
  refresh_token: string | null;
  access_token_expires_at: Date | null;
  token_refreshed_at: Date | null;
  breaker_open: boolean;
  breaker_reason: string | null;
  breaker_opened_at: Date | null;
  breaker_cooldown_until: Date | null;
  amocrm_account_id: string | null;
}

export async function readConnection(sql: Sql, connectionId: string): Promise<ConnectionRow> {
  const rows = await sql<ConnectionRow[]>`
    select state, state_reason, access_token, refresh_token, access_token_expires_at, token_refreshed_at,
           breaker_open, breaker_reason, breaker_opened_at, breaker_cooldown_until,
           amocrm_account_id::text as amocrm_account_id
      from amocrm.connections where id = ${connectionId}`;
  return rows[0];
}

export interface TraceRow {
  method: string;
  endpoint: string;
  status: number | null;
  retries: number;
  duration_ms: number;
  error_kind: string | null;
}

export async function readTraces(sql: Sql, connectionId: string): Promise<TraceRow[]> {
  return await sql<TraceRow[]>`
    select method, endpoint, status, retries, duration_ms, error_kind
      from amocrm.api_calls where connection_id = ${connectionId} order by id`;
}

/** Removes the user account (cascades to the connection and its traces) and the account's rate bucket. */
export async function removeConnection(sql: Sql, connectionId: string, subdomain: string): Promise<void> {
  await sql`delete from public.user_accounts where id = (
    select user_account_id from amocrm.connections where id = ${connectionId})`;
  await sql`delete from amocrm.rate_buckets where bucket_key = ${`${subdomain}.amocrm.ru`}`;
}

/** Unique per test run, so parallel runs and reruns never share an account or bucket. */
export function uniqueSubdomain(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}
