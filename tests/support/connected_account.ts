// A user account connected to a simulated amoCRM account, the way amocrm-connect leaves it: connection row
// pointing at the simulator, pipelines synced with a qualified stage flagged, webhook subscribed to the intake
// function. Shared by the end-to-end tests; remove() deletes everything it created.
import postgres from "postgres";
import type { AccountModes, Simulator } from "../../local/amocrm-simulator/mod.ts";
export { insertProductLeads } from "../../local/shared/product_side.ts";
import { readDotEnv } from "../../local/functions-host/config.ts";
import { waitUntilSettled as waitForIdle } from "../../local/shared/settle.ts";
import { createAmoCrmClient } from "../../supabase/functions/_shared/amocrm/mod.ts";
import { syncPipelines } from "../../supabase/functions/_shared/jobs/sync_pipelines.ts";
import { signWebhookUrl } from "../../supabase/functions/_shared/webhook/signature.ts";
import { parseWebhookSecrets } from "../../supabase/functions/_shared/webhook/secrets.ts";
import { deleteUserAccount } from "./delete_account.ts";

export type Sql = postgres.Sql;

export function connectDb(): Sql {
  const url = Deno.env.get("DATABASE_URL");
  if (!url) throw new Error("DATABASE_URL is not set: run through the test command (npm test)");
  return postgres(url, { prepare: false, max: 6, onnotice: () => {} });
}

/** The function secrets the test stack runs with (supabase/functions/.env.example). */
export function testFunctionEnv(): Promise<Record<string, string>> {
  return readDotEnv(new URL("../../supabase/functions/.env.example", import.meta.url).pathname);
}

export interface ConnectedAccount {
  userAccountId: string;
  connectionId: string;
  subdomain: string;
  destination: string;
  remove(): Promise<void>;
}

export async function connectSimulatedAccount(
  sql: Sql,
  sim: Simulator,
  /** subscribe: false connects without a webhook (amoCRM history made before the connect sends none). */
  opts: {
    functionsUrl: string;
    label: string;
    modes?: Partial<AccountModes>;
    subscribe?: boolean;
    /** The simulated account's currency and time zone (default RUB, Europe/Moscow). */
    currency?: string;
    timezone?: string;
  },
): Promise<ConnectedAccount> {
  const suffix = crypto.randomUUID().slice(0, 8);
  const subdomain = `e2e${suffix}`;
  const amocrmAccountId = 700_000_000 + Math.floor(Math.random() * 99_000_000);
  sim.createAccount({
    subdomain,
    accountId: amocrmAccountId,
    clientId: "amo-roi",
    clientSecret: "amo-roi-secret",
    redirectUri: "https://app.example/amocrm/callback",
    modes: opts.modes,
    currency: opts.currency,
    timezone: opts.timezone,
  });
  const token = sim.mintTokens(subdomain, { longLived: true, clientId: "amo-roi" });

  const [{ id: userAccountId }] = await sql`
    insert into public.user_accounts (name) values (${`${opts.label} ${suffix}`}) returning id`;
  const [{ id: connectionId }] = await sql`
    insert into amocrm.connections (user_account_id, subdomain, api_base_url, amocrm_account_id, token_kind,
      access_token, access_token_expires_at, state)
    values (${userAccountId}, ${subdomain}, ${
    sim.accountBaseUrl(subdomain)
  }, ${amocrmAccountId}, 'long_lived',
      ${token.access_token}, now() + interval '1 year', 'active')
    returning id`;

  const client = createAmoCrmClient({ connectionId, deps: { sql } });
  await syncPipelines(sql, client, userAccountId);
  // The first work stage after the entry stages is where a lead counts as qualified.
  await sql`
    update public.amocrm_pipeline_stages s set is_qualified_stage = true
    from (
      select pipeline_id, status_id, row_number() over (partition by pipeline_id order by sort_order) as n
      from public.amocrm_pipeline_stages where user_account_id = ${userAccountId} and status_id not in (142, 143)
    ) ranked
    where s.user_account_id = ${userAccountId} and s.pipeline_id = ranked.pipeline_id
      and s.status_id = ranked.status_id and ranked.n = 3`;

  if (opts.subscribe === false) {
    return {
      userAccountId,
      connectionId,
      subdomain,
      destination: "",
      remove: () => deleteUserAccount(sql, userAccountId),
    };
  }
  const env = await testFunctionEnv();
  const destination = signWebhookUrl(
    `${opts.functionsUrl}/amocrm-webhook`,
    userAccountId,
    parseWebhookSecrets(env.AMOCRM_WEBHOOK_SECRETS),
  );
  await client.subscribeWebhook({
    destination,
    settings: [
      "add_lead",
      "update_lead",
      "status_lead",
      "delete_lead",
      "restore_lead",
      "add_contact",
      "update_contact",
    ],
  });
  await sql`update amocrm.connections set webhook_destination = ${destination} where id = ${connectionId}`;

  return {
    userAccountId,
    connectionId,
    subdomain,
    destination,
    remove: () => deleteUserAccount(sql, userAccountId),
  };
}

/** Waits until the account's inbox and job queue are idle; fails with the jobs' state when they are not. */
export async function waitUntilSettled(sql: Sql, userAccountId: string, timeoutMs = 60_000): Promise<void> {
  if (await waitForIdle(sql, userAccountId, timeoutMs)) return;
  const jobs =
    await sql`select kind, state, attempts, last_error from amocrm.jobs where user_account_id = ${userAccountId}`;
  throw new Error(`not settled after ${timeoutMs} ms: ${JSON.stringify(jobs)}`);
}
