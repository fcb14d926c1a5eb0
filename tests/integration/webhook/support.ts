// Test accounts for the webhook integration tests: a user account + amoCRM connection with unique ids,
// removed again (cascading to inbox, events and anything the apply step derived) by cleanup().
import postgres from "postgres";
import { deleteUserAccount } from "../../support/delete_account.ts";
import type { ReceiveRequest } from "../../../supabase/functions/amocrm-webhook/store.ts";
import { FORM } from "../../unit/webhook/helpers.ts";

export const DB_URL = Deno.env.get("DATABASE_URL");

export type Sql = postgres.Sql;

export function connect(): Sql {
  return postgres(DB_URL!, { prepare: false, max: 4, onnotice: () => {} });
}

export interface TestAccount {
  userAccountId: string;
  subdomain: string;
  amocrmAccountId: number;
}

export async function createTestAccount(sql: Sql, label: string): Promise<TestAccount> {
  const suffix = crypto.randomUUID().slice(0, 8);
  const amocrmAccountId = 900_000_000 + Math.floor(Math.random() * 99_000_000);
  const [{ id }] = await sql<{ id: string }[]>`
    insert into public.user_accounts (name) values (${`webhook-test ${label} ${suffix}`}) returning id`;
  const subdomain = `wh${suffix}`;
  await sql`
    insert into amocrm.connections (user_account_id, subdomain, amocrm_account_id, state)
    values (${id}, ${subdomain}, ${amocrmAccountId}, 'active')`;
  return { userAccountId: id, subdomain, amocrmAccountId };
}

/** A form POST as the handler hands it to the store (no claimed account, not quarantined). */
export function receiveRequest(
  userAccountId: string,
  rawBody: string,
  eventsJson = "[]",
  keyVersion = 1,
): ReceiveRequest {
  return {
    userAccountId,
    keyVersion,
    claimedAccountId: null,
    claimedSubdomain: null,
    contentType: FORM,
    rawBody,
    eventsJson,
    quarantineReason: null,
  };
}

/** Delete the account and everything hanging off it. */
export function cleanup(sql: Sql, account: TestAccount): Promise<void> {
  return deleteUserAccount(sql, account.userAccountId);
}

export interface InboxRow {
  id: string;
  state: string;
  error: string | null;
  event_count: number;
  content_type: string | null;
  raw_body: string;
  /** The parsed events stored with the raw body (the apply step splits them into webhook_events). */
  events: { entity: string; action: string; amocrm_id: number; amocrm_ts: number }[];
}

export async function inboxRows(sql: Sql, userAccountId: string): Promise<InboxRow[]> {
  return await sql<InboxRow[]>`
    select id::text, state, error, event_count, content_type, raw_body, events
      from amocrm.webhook_inbox where user_account_id = ${userAccountId}::uuid order by id`;
}

export interface EventRow {
  inbox_id: string;
  entity: string;
  action: string;
  amocrm_id: string;
  amocrm_ts: string;
  dedupe_key: string;
  payload: Record<string, unknown>;
  state: string;
}

export async function eventRows(sql: Sql, userAccountId: string): Promise<EventRow[]> {
  return await sql<EventRow[]>`
    select inbox_id::text, entity, action, amocrm_id::text, amocrm_ts::text, dedupe_key, payload, state
      from amocrm.webhook_events where user_account_id = ${userAccountId}::uuid order by id`;
}

/** A captured 2025 body rewritten to come from the test account. */
export function fixtureFor(name: string, account: TestAccount): string {
  const raw = Deno.readTextFileSync(new URL(`../../fixtures/amocrm/webhooks/${name}`, import.meta.url));
  return raw
    .replaceAll("account%5Bsubdomain%5D=unirock", `account%5Bsubdomain%5D=${account.subdomain}`)
    .replaceAll("account%5Bid%5D=16700680", `account%5Bid%5D=${account.amocrmAccountId}`)
    .replaceAll("unirock.amocrm.ru", `${account.subdomain}.amocrm.ru`);
}
