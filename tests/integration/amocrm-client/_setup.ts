// One amoCRM account on a fresh simulator + its connection row in the test database, torn down afterwards.
import { type Simulator, startSimulator } from "../../../local/amocrm-simulator/mod.ts";
import type { SimulatorOptions, TokenResponse } from "../../../local/amocrm-simulator/mod.ts";
import {
  AmoCrmClient,
  type AmoCrmClientOptions,
  type Sql,
} from "../../../supabase/functions/_shared/amocrm/mod.ts";
import { type ConnectionSeed, insertConnection, openSql, removeConnection, uniqueSubdomain } from "./_db.ts";

export interface AccountEnv {
  sim: Simulator;
  sql: Sql;
  subdomain: string;
  accountId: number;
  connectionId: string;
  tokens: TokenResponse;
  credentials: { clientId: string; clientSecret: string; redirectUri: string };
  logs: Record<string, unknown>[];
  /** A client for the connection; every call makes a new one (like a new function instance). */
  client: (options?: Partial<AmoCrmClientOptions>) => AmoCrmClient;
}

/** Retries fast in tests: the behaviour is the same, only the waits are shorter. */
export const FAST_OPTIONS: Partial<AmoCrmClientOptions> = {
  retry: { maxAttempts: 7, baseDelayMs: 20, maxDelayMs: 200 },
  rateLimitPauseMs: 50,
  requestTimeoutMs: 5000,
};

export interface AccountSetup {
  sim?: SimulatorOptions;
  connection?: Partial<ConnectionSeed>;
  /** Mint a long-lived token instead of an OAuth pair. */
  longLived?: boolean;
}

export async function withAccount(
  setup: AccountSetup,
  body: (env: AccountEnv) => Promise<void>,
): Promise<void> {
  const sim = await startSimulator({ port: 0, seed: 7, ...setup.sim });
  const sql = openSql();
  const subdomain = uniqueSubdomain("amocli");
  const credentials = {
    clientId: `client-${subdomain}`,
    clientSecret: "secret",
    redirectUri: "https://app.example.test/amocrm/oauth",
  };
  let connectionId = "";
  try {
    const summary = sim.createAccount({ subdomain, ...credentials });
    const tokens = sim.mintTokens(subdomain, { longLived: setup.longLived });
    connectionId = await insertConnection(sql, {
      subdomain,
      apiBaseUrl: sim.accountBaseUrl(subdomain),
      ...credentials,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token ?? null,
      tokenKind: setup.longLived ? "long_lived" : "oauth",
      ...setup.connection,
    });
    const logs: Record<string, unknown>[] = [];
    const env: AccountEnv = {
      sim,
      sql,
      subdomain,
      accountId: summary.accountId,
      connectionId,
      tokens,
      credentials,
      logs,
      client: (options = {}) => {
        return new AmoCrmClient({
          connectionId,
          deps: { sql, log: (entry) => void logs.push(entry) },
          options: { ...FAST_OPTIONS, ...options },
        });
      },
    };
    await body(env);
  } finally {
    if (connectionId) await removeConnection(sql, connectionId, subdomain);
    await sql.end();
    await sim.stop();
  }
}

/** Requests the simulator saw for the account, optionally only API (not OAuth) ones. */
export function apiRequests(sim: Simulator, subdomain: string) {
  return sim.stats(subdomain).requests.filter((r) => r.path.startsWith("/api/"));
}
