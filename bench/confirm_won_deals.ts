// Benchmark: amoCRM API calls needed to confirm won deals, ours (bulk) against the per-lead algorithm
// of docs/requirements.md Q3 (GET /leads/{id}?with=contacts + GET /contacts/{id} per deal). Runs the real confirm_deals job code against
// the simulator with the shared rate limiter (7 req/s) and the real database; prints figures, asserts nothing.
//
//   DATABASE_URL=postgresql://postgres:postgres@127.0.0.1:54322/postgres deno run -A bench/confirm_won_deals.ts [--deals 1000]
import { parseArgs } from "node:util";
import { startSimulator } from "../local/amocrm-simulator/mod.ts";
import { createAmoCrmClient } from "../supabase/functions/_shared/amocrm/mod.ts";
import { confirmDeals } from "../supabase/functions/_shared/jobs/confirm_deals.ts";
import { connectDb } from "../tests/support/connected_account.ts";

const { values } = parseArgs({ options: { deals: { type: "string", default: "1000" } } });
const dealCount = Number(values.deals);
Deno.env.set(
  "DATABASE_URL",
  Deno.env.get("DATABASE_URL") ?? "postgresql://postgres:postgres@127.0.0.1:54322/postgres",
);

const sql = connectDb();
const sim = await startSimulator({ port: 0, seed: 7 });
const subdomain = `bench${crypto.randomUUID().slice(0, 6)}`;
sim.createAccount({
  subdomain,
  clientId: "amo-roi",
  clientSecret: "s",
  redirectUri: "https://app.example/cb",
});
const token = sim.mintTokens(subdomain, { longLived: true, clientId: "amo-roi" });

const ids: number[] = [];
for (let i = 0; i < dealCount; i++) {
  const lead = sim.createLead(subdomain, {
    price: 1000 + i,
    phone: `+7 912 ${String(1000000 + i).slice(-7)}`,
  });
  const id = Number(lead.id);
  sim.winLead(subdomain, id, { price: 1000 + i });
  ids.push(id);
}

const [{ id: userAccountId }] =
  await sql`insert into public.user_accounts (name) values ('bench confirm') returning id`;
const [{ id: connectionId }] = await sql`
  insert into amocrm.connections (user_account_id, subdomain, api_base_url, token_kind, access_token,
    access_token_expires_at, state)
  values (${userAccountId}, ${subdomain}, ${
  sim.accountBaseUrl(subdomain)
}, 'long_lived', ${token.access_token},
    now() + interval '1 year', 'active')
  returning id`;

try {
  const before = sim.stats(subdomain).totalRequests;
  const started = performance.now();
  const result = await confirmDeals(
    sql,
    createAmoCrmClient({ connectionId, deps: { sql, log: () => {} } }),
    userAccountId,
    ids,
  );
  const elapsedS = (performance.now() - started) / 1000;
  const calls = sim.stats(subdomain).totalRequests - before;
  const [{ paid }] =
    await sql`select count(*)::int as paid from public.sales where user_account_id = ${userAccountId} and status = 'paid'`;
  const perLeadCalls = dealCount * 2;

  console.log(`confirm ${dealCount} won deals (simulator, 7 req/s shared bucket)`);
  console.table({
    "bulk (amo-roi)": {
      calls,
      "calls / 1000 deals": (calls / dealCount) * 1000,
      "elapsed s": elapsedS.toFixed(2),
    },
    "per-lead (requirements: Q3)": {
      calls: perLeadCalls,
      "calls / 1000 deals": 2000,
      "elapsed s": `≥ ${(perLeadCalls / 7).toFixed(0)} (at 7 req/s)`,
    },
  });
  console.log(`paid sales written: ${paid}; confirmed ${result.confirmed}, missing ${result.missing}`);
  console.log(`ratio: ${(perLeadCalls / calls).toFixed(0)}× fewer calls than the per-lead algorithm`);
} finally {
  await sql`delete from public.user_accounts where id = ${userAccountId}`;
  await sim.stop();
  await sql.end();
}
