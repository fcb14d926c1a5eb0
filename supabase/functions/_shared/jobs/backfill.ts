// Cold start / backfill on connect: every lead of the account created up to the start time, live ones then the
// trash (amoCRM lists deleted leads only with `with=only_deleted`), then every deal the product knows by id
// (leads.amocrm_lead_id) that the scans did not bring, then the status history from the Events API, back as far
// as amoCRM keeps it (what happened before the connect: a deal that passed the qualified stage and then moved
// back or was lost is qualified, and the stage funnel includes the past). ONE page per backfill_page job,
// which queues the next one with the next cursor, so no single edge invocation runs long and a crash resumes
// at the page it was on. Recorded in amocrm.sync_runs (kind 'backfill'): cursor, pages, leads, errors.
//
// The scan pages by created_at (keyset: `filter[created_at][from]` + `order[created_at]=asc`), not by page
// number over a changing list: created_at never changes, so deals edited, created or deleted meanwhile cannot
// shift unread deals across a page boundary. A page whose deals all share one second moves on by page number.
//
// The start time is amoCRM's, never ours: the two clocks differ (an amoCRM clock ahead of ours once made a
// backfill bounded by our "now" import 0 of 6 deals). The first page takes it from the newest updated_at amoCRM
// returns — no deal that existed at the start was created after it, and every later change is newer.
import { type AmoCrmClient, type AmoLead, leadsPageSchema, type Sql } from "../amocrm/mod.ts";
import { fillStatusGaps } from "./events_gap_fill.ts";
import { applyLeadPage } from "./lead_page.ts";
import { readStartedAt } from "./read_clock.ts";

export const BACKFILL_PAGE_SIZE = 250;

export interface BackfillCursor {
  phase: "scan" | "trash" | "ids" | "events" | "done";
  /** scan: read deals created at or after this (unix s)… */
  created_from: number;
  /** …this page of them (> 1 only while a whole page shares one created_at second). */
  page: number;
  /** ids: product deal ids above this one are still to read. */
  after_id: number;
  /** Steps taken; a job whose step is not the run's current one is a stale duplicate. */
  step: number;
  /**
   * Upper bound of the scan (created_at, unix s): the backfill's start on amoCRM's clock; later deals are
   * reconcile's. null until the first page has asked amoCRM.
   */
  to: number | null;
  /** events: status events created up to this time (unix s) are still to read (newest first); default `to`. */
  events_to?: number;
}

export interface BackfillPageOutcome {
  runId: number;
  skipped?: string;
  phase?: BackfillCursor["phase"];
  leads?: number;
  /** events: status events read and applied. */
  events?: number;
  healed?: number;
  errors?: number;
  next?: BackfillCursor | null;
}

/** Opens a backfill run and queues its first page (one transaction, in SQL). */
export async function startBackfill(
  sql: Sql,
  userAccountId: string,
): Promise<{ runId: number; jobId: number }> {
  const [row] = await sql<{ run_id: string; job_id: string }[]>`
    select run_id::text, job_id::text from private.start_backfill(${userAccountId})`;
  return { runId: Number(row.run_id), jobId: Number(row.job_id) };
}

/** Where a scan continues after a page: live leads, then the trash from the start, then the ids phase. */
export function nextScanCursor(cursor: BackfillCursor, leads: AmoLead[]): BackfillCursor {
  const step = cursor.step + 1;
  if (leads.length < BACKFILL_PAGE_SIZE) {
    return cursor.phase === "scan"
      ? { ...cursor, phase: "trash", created_from: 0, page: 1, step }
      : { ...cursor, phase: "ids", step };
  }
  // Trash leads carry no created_at (the documented only_deleted model): the trash is read by page number.
  // A deal restored meanwhile can shift one past a page boundary; the ids phase reads the product's by id.
  if (cursor.phase === "trash") return { ...cursor, page: cursor.page + 1, step };
  const last = leads.reduce((max, lead) => Math.max(max, lead.created_at ?? 0), 0);
  // The deals of second `last` are read again from its start: applying a snapshot twice changes nothing.
  return last > cursor.created_from
    ? { ...cursor, created_from: last, page: 1, step }
    : { ...cursor, page: cursor.page + 1, step };
}

