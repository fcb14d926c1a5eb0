import { hal, noContent } from "../responses.ts";
import { pipelineJson } from "../rest_views.ts";
import type { ApiRequest } from "./api_request.ts";

/** GET /api/v4/leads/pipelines */
export function listPipelines(req: ApiRequest): Response {
  const { account } = req;
  return hal({
    _total_items: account.pipelines.length,
    _links: { self: { href: `${account.baseUrl}/api/v4/leads/pipelines` } },
    _embedded: { pipelines: account.pipelines.map((pipeline) => pipelineJson(account, pipeline)) },
  });
}

/** GET /api/v4/leads/pipelines/{id} */
export function getPipeline(req: ApiRequest, id: number): Response {
  const pipeline = req.account.pipelines.find((candidate) => candidate.id === id);
  return pipeline ? hal(pipelineJson(req.account, pipeline)) : noContent();
}
