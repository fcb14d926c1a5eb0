// What the amoCRM client needs from the outside world, injected so tests can hand it a real local database,
// the simulator's fetch, and their own clock/sleep/random. Defaults are the production ones.
import postgres from "postgres";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./backoff.ts";

export type Sql = postgres.Sql;

export interface AmoCrmDeps {
  /** postgres.js client (service role). Default: `SUPABASE_DB_URL` with `prepare: false` (transaction pooler). */
  sql: Sql;
  fetch: typeof fetch;
  /** Epoch milliseconds. */
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Uniform in [0, 1): backoff jitter. */
  random: () => number;
  /** One structured log line per API call / token event. */
  log: (entry: Record<string, unknown>) => void;
}

export interface AmoCrmClientOptions {
  retry: RetryPolicy;
  /** Per-attempt timeout (connect + headers + body), via AbortSignal. */
  requestTimeoutMs: number;
  /** Refresh an OAuth access token this long before it expires. */
  refreshMarginSeconds: number;
  /** How long a 403 keeps the breaker open before one probe call is allowed; null = until an operator closes it. */
  breakerCooldownSeconds: number | null;
  /** After a 429, no instance gets a rate token for this long (on top of the caller's own backoff). */
  rateLimitPauseMs: number;
  /** Give up waiting for a rate token after this long (the account is saturated). */
  maxRateWaitMs: number;
  /** Fraction of `connections.rate_limit_per_second` actually used: absorbs network jitter. */
  rateHeadroom: number;
  /** Write a row into amocrm.api_calls for every call. */
  traceCalls: boolean;
}

export const DEFAULT_CLIENT_OPTIONS: AmoCrmClientOptions = {
  retry: DEFAULT_RETRY_POLICY,
  requestTimeoutMs: 20_000,
  refreshMarginSeconds: 300,
  breakerCooldownSeconds: 3600,
  rateLimitPauseMs: 1000,
  maxRateWaitMs: 60_000,
  rateHeadroom: 0.9,
  traceCalls: true,
};

/** Everything one connection's calls need. */
export interface AmoCrmContext {
  connectionId: string;
  deps: AmoCrmDeps;
  options: AmoCrmClientOptions;
}

let moduleSql: Sql | undefined;

/** The process-wide default database client, created on first use. */
export function defaultSql(): Sql {
  if (!moduleSql) {
    const url = Deno.env.get("SUPABASE_DB_URL");
    if (!url) throw new Error("SUPABASE_DB_URL is not set (needed by the amoCRM client)");
    moduleSql = postgres(url, { prepare: false });
  }
  return moduleSql;
}

export function resolveDeps(overrides: Partial<AmoCrmDeps> = {}): AmoCrmDeps {
  return {
    sql: overrides.sql ?? defaultSql(),
    fetch: overrides.fetch ?? ((input, init) => fetch(input, init)),
    now: overrides.now ?? (() => Date.now()),
    sleep: overrides.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))),
    random: overrides.random ?? Math.random,
    log: overrides.log ?? ((entry) => console.log(JSON.stringify(entry))),
  };
}

export function resolveOptions(overrides: Partial<AmoCrmClientOptions> = {}): AmoCrmClientOptions {
  return {
    ...DEFAULT_CLIENT_OPTIONS,
    ...overrides,
    retry: { ...DEFAULT_CLIENT_OPTIONS.retry, ...overrides.retry },
  };
}

export function createContext(
  connectionId: string,
  deps: Partial<AmoCrmDeps> = {},
  options: Partial<AmoCrmClientOptions> = {},
): AmoCrmContext {
  return { connectionId, deps: resolveDeps(deps), options: resolveOptions(options) };
}
