import { child, stringList } from "../query_params.ts";
import { hal, noContent, problem } from "../responses.ts";
import { webhookJson } from "../rest_views.ts";
import { ValidationError } from "../webhook_registry.ts";
import type { ApiRequest } from "./api_request.ts";

async function readJson(request: Request): Promise<Record<string, unknown> | null> {
  try {
    const value = await request.json();
    return value !== null && typeof value === "object" && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

/** GET /api/v4/webhooks[?filter[destination]=…] */
export function listWebhooks(req: ApiRequest): Response {
  const destination = stringList(child(req.query.filter, "destination"))[0];
  const webhooks = req.account.webhooks.list(destination);
  if (webhooks.length === 0) return noContent();
  return hal({
    _total_items: webhooks.length,
    _links: { self: { href: `${req.account.baseUrl}/api/v4/webhooks` } },
    _embedded: { webhooks: webhooks.map((webhook) => webhookJson(req.account, webhook)) },
  });
}

/** POST /api/v4/webhooks — upsert by destination → 201 with the webhook object. */
export async function subscribeWebhook(req: ApiRequest): Promise<Response> {
  const body = await readJson(req.request);
  if (!body) return problem(400, "Request body must be a JSON object");
  try {
    return hal(webhookJson(req.account, req.account.webhooks.upsert(body)), 201);
  } catch (error) {
    if (error instanceof ValidationError) {
      return problem(400, error.message, {
        "validation-errors": [{
          request_id: "0",
          errors: error.issues.map((issue) => ({ ...issue, code: "InvalidValue" })),
        }],
      });
    }
    throw error;
  }
}

/** DELETE /api/v4/webhooks with JSON {destination} → 204; 404 when it is not subscribed (amoCRM "Вебхуки" page). */
export async function unsubscribeWebhook(req: ApiRequest): Promise<Response> {
  const body = await readJson(req.request);
  if (!body || typeof body.destination !== "string") return problem(400, "destination is required");
  if (!req.account.webhooks.remove(body.destination)) {
    return problem(404, `No webhook with destination ${body.destination}`);
  }
  return noContent();
}
