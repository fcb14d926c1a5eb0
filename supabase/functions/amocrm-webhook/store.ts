// Every statement the webhook function runs. The function only stores; applying events is SQL's job.
import type postgres from "postgres";

export type Sql = postgres.Sql;

/** What the function needs to know about a user account's amoCRM connection. */
export interface ConnectionIdentity {
  subdomain: string;
  /** bigint as text; null until the connect flow learned the account id. */
  amocrm_account_id: string | null;
  /** Oldest key version still accepted for this connection's destination URL. */
  webhook_key_version: number;
}

export interface ReceiveResult {
  inbox_id: number;
  /** Events parsed from the body and stored with it (redeliveries included: the apply step drops those). */
  event_count: number;
}

export interface ReceiveRequest {
  userAccountId: string;
  /** Key version of the URL's sig: must be ≥ the connection's webhook_key_version. */
  keyVersion: number;
  /** What the body says about its account (null = says nothing / could not be parsed). */
  claimedAccountId: string | null;
  claimedSubdomain: string | null;
  contentType: string | null;
  rawBody: string;
  eventsJson: string;
  quarantineReason: string | null;
}

export interface WebhookStore {
  findConnection(userAccountId: string): Promise<ConnectionIdentity | null>;
  /**
   * Store the POST (private.receive_webhook) only if the user account has a connection that accepts this key
   * version and the claimed account — in one round trip. null = nothing stored; findConnection() tells why.
   */
  receiveIfConnected(request: ReceiveRequest): Promise<ReceiveResult | null>;
  /**
   * The same for several POSTs in one statement and one transaction (private.receive_webhooks): one result per
   * request, in order. A database error fails them all.
   */
  receiveManyIfConnected(requests: readonly ReceiveRequest[]): Promise<(ReceiveResult | null)[]>;
  /** Apply the stored events of these inbox rows (private.apply_webhook_events), in one statement. */
  apply(inboxIds: readonly number[]): Promise<void>;
  /**
   * Apply the rows still waiting, oldest first, of any account, until none is left or the budget is spent
   * (private.apply_pending_webhook_events, the cron backstop); resolves to how many events it applied.
   */
  applyPending(budgetMs: number): Promise<number>;
}

export function createWebhookStore(sql: Sql): WebhookStore {
  return {
    async findConnection(userAccountId) {
      const rows = await sql<ConnectionIdentity[]>`
        select subdomain, amocrm_account_id::text as amocrm_account_id, webhook_key_version
          from amocrm.connections
         where user_account_id = ${userAccountId}::uuid`;
      return rows[0] ?? null;
    },
    async receiveIfConnected(r) {
      // Events go as text cast by the server: postgres.js would JSON-encode a string bound to a jsonb parameter
      // a second time, and the handler serializes (and vets) them itself. Keep the conditions of the SQL
      // function in step with accountMismatch() in handler.ts, which explains a refusal.
      const rows = await sql<{ inbox_id: string; event_count: number }[]>`
        select inbox_id::text as inbox_id, event_count
          from private.receive_webhook_if_connected(${r.userAccountId}::uuid, ${r.keyVersion}::integer,
            ${r.claimedAccountId}::text, ${r.claimedSubdomain}::text, ${r.contentType}::text, ${r.rawBody}::text,
            ${r.eventsJson}::text::jsonb, ${r.quarantineReason}::text)`;
      const row = rows[0];
      if (!row) return null;
      return {
        inbox_id: Number(row.inbox_id),
        event_count: row.event_count,
      };
    },
    async receiveManyIfConnected(requests) {
      // One JSON document; the events are spliced in already serialized (see receiveIfConnected).
      const posts = requests.map((r) =>
        `{"user_account_id":${JSON.stringify(r.userAccountId)},"key_version":${r.keyVersion},` +
        `"claimed_account_id":${JSON.stringify(r.claimedAccountId)},` +
        `"claimed_subdomain":${JSON.stringify(r.claimedSubdomain)},"content_type":${
          JSON.stringify(r.contentType)
        },` +
        `"raw_body":${JSON.stringify(r.rawBody)},"events":${r.eventsJson},` +
        `"quarantine_reason":${JSON.stringify(r.quarantineReason)}}`
      );
      const rows = await sql<{ post_index: number; inbox_id: string; event_count: number }[]>`
        select post_index, inbox_id::text as inbox_id, event_count
          from private.receive_webhooks(${`[${posts.join(",")}]`}::text::jsonb)`;
      const results: (ReceiveResult | null)[] = requests.map(() => null);
      for (const row of rows) {
        results[row.post_index] = { inbox_id: Number(row.inbox_id), event_count: row.event_count };
      }
      return results;
    },
    async apply(inboxIds) {
      // The ids are numbers: the array literal is built here rather than by the driver.
      await sql`
        select private.apply_webhook_events(x.id)
          from unnest(${`{${inboxIds.join(",")}}`}::bigint[]) with ordinality as x (id, n)
         order by x.n`;
    },
    async applyPending(budgetMs) {
      const [{ applied }] = await sql<{ applied: number }[]>`
        select private.apply_pending_webhook_events(make_interval(secs => ${budgetMs / 1000})) as applied`;
      return applied;
    },
  };
}
