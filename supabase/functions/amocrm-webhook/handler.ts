// amoCRM webhook intake: authenticate the destination URL, parse the body, store raw body + canonical events
// durably, answer — then kick the apply step in the background. amoCRM waits at most 2 s and counts every
// non-2xx towards switching the webhook off, so only "we could not store it" (503) asks for a retry.
//
// Status codes: 405 not POST · 401 bad/missing sig (or a key version revoked for this connection) ·
// 404 no amoCRM connection for user_id · 410 the user disconnected it · 413 body over the limit · 403 the body's account[id]/[subdomain]
// differs from the connection · 503 database unavailable · 500 function misconfigured · 200 stored
// (including malformed bodies, stored as quarantined with the reason). A 503 means "retry", not "nothing was
// written": a store that outlives the deadline is not cancelled (it may share its statement with other POSTs)
// and can still commit; amoCRM's retry is then a redelivery, dropped by the event dedupe key.
// Any content of an authenticated POST is stored (quarantined with the reason if need be), never answered 503.
// Order: method, secrets, sig (no I/O) → declared size → body read + parse (no I/O; a big body in slices that
// take turns with other accounts' work, fair_turns.ts) → one statement that stores only if the connection
// matches (shared with the POSTs that arrive while it runs: receive_batcher.ts) → on refusal, a second query to
// tell 404 / 401 / 403 apart.
import { ApplyQueue } from "./apply_queue.ts";
import { ReceiveBatcher } from "./receive_batcher.ts";
import { FairTurns } from "./fair_turns.ts";
import { preparePost } from "./prepare.ts";
import { runToEnd } from "../_shared/webhook/steps.ts";
import type { WebhookSecrets } from "../_shared/webhook/secrets.ts";
import { signatureVerifier } from "../_shared/webhook/signature.ts";
import { isUuid } from "../_shared/uuid.ts";
import {
  type ConnectionIdentity,
  createWebhookStore,
  isRejectedContent,
  type ReceiveRequest,
  type ReceiveResult,
  type Sql,
  type WebhookStore,
} from "./store.ts";

export const MAX_BODY_BYTES = 1024 * 1024;
/** Bodies from this size on are parsed in slices of PARSE_SLICE_MS, round-robin across accounts (fair_turns.ts). */
export const SLICED_BODY_CHARS = 64 * 1024;
export const PARSE_SLICE_MS = 8;
/** Past this the database counts as unavailable: amoCRM gives up at 2 s, and a 503 earns more retries. */
export const DB_DEADLINE_MS = 1500;
/**
 * What one background apply statement does of one row at most: a bigger POST is applied in slices, taking turns
 * with the other accounts' POSTs, so their events wait for one slice, not for the whole POST.
 */
export const APPLY_SLICE_EVENTS = 250;
export const APPLY_SLICE_MS = 100;
/** One sweep statement's budget: one transaction, so it stays short (deals it locks wait for it). */
const SWEEP_BUDGET_MS = 1000;

export type LogEntry = Record<string, unknown>;

export interface WebhookHandlerDeps {
  /** postgres.js client (service role, `prepare: false`) for the intake itself. */
  sql: Sql;
  /** Client for the background apply; give it its own small pool so acks never queue behind it. Default: sql. */
  applySql?: Sql;
  /**
   * Background apply statements at once (default 1: two would lock the deals of different POSTs in different
   * orders; 0 = never kick, leave every event to the cron backstop) and the backlog beyond which kicks are
   * dropped and their rows swept once it drains (default 500).
   */
  applyConcurrency?: number;
  applyMaxBacklog?: number;
  /** Store statements in flight at once; POSTs arriving meanwhile share the next one (default 2). */
  receiveConcurrency?: number;
  /** The key ring, or why it could not be loaded (every request then answers 500). */
  secrets: WebhookSecrets | { error: string };
  /** Milliseconds, for durations only. */
  clock?: () => number;
  /** One structured line per request, plus background-apply problems. */
  log?: (entry: LogEntry) => void;
  /** Keeps the background apply alive after the response (EdgeRuntime.waitUntil on Supabase). */
  waitUntil?: (promise: Promise<unknown>) => void;
  maxBodyBytes?: number;
  dbDeadlineMs?: number;
}

type EdgeRuntimeGlobal = { EdgeRuntime?: { waitUntil(promise: Promise<unknown>): void } };

function defaultWaitUntil(promise: Promise<unknown>): void {
  const runtime = (globalThis as EdgeRuntimeGlobal).EdgeRuntime;
  // Without the edge runtime (local host, tests, bench) the promise simply runs on.
  if (runtime) runtime.waitUntil(promise);
}