/**
 * amoCRM's "now" for the backfill's bound: the newest updated_at among its live and deleted leads (0 for an
 * empty account). A lower bound of its clock at this moment, read from amoCRM itself.
 */
export async function amocrmNow(client: AmoCrmClient): Promise<number> {
  let newest = 0;
  for (const withRelations of [undefined, "only_deleted"]) {
    const res = await client.request({
      method: "GET",
      path: "/api/v4/leads",
      query: { "order[updated_at]": "desc", limit: 1, with: withRelations },
      idempotent: true,
    });
    if (res.body === null) continue; // 204: none
    for (const lead of leadsPageSchema.parse(res.body)._embedded.leads) {
      newest = Math.max(newest, lead.updated_at);
    }
  }
  return newest;
}

async function scanPage(client: AmoCrmClient, cursor: BackfillCursor): Promise<AmoLead[]> {
  const res = await client.request({
    method: "GET",
    path: "/api/v4/leads",
    query: {
      "filter[created_at][from]": cursor.created_from,
      "filter[created_at][to]": cursor.to,
      "order[created_at]": "asc",
      with: cursor.phase === "trash" ? "contacts,only_deleted" : "contacts",
      limit: BACKFILL_PAGE_SIZE,
      page: cursor.page,
    },
    idempotent: true,
  });
  if (res.body === null) return []; // 204: past the last page
  return leadsPageSchema.parse(res.body)._embedded.leads;
}

interface IdsPage {
  ids: number[];
  live: AmoLead[];
  deleted: AmoLead[];
  /** Neither live nor in the trash: gone for good. */
  missing: number[];
}

/**
 * Product deals the mirror still has no state for (created after the scans' bound, or the product stored an id
 * the scans did not return), by id: live ones, then the trash, then what is left is gone.
 */
async function idsPage(sql: Sql, client: AmoCrmClient, userAccountId: string, cursor: BackfillCursor) {
  const rows = await sql<{ id: string }[]>`
    select id::text from private.backfill_missing_lead_ids(${userAccountId}, ${cursor.after_id}, ${BACKFILL_PAGE_SIZE}) id`;
  const ids = rows.map((r) => Number(r.id));
  const page: IdsPage = { ids, live: [], deleted: [], missing: [] };
  if (ids.length === 0) return page;
  page.live = await client.getLeadsByIds(ids, { with: ["contacts"] });
  const seen = new Set(page.live.map((l) => l.id));
  const notLive = ids.filter((id) => !seen.has(id));
  if (notLive.length > 0) {
    page.deleted = await client.getLeadsByIds(notLive, { with: ["contacts", "only_deleted"] });
  }
  for (const lead of page.deleted) seen.add(lead.id);
  page.missing = ids.filter((id) => !seen.has(id));
  return page;
}

/** The run's cursor, or why this job must not run (the run ended, or another job already took this step). */
async function currentCursor(
  sql: Sql,
  runId: number,
  expectedStep: number,
): Promise<BackfillCursor | string> {
  const [run] = await sql<{ state: string; cursor: BackfillCursor }[]>`
    select state, cursor from amocrm.sync_runs where id = ${runId} and kind = 'backfill'`;
  if (!run) return "run not found";
  if (run.state !== "running") return `run is ${run.state}`;
  if (run.cursor.step !== expectedStep) {
    return `step ${expectedStep} already done (run is at ${run.cursor.step})`;
  }
  return run.cursor;
}

