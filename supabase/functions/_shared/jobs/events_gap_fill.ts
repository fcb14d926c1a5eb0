// Missed transitions from the Events API. A lost status webhook leaves the deal's current stage to the
// snapshot, but the history (which stage, from where, when — what qualification and the stage funnel read)
// only the Events API can give back: lead_status_changed carries the real old and new pipeline/status and
// the real time, lead_added the creation time (the stage it was created in is derived in SQL from the moves
// after it, so lead_added events are applied last). entity_merged (amoCRM's duplicate control merged two
// deals) moves the absorbed deal's product lead onto the survivor (private.apply_merge_event). Each page goes to
// SQL in one call.
import type { AmoCrmClient, AmoEvent, Sql } from "../amocrm/mod.ts";

export const STATUS_EVENT_TYPES = ["lead_status_changed", "lead_added"];
export const MERGE_EVENT_TYPES = ["entity_merged"];
const EVENTS_PAGE_SIZE = 100;

export interface GapFillWindow {
  /** Unix seconds, inclusive. */
  from: number;
  to?: number;
}

export interface GapFillResult {
  events: number;
  pages: number;
  inserted: number;
  corrected: number;
  /** Deals whose history gained or corrected a transition. */
  healed: number[];
  /** Newest created_at among the events read (0 = none). */
  newest: number;
  /** Oldest created_at among the events read (0 = none): pages come newest first, so a pass cut short read down to here. */
  oldest: number;
  /** False when the time budget ran out before the last page. */
  complete: boolean;
}

export async function fillStatusGaps(
  sql: Sql,
  client: AmoCrmClient,
  userAccountId: string,
  window: GapFillWindow,
  deadline = Number.POSITIVE_INFINITY,
): Promise<GapFillResult> {
  const result: GapFillResult = {
    events: 0,
    pages: 0,
    inserted: 0,
    corrected: 0,
    healed: [],
    newest: 0,
    oldest: 0,
    complete: true,
  };
  const healed = new Set<number>();
  const apply = async (events: AmoEvent[]) => {
    const rows = await sql<{ deal_id: string; outcome: string }[]>`
      select (e ->> 'entity_id') as deal_id,
        case when e ->> 'type' = 'entity_merged' then private.apply_merge_event(${userAccountId}, e)
          else private.apply_status_change_event(${userAccountId}, e) end as outcome
      from jsonb_array_elements(${sql.json(events as never)}) e
      -- Merges last: the status history of the page is in place first.
      order by e ->> 'type' = 'entity_merged'`;
    for (const row of rows) {
      if (row.outcome === "inserted") result.inserted++;
      if (row.outcome === "corrected") result.corrected++;
      if (row.outcome === "inserted" || row.outcome === "corrected" || row.outcome === "followed") {
        healed.add(Number(row.deal_id));
      }
    }
  };
  // lead_added carries no stage (amoCRM's events page: value_after [{note: {id}}]); SQL places the deal where
  // its first later move started. So every move of the window goes in first, whatever order pages come in.
  const added: AmoEvent[] = [];
  const pages = client.iterateEvents({
    types: [...STATUS_EVENT_TYPES, ...MERGE_EVENT_TYPES],
    entities: ["lead"],
    createdFrom: window.from,
    createdTo: window.to,
  });
  for await (const events of pages) {
    result.pages++;
    result.events += events.length;
    for (const event of events) {
      result.newest = Math.max(result.newest, event.created_at);
      result.oldest = result.oldest === 0 ? event.created_at : Math.min(result.oldest, event.created_at);
    }
    await apply(events.filter((event) => event.type !== "lead_added"));
    added.push(...events.filter((event) => event.type === "lead_added"));
    // A short page is the last one: only a full page with time up leaves the rest unread.
    if (Date.now() >= deadline && events.length >= EVENTS_PAGE_SIZE) {
      result.complete = false;
      break;
    }
  }
  // An incomplete window is read again from the same start, lead_added events included.
  if (result.complete) {
    for (let i = 0; i < added.length; i += EVENTS_PAGE_SIZE) {
      await apply(added.slice(i, i + EVENTS_PAGE_SIZE));
    }
  }
  result.healed = [...healed];
  return result;
}
