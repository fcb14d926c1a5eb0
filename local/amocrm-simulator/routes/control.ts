import type { LeadOperation } from "../account_ops.ts";
import { SimError } from "../errors.ts";
import type { FaultKnobs } from "../faults.ts";
import { json } from "../responses.ts";
import type { Simulator } from "../simulator.ts";

type Body = Record<string, unknown>;
type ControlHandler = (sim: Simulator, params: string[], body: Body) => unknown | Promise<unknown>;

const num = (value: unknown, name: string): number => {
  const parsed = typeof value === "string" ? Number(value) : value;
  if (typeof parsed !== "number" || !Number.isFinite(parsed)) {
    throw new SimError(400, `${name} must be a number`);
  }
  return parsed;
};

/** `/_sim/...` JSON control API: the same operations as the programmatic Simulator, for other processes. */
const ROUTES: { method: string; pattern: RegExp; status?: number; handler: ControlHandler }[] = [
  {
    method: "GET",
    pattern: /^\/_sim\/health$/,
    handler: (sim) => ({ ok: true, url: sim.url, seed: sim.seed }),
  },
  { method: "GET", pattern: /^\/_sim\/time$/, handler: (sim) => ({ now_ms: sim.now() }) },
  {
    method: "POST",
    pattern: /^\/_sim\/time\/advance$/,
    handler: (sim, _, body) => {
      sim.advanceTime(num(body.seconds, "seconds"));
      return { now_ms: sim.now() };
    },
  },
  {
    method: "POST",
    pattern: /^\/_sim\/webhooks\/flush$/,
    handler: async (sim, _, body) => {
      await sim.flushWebhooks({ fastForward: body.fastForward === true });
      return { ok: true, now_ms: sim.now() };
    },
  },
  {
    method: "GET",
    pattern: /^\/_sim\/accounts$/,
    handler: (sim) => ({ accounts: sim.accounts().map((s) => sim.accountSummary(s)) }),
  },
  {
    method: "POST",
    pattern: /^\/_sim\/accounts$/,
    status: 201,
    handler: (sim, _, body) => sim.createAccount(body as never),
  },
  { method: "GET", pattern: /^\/_sim\/accounts\/([^/]+)$/, handler: (sim, [sub]) => sim.accountSummary(sub) },
  {
    method: "POST",
    pattern: /^\/_sim\/accounts\/([^/]+)\/integrations$/,
    status: 201,
    handler: (sim, [sub], body) => {
      sim.addIntegration(sub, body as never);
      return sim.accountSummary(sub);
    },
  },
  {
    method: "POST",
    pattern: /^\/_sim\/accounts\/([^/]+)\/authorization-codes$/,
    status: 201,
    handler: (sim, [sub], body) => ({
      code: sim.issueAuthorizationCode(sub, body.clientId as string | undefined),
    }),
  },
  {
    method: "POST",
    pattern: /^\/_sim\/accounts\/([^/]+)\/tokens$/,
    status: 201,
    handler: (sim, [sub], body) => sim.mintTokens(sub, body),
  },
  {
    method: "POST",
    pattern: /^\/_sim\/accounts\/([^/]+)\/revoke-tokens$/,
    handler: (sim, [sub], body) => ({ revoked: sim.revokeTokens(sub, body.clientId as string | undefined) }),
  },
  {
    method: "POST",
    pattern: /^\/_sim\/accounts\/([^/]+)\/contacts$/,
    status: 201,
    handler: (sim, [sub], body) => sim.createContact(sub, body),
  },
  {
    method: "POST",
    pattern: /^\/_sim\/accounts\/([^/]+)\/leads$/,
    status: 201,
    handler: (sim, [sub], body) => sim.createLead(sub, body),
  },
  {
    method: "GET",
    pattern: /^\/_sim\/accounts\/([^/]+)\/leads\/(\d+)$/,
    handler: (sim, [sub, id]) => {
      const lead = sim.getLead(sub, Number(id));
      if (!lead) throw new SimError(404, `no lead ${id}`);
      return lead;
    },
  },
  {
    method: "POST",
    pattern: /^\/_sim\/accounts\/([^/]+)\/ops$/,
    handler: (sim, [sub], body) => sim.apply(sub, body as LeadOperation),
  },
  {
    method: "POST",
    pattern: /^\/_sim\/accounts\/([^/]+)\/batch$/,
    handler: async (sim, [sub], body) => {
      if (!Array.isArray(body.operations)) throw new SimError(400, "operations must be an array");
      const operations = body.operations as LeadOperation[];
      return { results: await sim.batch(sub, (ops) => operations.map((operation) => ops.apply(operation))) };
    },
  },
  { method: "GET", pattern: /^\/_sim\/accounts\/([^/]+)\/stats$/, handler: (sim, [sub]) => sim.stats(sub) },
  { method: "GET", pattern: /^\/_sim\/accounts\/([^/]+)\/faults$/, handler: (sim, [sub]) => sim.faults(sub) },
  {
    method: "PUT",
    pattern: /^\/_sim\/accounts\/([^/]+)\/faults$/,
    handler: (sim, [sub], body) => sim.faults(sub, body as FaultKnobs),
  },
  {
    method: "GET",
    pattern: /^\/_sim\/accounts\/([^/]+)\/modes$/,
    handler: (sim, [sub]) => sim.accountSummary(sub).modes,
  },
  {
    method: "PUT",
    pattern: /^\/_sim\/accounts\/([^/]+)\/modes$/,
    handler: (sim, [sub], body) => sim.setModes(sub, body as never),
  },
  {
    method: "POST",
    pattern: /^\/_sim\/accounts\/([^/]+)\/unblock$/,
    handler: (sim, [sub]) => {
      sim.unblock(sub);
      return { ok: true };
    },
  },
  {
    method: "POST",
    pattern: /^\/_sim\/accounts\/([^/]+)\/unpaid$/,
    handler: (sim, [sub], body) => {
      sim.setUnpaid(sub, body.unpaid !== false);
      return { ok: true };
    },
  },
  {
    method: "POST",
    pattern: /^\/_sim\/accounts\/([^/]+)\/scenario$/,
    status: 201,
    handler: (sim, [sub], body) => {
      const { webhooks, ...options } = body;
      const run = sim.scenario(sub, options, { webhooks: webhooks !== false });
      return { product: run.product, steps_total: run.total, started_at_ms: run.startedAtMs };
    },
  },
  {
    method: "POST",
    pattern: /^\/_sim\/accounts\/([^/]+)\/scenario\/step$/,
    handler: (sim, [sub], body) => {
      const run = sim.currentScenario(sub);
      return { step: run.step({ webhooks: body.webhooks !== false }), remaining: run.remaining };
    },
  },
  {
    method: "POST",
    pattern: /^\/_sim\/accounts\/([^/]+)\/scenario\/run$/,
    handler: (sim, [sub], body) => {
      const run = sim.currentScenario(sub);
      return { applied: run.applyAll({ webhooks: body.webhooks !== false }), remaining: run.remaining };
    },
  },
  {
    method: "GET",
    pattern: /^\/_sim\/accounts\/([^/]+)\/truth$/,
    handler: (sim, [sub]) => ({ leads: sim.truth(sub) }),
  },
];

export async function handleControl(sim: Simulator, request: Request, url: URL): Promise<Response> {
  for (const route of ROUTES) {
    const match = route.pattern.exec(url.pathname);
    if (!match || route.method !== request.method) continue;
    let body: Body = {};
    if (request.method !== "GET") {
      const text = await request.text();
      try {
        body = text.trim() === "" ? {} : JSON.parse(text);
      } catch {
        throw new SimError(400, "body must be JSON");
      }
      if (body === null || typeof body !== "object" || Array.isArray(body)) {
        throw new SimError(400, "body must be a JSON object");
      }
    }
    const params = match.slice(1).map(decodeURIComponent);
    return json(await route.handler(sim, params, body), route.status ?? 200);
  }
  throw new SimError(404, `no control route ${request.method} ${url.pathname}`);
}
