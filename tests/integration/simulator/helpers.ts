import {
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from "../../../local/amocrm-simulator/mod.ts";

export const CLIENT = {
  clientId: "client-1",
  clientSecret: "secret-1",
  redirectUri: "https://app.example/amocrm/callback",
};

/** A started simulator with one account "acme" and a token for it; always stop it. */
export async function simWithAccount(
  opts: SimulatorOptions = {},
): Promise<{ sim: Simulator; base: string; token: string }> {
  const sim = await startSimulator({ seed: 42, ...opts });
  sim.createAccount({ subdomain: "acme", ...CLIENT });
  return { sim, base: sim.accountBaseUrl("acme"), token: sim.mintTokens("acme").access_token };
}

export async function apiGet(base: string, token: string, pathAndQuery: string): Promise<Response> {
  return await fetch(`${base}${pathAndQuery}`, { headers: { authorization: `Bearer ${token}` } });
}

/** GET that reads the body: { status, type, body (parsed JSON, raw text, or null for an empty body) }. */
export async function getJson(
  base: string,
  token: string,
  pathAndQuery: string,
): Promise<{ status: number; type: string | null; body: unknown; text: string }> {
  const response = await apiGet(base, token, pathAndQuery);
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text === "" ? null : JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, type: response.headers.get("content-type"), body, text };
}

export async function apiSend(
  base: string,
  token: string,
  method: string,
  path: string,
  payload: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(payload),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? null : JSON.parse(text) };
}

export interface ReceivedWebhook {
  contentType: string | null;
  userAgent: string | null;
  body: string;
}

/** A tiny webhook receiver on 127.0.0.1 answering `status` (changeable) and recording every POST. */
export function startReceiver(status = 200): {
  url: string;
  received: ReceivedWebhook[];
  setStatus(next: number): void;
  stop(): Promise<void>;
} {
  const received: ReceivedWebhook[] = [];
  let answer = status;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    received.push({
      contentType: request.headers.get("content-type"),
      userAgent: request.headers.get("user-agent"),
      body: await request.text(),
    });
    return new Response(answer < 300 ? "ok" : "fail", { status: answer });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/hooks/amocrm?secret=s3cr3t`,
    received,
    setStatus: (next) => answer = next,
    stop: () => server.shutdown(),
  };
}
