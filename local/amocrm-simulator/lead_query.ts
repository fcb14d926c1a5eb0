import { child, inRange, intList, intRange, type Query, stringList, withSet } from "./query_params.ts";
import type { Lead } from "./types.ts";

export interface LeadListQuery {
  ids: Set<number> | null;
  updatedAt: { from?: number; to?: number } | null;
  createdAt: { from?: number; to?: number } | null;
  closedAt: { from?: number; to?: number } | null;
  pipelineIds: Set<number> | null;
  statuses: { pipeline_id: number; status_id: number }[] | null;
  /** `with=only_deleted`: the trash instead of live leads. */
  onlyDeleted: boolean;
  order: { field: "id" | "created_at" | "updated_at"; direction: "asc" | "desc" };
}

/** Reads amoCRM's lead list filters from a parsed query. */
export function parseLeadListQuery(query: Query): LeadListQuery {
  const filter = query.filter;
  const ids = intList(child(filter, "id"));
  const pipelineIds = intList(child(filter, "pipeline_id"));
  const statusesValue = child(filter, "statuses");
  const statusEntries = statusesValue === undefined || typeof statusesValue === "string"
    ? []
    : Array.isArray(statusesValue)
    ? statusesValue
    : Object.values(statusesValue);
  const statuses = statusEntries
    .map((entry) => ({
      pipeline_id: Number(stringList(child(entry, "pipeline_id"))[0]),
      status_id: Number(stringList(child(entry, "status_id"))[0]),
    }))
    .filter((entry) => Number.isInteger(entry.pipeline_id) && Number.isInteger(entry.status_id));
  const order = query.order;
  let orderSpec: LeadListQuery["order"] = { field: "id", direction: "asc" };
  if (order !== undefined && typeof order === "object" && !Array.isArray(order)) {
    for (const field of ["updated_at", "created_at", "id"] as const) {
      const direction = order[field];
      if (direction === "asc" || direction === "desc") {
        orderSpec = { field, direction };
        break;
      }
    }
  }
  return {
    ids: ids.length > 0 ? new Set(ids) : null,
    updatedAt: intRange(child(filter, "updated_at")),
    createdAt: intRange(child(filter, "created_at")),
    closedAt: intRange(child(filter, "closed_at")),
    pipelineIds: pipelineIds.length > 0 ? new Set(pipelineIds) : null,
    statuses: statuses.length > 0 ? statuses : null,
    onlyDeleted: withSet(query.with).has("only_deleted"),
    order: orderSpec,
  };
}

/** Filters and orders leads; ties always break by id so paging is stable. */
export function selectLeads(leads: Iterable<Lead>, query: LeadListQuery): Lead[] {
  const selected: Lead[] = [];
  for (const lead of leads) {
    if (lead.is_deleted !== query.onlyDeleted) continue;
    if (query.ids && !query.ids.has(lead.id)) continue;
    if (!inRange(lead.updated_at, query.updatedAt) || !inRange(lead.created_at, query.createdAt)) continue;
    if (query.closedAt && (lead.closed_at === null || !inRange(lead.closed_at, query.closedAt))) continue;
    if (query.pipelineIds && !query.pipelineIds.has(lead.pipeline_id)) continue;
    if (
      query.statuses &&
      !query.statuses.some((entry) =>
        entry.pipeline_id === lead.pipeline_id && entry.status_id === lead.status_id
      )
    ) continue;
    selected.push(lead);
  }
  const { field, direction } = query.order;
  const sign = direction === "asc" ? 1 : -1;
  return selected.sort((a, b) => (a[field] - b[field]) * sign || (a.id - b.id) * sign);
}
