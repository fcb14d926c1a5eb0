// The live demo `npm start` plays after the stack is up: a simulated amoCRM account is connected through
// OAuth (amocrm-connect), a qualified stage is flagged as the demo user would in the dashboard, a scenario of
// leads from several creatives plays with a few webhooks dropped, reconcile heals them, and the per-creative
// funnel/ROI table — read as the demo user through RLS — refreshes every few seconds until Ctrl-C.
// Local only. Usage: deno run -A local/demo/main.ts --db-url … --api-url … --sim-url … [--leads 120]
import { parseArgs } from "node:util";
import postgres from "postgres";
import { asUser, creativeFunnel, renderFunnel } from "./funnel_table.ts";
import { insertAdSpend, insertProductLeads } from "../shared/product_side.ts";
import { waitUntilSettled } from "../shared/settle.ts";
import { SimControl } from "./sim_control.ts";

const { values: args } = parseArgs({
  options: {
    "db-url": { type: "string", default: "postgresql://postgres:postgres@127.0.0.1:54322/postgres" },
    "api-url": { type: "string", default: "http://127.0.0.1:54321" },
    "sim-url": { type: "string", default: "http://127.0.0.1:54330" },
    "state-dir": { type: "string", default: ".local/dev" },
    leads: { type: "string", default: "120" },
    "refresh-seconds": { type: "string", default: "5" },
    once: { type: "boolean", default: false },
  },
});

// The demo user and account come from supabase/seed.sql.
const DEMO_USER = "00000000-0000-4000-8000-000000000001";
const DEMO_ACCOUNT = "00000000-0000-4000-8000-0000000000a1";
const SUBDOMAIN = "demo";
const INTEGRATION = {
  clientId: "amo-roi-demo",
  clientSecret: "demo-secret",
  redirectUri: "https://app.example/amocrm/callback",
};
const TOTAL_STEPS = 7;

const sql = postgres(args["db-url"]!, { prepare: false, max: 4, onnotice: () => {} });
const sim = new SimControl(args["sim-url"]!);
const serviceKey = (await Deno.readTextFile(`${args["state-dir"]}/service_role.key`)).trim();

const say = (step: number, text: string) =>
  console.log(`\x1b[1;36m[demo ${step}/${TOTAL_STEPS}]\x1b[0m ${text}`);

async function callFunction(name: string, body: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${args["api-url"]}/functions/v1/${name}`, {
    method: "POST",
    headers: { authorization: `Bearer ${serviceKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const payload = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`${name} answered ${response.status}: ${JSON.stringify(payload)}`);
  return payload;
}

/** The simulator is new on every start, so the demo account's amoCRM-side data starts over too. */
async function resetDemoAccount(): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`delete from amocrm.connections where user_account_id = ${DEMO_ACCOUNT}`;
    await tx`delete from amocrm.jobs where user_account_id = ${DEMO_ACCOUNT}`;
    await tx`delete from amocrm.webhook_inbox where user_account_id = ${DEMO_ACCOUNT}`;
    await tx`delete from amocrm.sync_runs where user_account_id = ${DEMO_ACCOUNT}`;
    for (
      const table of [
        "sales",
        "purchases",
        "amocrm_lead_status_history",
        "amocrm_deals",
        "leads",
        "ad_spend_daily",
        "creatives",
        "directions",
        "amocrm_pipeline_stages",
      ]
    ) {
      await tx`delete from ${tx("public." + table)} where user_account_id = ${DEMO_ACCOUNT}`;
    }
  });
}

async function printTable(title: string): Promise<void> {
  const rows = await creativeFunnel(sql, DEMO_USER, DEMO_ACCOUNT);
  console.log(`\n${title}\n${renderFunnel(rows)}\n`);
}

