// Benchmark (not a test): fetching K leads by id through the shared amoCRM client against the simulator at
// amoCRM's real limit (7 req/s). Prints calls made, elapsed time, the floor ceil(K/250)/7 s and the ratio.
//
//   DATABASE_URL=postgresql://… deno run -A bench/fetch_leads_by_id.ts [K …]     (default K = 1000 5000)
//
// Needs a database with the migrations applied (DATABASE_URL, else SUPABASE_DB_URL, else the dev stack).
import postgres from "postgres";
import { startSimulator } from "../local/amocrm-simulator/mod.ts";
import { AmoCrmClient } from "../supabase/functions/_shared/amocrm/mod.ts";

const AMOCRM_RATE = 7;
const PAGE = 250;
const dbUrl = Deno.env.get("DATABASE_URL") ?? Deno.env.get("SUPABASE_DB_URL") ??
  "postgresql://postgres:postgres@127.0.0.1:54322/postgres";
const sizes = Deno.args.length > 0 ? Deno.args.map(Number) : [1000, 5000];

const sim = await startSimulator({ port: 0, seed: 11, rateLimitPerSecond: AMOCRM_RATE });
const sql = postgres(dbUrl, { prepare: false, onnotice: () => {} });
const credentials = {
  clientId: "bench-client",
  clientSecret: "bench-secret",
  redirectUri: "https://bench.test/cb",
};

try {
  console.log(`amoCRM simulator at ${AMOCRM_RATE} req/s; client uses its default options`);
  console.log("K\tcalls\t429s\telapsed_s\tfloor_s\tratio\tleads_returned");
  for (const k of sizes) {
    const subdomain = `bench-${k}-${crypto.randomUUID().slice(0, 6)}`;
    sim.createAccount({ subdomain, ...credentials });
    const ids = await sim.batch(
      subdomain,
      (ops) => Array.from({ length: k }, () => Number(ops.createLead().id)),
    );
    const tokens = sim.mintTokens(subdomain);
    const userAccountId = crypto.randomUUID();
    const connectionId = crypto.randomUUID();
    await sql`insert into public.user_accounts (id, name) values (${userAccountId}, ${`bench ${subdomain}`})`;
    await sql`
      insert into amocrm.connections (id, user_account_id, subdomain, base_domain, api_base_url, client_id,
        client_secret, redirect_uri, token_kind, access_token, refresh_token, access_token_expires_at,
        token_refreshed_at, state)
      values (${connectionId}, ${userAccountId}, ${subdomain}, 'amocrm.ru', ${sim.accountBaseUrl(subdomain)},
        ${credentials.clientId}, ${credentials.clientSecret}, ${credentials.redirectUri}, 'oauth',
        ${tokens.access_token}, ${tokens.refresh_token ?? null}, now() + interval '1 day', now(), 'active')`;
    try {
      // Let the account's bucket start full, as it would for an idle account.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const client = new AmoCrmClient({ connectionId, deps: { sql, log: () => {} } });
      const started = performance.now();
      const leads = await client.getLeadsByIds(ids);
      const elapsed = (performance.now() - started) / 1000;
      const stats = sim.stats(subdomain);
      const calls = stats.requests.filter((r) => r.path.startsWith("/api/")).length;
      const floor = Math.ceil(k / PAGE) / AMOCRM_RATE;
      console.log(
        [
          k,
          calls,
          stats.tooManyRequests,
          elapsed.toFixed(2),
          floor.toFixed(2),
          (elapsed / floor).toFixed(2),
          leads.length,
        ]
          .join("\t"),
      );
    } finally {
      await sql`delete from public.user_accounts where id = ${userAccountId}`;
      await sql`delete from amocrm.rate_buckets where bucket_key = ${`${subdomain}.amocrm.ru`}`;
    }
  }
} finally {
  await sql.end();
  await sim.stop();
}
