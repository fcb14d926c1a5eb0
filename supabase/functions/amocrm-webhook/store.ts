// Every statement the webhook function runs. The function only stores; applying events is SQL's job.
import type postgres from "postgres";
import type { ClaimedAccount } from "../_shared/webhook/parse.ts";

export type Sql = postgres.Sql;

/**
 * Text Postgres can store: U+0000 and unpaired surrogates (which text and jsonb refuse) become U+FFFD. Every
 * string the intake sends goes through this, so no body, reason or claimed value can turn a POST into a database
 * error — the one thing that answers 503 and makes amoCRM resend the same bytes.
 */
export function storableText(text: string): string {
  const noNul = text.includes("\0") ? text.replaceAll("\0", "\uFFFD") : text;
  return noNul.isWellFormed() ? noNul : noNul.toWellFormed();
}

/**
 * Postgres refused the values of a statement (SQLSTATE class 22, data exception; 54, program limit such as the
 * nesting depth of jsonb) rather than being unavailable: sending the same values again can never succeed.
 */
export function isRejectedContent(error: unknown): boolean {
  const code = String((error as { code?: unknown } | null)?.code ?? "");
  return code.startsWith("22") || code.startsWith("54");
}

/** Why the guard refused a POST, as far as the connection can tell. */
export interface ConnectionIdentity {
  /** Oldest key version still accepted for this connection's destination URL. */
  webhook_key_version: number;
  /** private.webhook_account_mismatch for the claimed account: why it is not this connection's (null = it is). */
  account_mismatch: string | null;
  /** The user disconnected it: it takes no more webhooks. */
  disconnected: boolean;
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

export interface AppliedSlice {
  /** Events applied or quarantined by this slice. */
  settled: number;
  /** Events of the row still pending (0 = the row is processed). */
  pending: number;
}

export interface WebhookStore {
  /** The connection, judged by the same rule as the guard (null = no connection for this user account). */
  findConnection(userAccountId: string, claimed: ClaimedAccount): Promise<ConnectionIdentity | null>;
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
  /**
   * Apply at most `maxEvents` pending events of each of these inbox rows, none after `budgetMs` per row
   * (private.apply_webhook_events_slices), in one statement; per row, in order: events applied or quarantined
   * now, and events still pending.
   */
  applySlices(inboxIds: readonly number[], maxEvents: number, budgetMs: number): Promise<AppliedSlice[]>;
  /**
   * Apply the rows still waiting, oldest first, of any account, until none is left or the budget is spent
   * (private.apply_pending_webhook_events, the cron backstop); resolves to how many events it applied.
   */
  applyPending(budgetMs: number): Promise<number>;
}

export function createWebhookStore(sql: Sql): WebhookStore {
  return {
    async findConnection(userAccountId, claimed) {
      const rows = await sql<ConnectionIdentity[]>`
        select webhook_key_version, state = 'disconnected' as disconnected,
               private.webhook_account_mismatch(amocrm_account_id, subdomain, ${
        nullableText(claimed.id)
      }::text,
                 ${nullableText(claimed.subdomain)}::text) as account_mismatch
          from amocrm.connections
         where user_account_id = ${userAccountId}::uuid`;
      return rows[0] ?? null;
    },
    async receiveIfConnected(request) {
      const r = storable(request);
      // Events go as text cast by the server: postgres.js would JSON-encode a string bound to a jsonb parameter
      // a second time, and the handler serializes (and vets) them itself. The account check is
      // private.webhook_account_mismatch, which findConnection() asks again to explain a refusal.
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
      const posts = requests.map(storable).map((r) =>
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
    async applySlices(inboxIds, maxEvents, budgetMs) {
      // The ids are numbers: the array literal is built here rather than by the driver.
      // One apply for all rows: their deals are locked up front together and the shared rows (jobs, rollups)
      // written once at the end, so concurrent appliers never lock in different orders.
      const rows = await sql<{ settled: number; pending: number }[]>`
        select s.applied + s.quarantined as settled, s.pending
          from private.apply_webhook_events_slices(${`{${
        inboxIds.join(",")
      }}`}::bigint[], ${maxEvents}::integer,
            make_interval(secs => ${budgetMs / 1000})) with ordinality as s
         order by s.ordinality`;
      await foldStageRollups(sql);
      return rows.map((row) => ({ settled: row.settled, pending: row.pending }));
    },
    async applyPending(budgetMs) {
      const [{ applied }] = await sql<{ applied: number }[]>`
        select private.apply_pending_webhook_events(make_interval(secs => ${budgetMs / 1000})) as applied`;
      return applied;
    },
  };
}

/**
 * Fold the leads the apply just marked into the stage rollups, in its own transaction (tiles already show the
 * change: they add what is not folded yet; folding keeps that part small). Best-effort: cron folds the rest.
 */
async function foldStageRollups(sql: postgres.Sql): Promise<void> {
  try {
    await sql`select private.analytics_stage_fold()`;
  } catch (error) {
    console.error(`stage rollup fold failed (cron retries): ${(error as Error).message}`);
  }
}

const nullableText = (text: string | null) => text === null ? null : storableText(text);

/** The request with every text field made storable (the events are vetted by the handler). */
function storable(r: ReceiveRequest): ReceiveRequest {
  return {
    ...r,
    claimedAccountId: nullableText(r.claimedAccountId),
    claimedSubdomain: nullableText(r.claimedSubdomain),
    contentType: nullableText(r.contentType),
    rawBody: storableText(r.rawBody),
    quarantineReason: nullableText(r.quarantineReason),
  };
}
