import { parseLeadListQuery, selectLeads } from "../lead_query.ts";
import { pageLinks, paginate, parseLimit, parsePage } from "../pagination.ts";
import { withSet } from "../query_params.ts";
import { hal, noContent } from "../responses.ts";
import { leadJson, trashLeadJson } from "../rest_views.ts";
import type { ApiRequest } from "./api_request.ts";

export const MAX_LEADS_PER_PAGE = 250;

/** GET /api/v4/leads — filters, order, paging; 204 when the page is empty. */
export function listLeads(req: ApiRequest): Response {
  const { account, query } = req;
  const limit = parseLimit(query.limit, MAX_LEADS_PER_PAGE, 50);
  const page = parsePage(query.page);
  const leadQuery = parseLeadListQuery(query);
  const leads = selectLeads(account.store.leads.values(), leadQuery);
  const { pageItems, hasNext } = paginate(leads, page, limit);
  if (pageItems.length === 0) return noContent();
  const withContacts = withSet(query.with).has("contacts");
  const withLossReason = withSet(query.with).has("loss_reason");
  const docsTrash = leadQuery.onlyDeleted && account.modes.trashShape === "docs";
  return hal({
    _page: page,
    _links: pageLinks(`${account.baseUrl}/api/v4/leads`, req.rawSearch, page, limit, hasNext, account.modes),
    _embedded: {
      leads: pageItems.map((lead) =>
        docsTrash ? trashLeadJson(account, lead) : leadJson(account, lead, withContacts, withLossReason)
      ),
    },
  });
}

/** GET /api/v4/leads/{id} — 204 when missing (or in the trash). */
export function getLead(req: ApiRequest, id: number): Response {
  const lead = req.account.store.leads.get(id);
  if (!lead || lead.is_deleted) return noContent();
  const withRelations = withSet(req.query.with);
  return hal(leadJson(req.account, lead, withRelations.has("contacts"), withRelations.has("loss_reason")));
}
