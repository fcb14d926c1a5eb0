// Reconciliation: what webhooks missed, read back from the API. Leads updated since the watermark, oldest
// first (`filter[updated_at][from]` + `order[updated_at]=asc`, the only order that makes an incremental read
// resumable), live ones and the trash (a lost delete webhook leaves a deal alive otherwise), through the same
// SQL apply path as the API confirmation; then the Events API fills the status history gaps of the window.
// The run is recorded in amocrm.sync_runs: pages, leads, healed deals, and the high-water the next run
// starts from. A run that hits its time budget stops at a page boundary and queues its own continuation.
import type { AmoCrmClient, Sql } from "../amocrm/mod.ts";
import { fillStatusGaps, type GapFillResult } from "./events_gap_fill.ts";
import { applyLeadPage } from "./lead_page.ts";
import { readStartedAt } from "./read_clock.ts";

const LEADS_PAGE_SIZE = 250;
/** Same-second writes and clock skew: each window starts this long before the last one ended. */
const OVERLAP_SECONDS = 600;

export type ReconcileMode = "incremental" | "full";
export const RECONCILE_MODES: readonly ReconcileMode[] = ["incremental", "full"];

export interface ReconcileOptions {
  mode?: ReconcileMode;
  /** Stop reading new pages after this long (edge functions have a wall-clock limit). */
  budgetMs?: number;
}

export interface ReconcileReport {
  runId: number;
  mode: ReconcileMode;
  from: number;
  highWater: number;
  eventsFrom: number;
  eventsHighWater: number;
  pages: number;
  leads: number;
  healed: number;
  errors: number;
  events: Omit<GapFillResult, "healed"> | null;
  complete: boolean;
  /** The job that continues an incomplete run. */
  continuationJobId: number | null;
}

interface LeadsPass {
  pages: number;
  leads: number;
  healed: Set<number>;
  errors: number;
  /** Everything up to this updated_at was read and applied (both streams, below any failed lead). */
  reached: number;
  complete: boolean;
}

/** Newest updated_at read by an ascending stream, or +∞ when it was read to the end. */
type StreamMark = { maxSeen: number; complete: boolean };

async function readUpdatedLeads(
  sql: Sql,
  client: AmoCrmClient,
  userAccountId: string,
  runId: number,
  from: number,
  deadline: number,
): Promise<LeadsPass> {
  const pass: LeadsPass = { pages: 0, leads: 0, healed: new Set(), errors: 0, reached: 0, complete: true };
  const marks: StreamMark[] = [];
  let errorFloor = Number.POSITIVE_INFINITY;
  // The trash first (amoCRM lists deleted leads only with `with=only_deleted`; a lost delete webhook leaves
  // a deal alive otherwise): it is small, so a run short of time still finishes it and makes progress.
  for (const withRelations of [["contacts", "only_deleted"], ["contacts"]]) {
    const mark: StreamMark = { maxSeen: from, complete: pass.complete };
    marks.push(mark);
    if (!pass.complete) break;
    // Pages are fetched lazily, each after the previous one was applied: the end of one loop body is a time
    // no later than the next read's start.
    let readAt = await readStartedAt(sql);
    for await (const leads of client.iterateLeadsUpdated({ from, with: withRelations })) {
      const page = await applyLeadPage(sql, client, userAccountId, leads, readAt);
      pass.pages++;
      pass.leads += page.leads;
      pass.errors += page.errors.length;
      for (const id of page.healed) pass.healed.add(id);
      for (const lead of leads) mark.maxSeen = Math.max(mark.maxSeen, lead.updated_at);
      for (const failed of page.errors) errorFloor = Math.min(errorFloor, failed.updatedAt);
      await sql`select private.record_sync_progress(${runId}, '{}'::jsonb, 1, ${page.leads},
        ${page.healed.length}, ${page.errors.length})`;
      // A short page is the last one: only a full page with time up leaves the rest unread.
      if (Date.now() >= deadline && leads.length >= LEADS_PAGE_SIZE) {
        mark.complete = false;
        pass.complete = false;
        break;
      }
      readAt = await readStartedAt(sql);
    }
  }
  const newest = Math.max(...marks.map((m) => m.maxSeen));
  const safe = Math.min(...marks.map((m) => m.complete ? Number.POSITIVE_INFINITY : m.maxSeen));
  pass.reached = Math.min(newest, safe, errorFloor - 1);
  return pass;
}