try {
  say(1, `amoCRM simulator: account "${SUBDOMAIN}" at ${sim.accountBaseUrl(SUBDOMAIN)}`);
  await resetDemoAccount();
  if (!(await sim.hasAccount(SUBDOMAIN))) {
    // The scenario compresses two weeks into seconds; a 60-day access token keeps the demo from refreshing
    // every second of real time (refresh itself is covered by the client's tests).
    await sim.createAccount({
      subdomain: SUBDOMAIN,
      accountId: 31337001,
      accessTokenTtlSeconds: 60 * 86400,
      ...INTEGRATION,
      // A stage move's status and update hooks sometimes in one POST, sometimes in two, as on real accounts.
      modes: { statusDelivery: "mixed" },
    });
  }

  say(
    2,
    "OAuth: authorization code → amocrm-connect (token exchange, webhook subscribed, pipelines, backfill)",
  );
  const code = await sim.authorizationCode(SUBDOMAIN, INTEGRATION.clientId);
  const connected = await callFunction("amocrm-connect", {
    userAccountId: DEMO_ACCOUNT,
    subdomain: SUBDOMAIN,
    apiBaseUrl: sim.accountBaseUrl(SUBDOMAIN),
    code,
    ...INTEGRATION,
  });
  console.log(`           ${JSON.stringify(connected.result ?? connected)}`);

  say(
    3,
    "Dashboard toggle: the demo user flags the 3rd stage of each pipeline as qualified (RLS column grant)",
  );
  const flagged = await asUser(sql, DEMO_USER, (tx) =>
    tx`
    update public.amocrm_pipeline_stages s set is_qualified_stage = true
    from (select id, row_number() over (partition by pipeline_id order by sort_order) as n
          from public.amocrm_pipeline_stages where status_id not in (142, 143) and not is_archived) ranked
    where s.id = ranked.id and ranked.n = 3
    returning s.pipeline_name, s.status_name`);
  for (const f of flagged) console.log(`           ${f.pipeline_name}: "${f.status_name}"`);

  const leads = Number(args.leads);
  say(
    4,
    `Scenario: ${leads} leads from 6 creatives in 3 directions, manager-opened deals, 5% of webhooks dropped`,
  );
  await sim.faults(SUBDOMAIN, { webhookDrop: { rate: 0.05 } });
  const scenario = await sim.startScenario(SUBDOMAIN, { leads, creatives: 6, directions: 3, seed: 20261124 });
  const { creativeIds } = await insertProductLeads(sql, DEMO_ACCOUNT, scenario.product);
  await insertAdSpend(sql, DEMO_ACCOUNT, creativeIds, new Date(scenario.started_at_ms), 14);

  say(
    5,
    `Playing ${scenario.steps_total} steps: stage moves, wins with prices, losses, price edits, deletions…`,
  );
  let lastPrint = Date.now();
  for (let done = 0;;) {
    const { step, remaining } = await sim.step(SUBDOMAIN);
    if (!step) break;
    done++;
    await sim.flushWebhooks();
    if (done % 10 === 0 || remaining === 0) {
      Deno.stdout.writeSync(new TextEncoder().encode(`\r           step ${done}/${scenario.steps_total}`));
    }
    if (Date.now() - lastPrint > 4000) {
      await waitUntilSettled(sql, DEMO_ACCOUNT, 5_000);
      await printTable(`Live (step ${done}/${scenario.steps_total}):`);
      lastPrint = Date.now();
    }
    await new Promise((r) => setTimeout(r, 40));
  }
  await waitUntilSettled(sql, DEMO_ACCOUNT);
  const stats = await sim.stats(SUBDOMAIN);
  console.log(
    `\n           webhook POSTs delivered ${stats.webhookDeliveries.length}, dropped ${stats.webhooksDropped}`,
  );

  say(6, "Reconcile: fetch what changed since the watermark and heal what the dropped webhooks missed");
  await sim.faults(SUBDOMAIN, { webhookDrop: { rate: 0 } });
  const reconciled = await callFunction("amocrm-reconcile", {
    userAccountId: DEMO_ACCOUNT,
    mode: "incremental",
  });
  await waitUntilSettled(sql, DEMO_ACCOUNT);
  console.log(`           ${JSON.stringify(reconciled.result ?? reconciled)}`);

  say(
    7,
    `Live funnel (as demo@amo-roi.local through RLS), refreshed every ${
      args["refresh-seconds"]
    } s — Ctrl-C stops`,
  );
  console.log(`
  Try it:
    psql "${args["db-url"]}" -c "select * from public.amocrm_connection_status"
    npm run report
    curl -X POST '${
    connected.result && (connected.result as Record<string, unknown>).webhookDestination ||
    `${args["api-url"]}/functions/v1/amocrm-webhook?user_id=…&sig=…`
  }' \\
      -H 'Content-Type: application/x-www-form-urlencoded' \\
      --data 'account%5Bsubdomain%5D=demo&account%5Bid%5D=31337001&leads%5Bstatus%5D%5B0%5D%5Bid%5D=<amoCRM lead id>&leads%5Bstatus%5D%5B0%5D%5Bstatus_id%5D=142&leads%5Bstatus%5D%5B0%5D%5Bpipeline_id%5D=<pipeline id>&leads%5Bstatus%5D%5B0%5D%5Bold_status_id%5D=<status id>&leads%5Bstatus%5D%5B0%5D%5Bupdated_at%5D=<unix time>'
    // supabase-js, as the dashboard does it (the user's JWT; RLS scopes the rows):
    const { data } = await supabase.rpc("creative_funnel", { p_user_account_id: "${DEMO_ACCOUNT}" });
`);
  for (;;) {
    await printTable(new Date().toLocaleTimeString());
    if (args.once) break;
    await new Promise((r) => setTimeout(r, Number(args["refresh-seconds"]) * 1000));
  }
} catch (error) {
  console.error(`\x1b[1;31m[demo] failed:\x1b[0m ${error instanceof Error ? error.message : error}`);
  console.error(
    "The stack is still up; see .local/dev/functions-host.log. `npm run status` shows its state.",
  );
  Deno.exitCode = 1;
} finally {
  await sql.end();
}