/** One backfill_page job: read one page, apply it, record it and queue the next step — or finish the run. */
export async function runBackfillPage(
  sql: Sql,
  client: AmoCrmClient,
  userAccountId: string,
  payload: { run_id?: unknown; cursor?: Partial<BackfillCursor> },
): Promise<BackfillPageOutcome> {
  const runId = Number(payload.run_id);
  if (!Number.isSafeInteger(runId)) throw new Error("backfill_page job without run_id");
  const cursor = await currentCursor(sql, runId, Number(payload.cursor?.step ?? 0));
  if (typeof cursor === "string") return { runId, skipped: cursor };

  try {
    let leads: AmoLead[] = [];
    let missing: number[] = [];
    let next: BackfillCursor;
    let events = 0;
    let eventsHealed = 0;
    const readAt = await readStartedAt(sql);
    if (cursor.to === null) cursor.to = await amocrmNow(client);
    if (cursor.phase === "scan" || cursor.phase === "trash") {
      leads = await scanPage(client, cursor);
      next = nextScanCursor(cursor, leads);
    } else if (cursor.phase === "ids") {
      const page = await idsPage(sql, client, userAccountId, cursor);
      leads = [...page.live, ...page.deleted];
      missing = page.missing;
      next = page.ids.length < BACKFILL_PAGE_SIZE
        ? { ...cursor, phase: "events", step: cursor.step + 1 }
        : { ...cursor, after_id: page.ids[page.ids.length - 1], step: cursor.step + 1 };
    } else {
      // Status history from the beginning up to the start (newest first), as much as fits this job.
      const to = cursor.events_to ?? cursor.to;
      const filled = await fillStatusGaps(sql, client, userAccountId, { from: 0, to }, Date.now() + 30_000);
      events = filled.events;
      eventsHealed = filled.healed.length;
      next = filled.complete || filled.oldest === 0
        ? { ...cursor, phase: "done", step: cursor.step + 1 }
        // The next job reads from the oldest second this one reached (again: re-applying is harmless).
        : { ...cursor, events_to: filled.oldest < to ? filled.oldest : to - 1, step: cursor.step + 1 };
    }
    const applied = await applyLeadPage(sql, client, userAccountId, leads, readAt);

    await sql.begin(async (tx) => {
      // GUARD: a duplicate job for this step that got here first wins; this one changes nothing.
      const [locked] = await tx<{ step: number }[]>`
        select (cursor ->> 'step')::int as step from amocrm.sync_runs where id = ${runId} for update`;
      if (locked?.step !== cursor.step) return;
      for (const id of missing) {
        await tx`select private.mark_deal_missing(${userAccountId}, ${id}, ${readAt})`;
      }
      const done = next.phase === "done";
      // Both the leads and the status events were read up to the start: the reconcile takes over from there.
      const cursorUpdate = done ? { ...next, high_water: next.to, events_high_water: next.to } : next;
      await tx`select private.record_sync_progress(${runId}, ${tx.json(cursorUpdate as never)}, 1,
        ${applied.leads}, ${applied.healed.length + eventsHealed}, ${applied.errors.length},
        ${tx.json(applied.errors.length ? { last_errors: applied.errors.slice(0, 5) } : {})})`;
      if (done) {
        await tx`select private.finish_sync_run(${runId})`;
      } else {
        await tx`select private.enqueue_job('backfill_page', ${userAccountId},
          ${tx.json({ run_id: runId, cursor: next } as never)}, ${"backfill:" + runId})`;
      }
    });
    return {
      runId,
      phase: cursor.phase,
      leads: applied.leads,
      events,
      healed: applied.healed.length + eventsHealed,
      errors: applied.errors.length,
      next: next.phase === "done" ? null : next,
    };
  } catch (error) {
    // The job is retried with backoff; the run shows why it is not moving meanwhile.
    await sql`update amocrm.sync_runs set errors = errors + 1, last_error = ${
      String(error)
    } where id = ${runId}`;
    throw error;
  }
}