/** High-waters only move forward: a run that read less than an earlier one keeps the earlier mark. */
export function advance(previous: number, reached: number, complete = true): number {
  return complete ? Math.max(previous, reached) : previous;
}

export async function reconcileAccount(
  sql: Sql,
  client: AmoCrmClient,
  userAccountId: string,
  opts: ReconcileOptions = {},
): Promise<ReconcileReport> {
  const mode = opts.mode ?? "incremental";
  const budgetMs = opts.budgetMs ?? 100_000;
  const started = Date.now();
  const [marks] = await sql<{ from: string; previous: string; events_previous: string }[]>`
    select private.reconcile_watermark(${userAccountId}, make_interval(secs => ${OVERLAP_SECONDS}))::text as from,
           private.reconcile_high_water(${userAccountId})::text as previous,
           private.reconcile_events_high_water(${userAccountId})::text as events_previous`;
  const previous = Number(marks.previous);
  const eventsPrevious = Number(marks.events_previous);
  const fromTs = mode === "full" ? 0 : Number(marks.from);
  const eventsFrom = mode === "full" || eventsPrevious === 0
    ? 0
    : Math.max(0, eventsPrevious - OVERLAP_SECONDS);
  const [{ id }] = await sql<{ id: string }[]>`
    select private.start_sync_run(${userAccountId}, 'reconcile',
      ${sql.json({ mode, from: fromTs, events_from: eventsFrom })})::text as id`;
  const runId = Number(id);
  try {
    // Most of the budget for the leads, the rest for the events. Either order converges (a snapshot's guessed
    // transition is dropped once the real one is in history, whichever comes first).
    const pass = await readUpdatedLeads(sql, client, userAccountId, runId, fromTs, started + budgetMs * 0.7);
    const events = await fillStatusGaps(sql, client, userAccountId, { from: eventsFrom }, started + budgetMs);
    const healed = new Set([...pass.healed, ...events.healed]);
    const highWater = advance(previous, pass.reached);
    // The newest lead change read bounds the events that exist for what was read.
    const eventsHighWater = advance(eventsPrevious, Math.max(events.newest, pass.reached), events.complete);
    const complete = pass.complete && events.complete;
    const { healed: _ids, ...eventCounts } = events;
    await sql`select private.record_sync_progress(${runId},
      ${sql.json({ high_water: highWater, events_high_water: eventsHighWater })}, 0, 0,
      ${healed.size - pass.healed.size}, 0, ${sql.json({ events: eventCounts, complete })})`;
    await sql`select private.finish_sync_run(${runId})`;
    let continuationJobId: number | null = null;
    if (!complete && (highWater > previous || eventsHighWater > eventsPrevious)) {
      // Not waiting six hours for the rest: the worker picks this up within a minute. A run that made no
      // progress queues nothing (it would only loop); the next cron run tries again.
      continuationJobId = await enqueueReconcile(sql, userAccountId, { reason: "continuation" });
    }
    return {
      runId,
      mode,
      from: fromTs,
      highWater,
      eventsFrom,
      eventsHighWater,
      pages: pass.pages,
      leads: pass.leads,
      healed: healed.size,
      errors: pass.errors,
      events: eventCounts,
      complete,
      continuationJobId,
    };
  } catch (error) {
    await sql`select private.finish_sync_run(${runId}, ${String(error)})`;
    throw error;
  }
}

/**
 * Queues a reconcile of one account (merged with one already queued), incremental unless told otherwise. An
 * incremental window starts at the high-water of the last finished run, so it covers any stretch in which
 * intake or the API was down.
 */
export async function enqueueReconcile(
  sql: Sql,
  userAccountId: string,
  opts: { reason?: string; mode?: ReconcileMode } = {},
): Promise<number> {
  const payload = { mode: opts.mode ?? "incremental", reason: opts.reason };
  const [{ job }] = await sql<{ job: string }[]>`
    select private.enqueue_job('reconcile', ${userAccountId}, ${sql.json(payload)},
      ${"reconcile:" + userAccountId})::text as job`;
  return Number(job);
}
