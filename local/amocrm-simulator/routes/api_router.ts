import { problem } from "../responses.ts";
import { getAccount } from "./account_info.ts";
import type { ApiRequest } from "./api_request.ts";
import { getContact, listContacts } from "./contacts.ts";
import { listEvents } from "./events.ts";
import { getLead, listLeads } from "./leads.ts";
import { getPipeline, listPipelines } from "./pipelines.ts";
import { listWebhooks, subscribeWebhook, unsubscribeWebhook } from "./webhooks.ts";
import { createContacts, createLeads, patchLeads, patchOneLead } from "./writes.ts";

type Handler = (req: ApiRequest, id: number) => Response | Promise<Response>;

const ROUTES: { method: string; pattern: RegExp; handler: Handler }[] = [
  { method: "GET", pattern: /^\/api\/v4\/account$/, handler: getAccount },
  { method: "GET", pattern: /^\/api\/v4\/leads\/pipelines$/, handler: listPipelines },
  { method: "GET", pattern: /^\/api\/v4\/leads\/pipelines\/(\d+)$/, handler: getPipeline },
  { method: "GET", pattern: /^\/api\/v4\/leads$/, handler: listLeads },
  { method: "POST", pattern: /^\/api\/v4\/leads$/, handler: createLeads },
  { method: "PATCH", pattern: /^\/api\/v4\/leads$/, handler: patchLeads },
  { method: "GET", pattern: /^\/api\/v4\/leads\/(\d+)$/, handler: getLead },
  { method: "PATCH", pattern: /^\/api\/v4\/leads\/(\d+)$/, handler: patchOneLead },
  { method: "GET", pattern: /^\/api\/v4\/contacts$/, handler: listContacts },
  { method: "POST", pattern: /^\/api\/v4\/contacts$/, handler: createContacts },
  { method: "GET", pattern: /^\/api\/v4\/contacts\/(\d+)$/, handler: getContact },
  { method: "GET", pattern: /^\/api\/v4\/events$/, handler: listEvents },
  { method: "GET", pattern: /^\/api\/v4\/webhooks$/, handler: listWebhooks },
  { method: "POST", pattern: /^\/api\/v4\/webhooks$/, handler: subscribeWebhook },
  { method: "DELETE", pattern: /^\/api\/v4\/webhooks$/, handler: unsubscribeWebhook },
];

/** Routes an authenticated /api/v4 call. */
export async function routeApi(req: ApiRequest): Promise<Response> {
  const path = req.path.replace(/\/+$/, "");
  let pathKnown = false;
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    pathKnown = true;
    if (route.method === req.method) return await route.handler(req, Number(match[1]));
  }
  return pathKnown
    ? problem(405, `Method ${req.method} is not allowed here`)
    : problem(404, `No route ${req.path}`);
}
