import { pageLinks, paginate, parseLimit, parsePage } from "../pagination.ts";
import { child, inRange, intList, intRange, stringList } from "../query_params.ts";
import { hal, noContent } from "../responses.ts";
import { eventJson } from "../rest_views.ts";
import type { ApiRequest } from "./api_request.ts";

export const MAX_EVENTS_PER_PAGE = 100;

/**
 * GET /api/v4/events — `filter[type][]`, `filter[entity][]`, `filter[entity_id][]`, `filter[created_at][from|to]`;
 * newest first; limit ≤ 100; 204 when empty.
 */
export function listEvents(req: ApiRequest): Response {
  const { account, query } = req;
  const filter = query.filter;
  const types = new Set(stringList(child(filter, "type")));
  const entities = new Set(stringList(child(filter, "entity")));
  const entityIds = new Set(intList(child(filter, "entity_id")));
  const createdAt = intRange(child(filter, "created_at"));
  const limit = parseLimit(query.limit, MAX_EVENTS_PER_PAGE, MAX_EVENTS_PER_PAGE);
  const page = parsePage(query.page);
  const events = account.store.events
    .filter((event) =>
      (types.size === 0 || types.has(event.type)) &&
      (entities.size === 0 || entities.has(event.entity_type)) &&
      (entityIds.size === 0 || entityIds.has(event.entity_id)) &&
      inRange(event.created_at, createdAt)
    )
    .reverse();
  const { pageItems, hasNext } = paginate(events, page, limit);
  if (pageItems.length === 0) return noContent();
  return hal({
    _page: page,
    _links: pageLinks(`${account.baseUrl}/api/v4/events`, req.rawSearch, page, limit, hasNext, account.modes),
    _embedded: { events: pageItems.map((event) => eventJson(account, event)) },
  });
}