class DeadlineExceeded extends Error {}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(`database did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Read at most `limit` bytes of the body; null when it is larger. */
async function readBody(req: Request, limit: number): Promise<string | null> {
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

const json = (status: number, body: unknown, headers?: HeadersInit) =>
  Response.json(body, { status, headers });

export function createWebhookHandler(deps: WebhookHandlerDeps): (req: Request) => Promise<Response> {
  const store: WebhookStore = createWebhookStore(deps.sql);
  const applyStore: WebhookStore = deps.applySql ? createWebhookStore(deps.applySql) : store;
  const clock = deps.clock ?? (() => performance.now());
  const log = deps.log ?? ((entry: LogEntry) => console.log(JSON.stringify(entry)));
  const waitUntil = deps.waitUntil ?? defaultWaitUntil;
  const maxBodyBytes = deps.maxBodyBytes ?? MAX_BODY_BYTES;
  const dbDeadlineMs = deps.dbDeadlineMs ?? DB_DEADLINE_MS;
  let applyMissingLoggedAt = Number.NEGATIVE_INFINITY;
  const verifySignature = deps.secrets instanceof Map ? signatureVerifier(deps.secrets) : null;
  const turns = new FairTurns(PARSE_SLICE_MS, clock);
  const receiver = new ReceiveBatcher({
    store,
    maxInFlight: deps.receiveConcurrency ?? 2,
    maxPosts: 100,
    maxChars: 2 * 1024 * 1024,
    largeChars: SLICED_BODY_CHARS,
  });

  const applyConcurrency = deps.applyConcurrency ?? 1;
  const applyQueue = new ApplyQueue({
    apply: (inboxIds, maxEvents) => applyStore.applySlices(inboxIds, maxEvents, APPLY_SLICE_MS),
    concurrency: applyConcurrency,
    maxBacklog: deps.applyMaxBacklog ?? 500,
    maxBatch: 50,
    sliceEvents: APPLY_SLICE_EVENTS,
    statementEvents: APPLY_SLICE_EVENTS,
    sweep: () => applyStore.applyPending(SWEEP_BUDGET_MS),
    maxSweepRounds: 10,
    onSwept: (events) => log({ fn: "amocrm-webhook", event: "apply_swept", events }),
    onError(inboxIds, error) {
      if (sqlState(error) === "42883") {
        // The apply function is not deployed yet: events stay pending for the cron backstop. Say so once a minute.
        const now = clock();
        if (now - applyMissingLoggedAt < 60_000) return;
        applyMissingLoggedAt = now;
      }
      log({
        fn: "amocrm-webhook",
        event: "apply_failed",
        inbox_ids: inboxIds,
        sqlstate: sqlState(error) ?? null,
        error: errorMessage(error),
      });
    },
  });

  return async function handleWebhook(req: Request): Promise<Response> {
    const started = clock();
    const entry: LogEntry = { fn: "amocrm-webhook", user_account_id: null };
    const finish = (
      status: number,
      outcome: string,
      body: unknown,
      extra: LogEntry = {},
      headers?: HeadersInit,
    ) => {
      log({ ...entry, ...extra, outcome, status, ms: Math.round((clock() - started) * 10) / 10 });
      return json(status, body, headers);
    };

    if (req.method !== "POST") {
      return finish(405, "method_not_allowed", { error: "use POST" }, { method: req.method }, {
        allow: "POST",
      });
    }
    if (verifySignature === null) {
      return finish(500, "misconfigured", { error: "webhook endpoint is not configured" }, {
        reason: (deps.secrets as { error: string }).error,
      });
    }

    const url = new URL(req.url);
    const requestedId = url.searchParams.get("user_id");
    if (!isUuid(requestedId)) {
      return finish(401, "unauthorized", { error: "invalid signature" }, {
        reason: "user_id missing or not a uuid",
      });
    }
    const userAccountId = requestedId.toLowerCase();
    entry.user_account_id = userAccountId;
    const signature = verifySignature(userAccountId, url.searchParams.get("sig"));
    if (!signature.ok) {
      return finish(401, "unauthorized", { error: "invalid signature" }, {
        reason: `sig ${signature.reason}`,
      });
    }
    entry.key_version = signature.keyVersion;

    const declaredLength = Number(req.headers.get("content-length") ?? "0");
    if (declaredLength > maxBodyBytes) {
      return finish(413, "too_large", { error: `body over ${maxBodyBytes} bytes` }, {
        bytes: declaredLength,
      });
    }

    let raw: string | null;
    try {
      raw = await readBody(req, maxBodyBytes);
    } catch (error) {
      // The sender went away mid-body: nothing to store, and nobody is listening for the answer.
      return finish(400, "body_read_failed", { error: "could not read body" }, {
        error: errorMessage(error),
      });
    }
    if (raw === null) return finish(413, "too_large", { error: `body over ${maxBodyBytes} bytes` });
    const contentType = req.headers.get("content-type");

    // A small body is parsed at once; a big one in slices, taking turns with the other accounts' work.
    const steps = preparePost(contentType, raw);
    const prepared = raw.length < SLICED_BODY_CHARS ? runToEnd(steps) : await turns.run(userAccountId, steps);
    let quarantineReason = prepared.quarantineReason;
    const { claimed, eventsJson } = prepared;
    entry.format = prepared.format;
    if (quarantineReason === null) {
      entry.events = prepared.eventCount;
      if (prepared.ignoredCompanies > 0) entry.ignored_companies = prepared.ignoredCompanies;
      if (prepared.ignored.length > 0) entry.ignored = prepared.ignored;
    }

    // One statement (shared with the POSTs that arrive meanwhile): stored only when the connection exists and
    // accepts this key version and account.
    const request = (events: string, reason: string | null): ReceiveRequest => ({
      userAccountId,
      keyVersion: signature.keyVersion,
      claimedAccountId: claimed.id,
      claimedSubdomain: claimed.subdomain,
      contentType,
      rawBody: raw, // the store makes every text storable (NUL, lone surrogates → U+FFFD)
      eventsJson: events,
      quarantineReason: reason,
    });
    let stored: ReceiveResult | null;
    const storeStarted = clock();
    try {
      const received = await withDeadline(
        receiver.receive(request(eventsJson, quarantineReason)),
        dbDeadlineMs,
      );
      // How long the store took, waiting for a statement included (the rest of `ms` is this process).
      entry.store_ms = Math.round((clock() - storeStarted) * 10) / 10;
      stored = received.result;
      if (received.batchSize > 1) entry.batch = received.batchSize;
    } catch (error) {
      // Postgres refused these values (a data exception, a nesting limit), it is not down: keep the raw body
      // as quarantined rather than make amoCRM resend something that can never be stored. Only the raw body
      // and a reason go the second time, both made storable by the store.
      if (!isRejectedContent(error)) {
        return finish(503, "db_unavailable", { error: "try again later" }, { error: errorMessage(error) });
      }
      quarantineReason = quarantineReason === null
        ? `database rejected the events: ${errorMessage(error)}`
        : `${quarantineReason} (database: ${errorMessage(error)})`;
      try {
        stored = await withDeadline(store.receiveIfConnected(request("[]", quarantineReason)), dbDeadlineMs);
      } catch (retryError) {
        return finish(503, "db_unavailable", { error: "try again later" }, {
          error: errorMessage(retryError),
        });
      }
    }

    if (stored === null) {
      // Nothing was written: say why (the rare path pays for a second query).
      let connection: ConnectionIdentity | null;
      try {
        connection = await withDeadline(store.findConnection(userAccountId, claimed), dbDeadlineMs);
      } catch (error) {
        return finish(503, "db_unavailable", { error: "try again later" }, { error: errorMessage(error) });
      }
      if (!connection) return finish(404, "unknown_account", { error: "unknown account" });
      // Any non-2xx counts towards amoCRM switching this now unwanted webhook off.
      if (connection.disconnected) return finish(410, "disconnected", { error: "account disconnected" });
      if (signature.keyVersion < connection.webhook_key_version) {
        return finish(401, "unauthorized", { error: "invalid signature" }, {
          reason: `key version ${signature.keyVersion} revoked for this connection`,
        });
      }
      // The guard's own rule (private.webhook_account_mismatch), asked again: the explanation cannot disagree.
      if (connection.account_mismatch !== null) {
        return finish(403, "account_mismatch", { error: "account does not match" }, {
          reason: connection.account_mismatch,
        });
      }
      // The connection changed between the two statements: let amoCRM try again.
      return finish(503, "connection_changed", { error: "try again later" });
    }

    const extra: LogEntry = { inbox_id: stored.inbox_id, events: stored.event_count };
    // Nothing parsed (a quarantined body, an ignored group) → nothing to apply. Redeliveries are dropped by
    // the apply step, which splits the stored events with their dedupe keys.
    if (stored.event_count > 0 && applyConcurrency > 0) {
      waitUntil(applyQueue.kick(stored.inbox_id, userAccountId, stored.event_count));
    }
    const dropped = applyQueue.takeDropped();
    if (dropped > 0) extra.apply_kicks_dropped = dropped;
    if (quarantineReason !== null) {
      return finish(200, "quarantined", { ok: true }, { ...extra, reason: quarantineReason });
    }
    return finish(200, "stored", { ok: true }, extra);
  };
}
