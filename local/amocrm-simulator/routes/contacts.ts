import { pageLinks, paginate, parseLimit, parsePage } from "../pagination.ts";
import { child, intList, withSet } from "../query_params.ts";
import { hal, noContent } from "../responses.ts";
import { contactJson } from "../rest_views.ts";
import type { Contact } from "../types.ts";
import type { ApiRequest } from "./api_request.ts";

/** amoCRM's `query` matches any field; here: name substring or phone digits. */
function matchesSearch(contact: Contact, search: string): boolean {
  const needle = search.trim().toLowerCase();
  if (needle === "") return true;
  if (contact.name.toLowerCase().includes(needle)) return true;
  const digits = needle.replace(/\D/g, "");
  return digits.length >= 4 && contact.phones.some((phone) => phone.replace(/\D/g, "").includes(digits));
}

/** GET /api/v4/contacts — bulk `filter[id][]`, `query`, paging; 204 when empty. */
export function listContacts(req: ApiRequest): Response {
  const { account, query } = req;
  const limit = parseLimit(query.limit, 250, 50);
  const page = parsePage(query.page);
  const ids = new Set(intList(child(query.filter, "id")));
  const search = typeof query.query === "string" ? query.query : "";
  const contacts = [...account.store.contacts.values()]
    .filter((contact) =>
      !contact.is_deleted && (ids.size === 0 || ids.has(contact.id)) && matchesSearch(contact, search)
    )
    .sort((a, b) => a.id - b.id);
  const { pageItems, hasNext } = paginate(contacts, page, limit);
  if (pageItems.length === 0) return noContent();
  const withLeads = withSet(query.with).has("leads");
  return hal({
    _page: page,
    _links: pageLinks(
      `${account.baseUrl}/api/v4/contacts`,
      req.rawSearch,
      page,
      limit,
      hasNext,
      account.modes,
    ),
    _embedded: { contacts: pageItems.map((contact) => contactJson(account, contact, withLeads)) },
  });
}

export function getContact(req: ApiRequest, id: number): Response {
  const contact = req.account.store.contacts.get(id);
  if (!contact || contact.is_deleted) return noContent();
  return hal(contactJson(req.account, contact, withSet(req.query.with).has("leads")));
}
