import { SimError } from "../errors.ts";
import { hal, problem } from "../responses.ts";
import type { ApiRequest } from "./api_request.ts";

/** Changes made through the API show up as "robot/API" (modified_user_id 0) in webhooks. */
const API_USER = 0;

type Json = Record<string, unknown>;

async function readEntities(request: Request, requireArray: boolean): Promise<Json[] | Response> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return problem(400, "Request body must be JSON");
  }
  const list = Array.isArray(body) ? body : requireArray ? null : [body];
  if (
    !list || list.length === 0 || list.length > 250 || !list.every((item) => item && typeof item === "object")
  ) {
    return problem(400, "Expected an array of 1..250 objects");
  }
  return list as Json[];
}

const int = (
  value: unknown,
): number | undefined => (typeof value === "number" && Number.isInteger(value) ? value : undefined);

function contactIdsOf(entity: Json): number[] {
  const contacts = (entity._embedded as { contacts?: { id?: unknown }[] } | undefined)?.contacts ?? [];
  return contacts.map((contact) => int(contact.id)).filter((id): id is number => id !== undefined);
}

function phonesOf(entity: Json): string[] {
  const fields = Array.isArray(entity.custom_fields_values) ? entity.custom_fields_values as Json[] : [];
  return fields
    .filter((field) => field.field_code === "PHONE")
    .flatMap((field) => (Array.isArray(field.values) ? field.values as Json[] : []))
    .map((value) => String(value.value ?? ""))
    .filter(Boolean);
}

/** Applies one lead patch; several in one request leave as one webhook POST (the caller batches). */
function patchLead(req: ApiRequest, id: number, entity: Json): void {
  const store = req.account.store;
  const statusId = int(entity.status_id);
  const pipelineId = int(entity.pipeline_id);
  const price = int(entity.price);
  const moving = statusId !== undefined || pipelineId !== undefined;
  if (moving) {
    // The price travels with the move so the status webhook already shows it, as amoCRM does.
    store.moveLead(id, {
      statusId: statusId ?? store.liveLead(id).status_id,
      pipelineId,
      price,
      lossReasonId: int(entity.loss_reason_id),
      by: API_USER,
    });
  }
  store.updateLead(id, {
    name: typeof entity.name === "string" ? entity.name : undefined,
    price: moving ? undefined : price,
    responsibleUserId: int(entity.responsible_user_id),
    by: API_USER,
  });
}

function written(req: ApiRequest, kind: "leads" | "contacts", ids: number[], withUpdatedAt: boolean): Json[] {
  return ids.map((id, index) => ({
    id,
    ...(withUpdatedAt ? { updated_at: req.account.store.leads.get(id)?.updated_at } : {}),
    request_id: String(index),
    _links: { self: { href: `${req.account.baseUrl}/api/v4/${kind}/${id}` } },
  }));
}

function guarded(fn: () => Response): Response {
  try {
    return fn();
  } catch (error) {
    if (error instanceof SimError) return problem(error.status === 404 ? 400 : error.status, error.message);
    throw error;
  }
}

/** POST /api/v4/leads — an array of leads (optionally linked to existing contacts). */
export async function createLeads(req: ApiRequest): Promise<Response> {
  const entities = await readEntities(req.request, true);
  if (entities instanceof Response) return entities;
  return guarded(() => {
    const ids = req.account.batch(() =>
      entities.map((entity) => {
        const [contactId] = contactIdsOf(entity);
        return req.account.store.createLead({
          name: typeof entity.name === "string" ? entity.name : undefined,
          price: int(entity.price),
          pipelineId: int(entity.pipeline_id),
          statusId: int(entity.status_id),
          responsibleUserId: int(entity.responsible_user_id),
          contactId,
          by: API_USER,
        }).id;
      })
    );
    return hal({
      _links: { self: { href: `${req.account.baseUrl}/api/v4/leads` } },
      _embedded: { leads: written(req, "leads", ids, false) },
    });
  });
}

/** PATCH /api/v4/leads — an array of patches, each with its id. */
export async function patchLeads(req: ApiRequest): Promise<Response> {
  const entities = await readEntities(req.request, true);
  if (entities instanceof Response) return entities;
  return guarded(() => {
    const ids = entities.map((entity) => int(entity.id));
    if (ids.some((id) => id === undefined)) return problem(400, "Every lead needs an id");
    req.account.batch(() => entities.forEach((entity, index) => patchLead(req, ids[index]!, entity)));
    return hal({
      _links: { self: { href: `${req.account.baseUrl}/api/v4/leads` } },
      _embedded: { leads: written(req, "leads", ids as number[], true) },
    });
  });
}

/** PATCH /api/v4/leads/{id} — one patch object. */
export async function patchOneLead(req: ApiRequest, id: number): Promise<Response> {
  const entities = await readEntities(req.request, false);
  if (entities instanceof Response) return entities;
  return guarded(() => {
    req.account.batch(() => patchLead(req, id, entities[0]));
    const [result] = written(req, "leads", [id], true);
    return hal({ id: result.id, updated_at: result.updated_at, _links: result._links });
  });
}

/** POST /api/v4/contacts — an array of contacts with PHONE values. */
export async function createContacts(req: ApiRequest): Promise<Response> {
  const entities = await readEntities(req.request, true);
  if (entities instanceof Response) return entities;
  const ids = req.account.batch(() =>
    entities.map((entity) =>
      req.account.store.createContact({
        name: typeof entity.name === "string" ? entity.name : undefined,
        phones: phonesOf(entity),
        responsibleUserId: int(entity.responsible_user_id),
        by: API_USER,
      }).id
    )
  );
  return hal({
    _links: { self: { href: `${req.account.baseUrl}/api/v4/contacts` } },
    _embedded: { contacts: written(req, "contacts", ids, false) },
  });
}
