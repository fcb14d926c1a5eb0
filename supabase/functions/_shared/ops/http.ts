// Small HTTP helpers shared by the operator functions (see endpoint.ts): JSON answers, the request's
// parameters, and one structured log line per request.

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
