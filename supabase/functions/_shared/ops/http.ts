// Small HTTP helpers shared by the operator functions: JSON answers, the request's parameters, and one
// structured log line per request.
import { isOperator, type OperatorSecrets } from "./auth.ts";

export function json(body: unknown, status = 200): Response {
  return Response.json(body, { status });
}

/** Parameters from the query string and, for POST, a JSON body (body wins). */
export async function requestParams(req: Request): Promise<Record<string, unknown>> {
  const params: Record<string, unknown> = Object.fromEntries(new URL(req.url).searchParams);
  if (req.method === "POST" && req.headers.get("content-type")?.includes("application/json")) {
    const text = await req.text();
    if (text.trim()) Object.assign(params, JSON.parse(text));
  }
  return params;
}

export function logLine(fields: Record<string, unknown>): void {
  console.log(JSON.stringify({ at: new Date().toISOString(), ...fields }));
}

/**
 * Wraps an operator function: checks the caller, runs the work, answers JSON with what happened, and turns
 * an exception into a 500 whose body says why (the operator is the one reading it).
 */
export function operatorHandler(
  name: string,
  secrets: OperatorSecrets,
  work: (params: Record<string, unknown>, req: Request) => Promise<unknown>,
): (req: Request) => Promise<Response> {
  return async (req) => {
    const started = performance.now();
    if (!isOperator(req, secrets)) {
      logLine({ fn: name, outcome: "unauthorized" });
      return json({ error: "unauthorized: send x-cron-secret or the service role key" }, 401);
    }
    try {
      const params = await requestParams(req);
      const result = await work(params, req);
      logLine({ fn: name, outcome: "ok", ms: Math.round(performance.now() - started), result });
      return json({ ok: true, result });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      logLine({ fn: name, outcome: "error", ms: Math.round(performance.now() - started), error: message });
      return json({ ok: false, error: message }, 500);
    }
  };
}
