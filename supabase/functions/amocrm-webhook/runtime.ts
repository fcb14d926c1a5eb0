// Production wiring of the handler: one postgres.js client per worker (module scope), secrets from env.
import postgres from "postgres";
import { resolveWebhookSecrets } from "../_shared/webhook/secrets.ts";
import { createWebhookHandler } from "./handler.ts";

const env = (name: string) => Deno.env.get(name);
const log = (entry: Record<string, unknown>) => console.log(JSON.stringify(entry));

function buildHandler(): (req: Request) => Promise<Response> {
  const dbUrl = env("SUPABASE_DB_URL");
  const secrets = resolveWebhookSecrets(env);
  // Without a key ring no sig can be checked: every request is answered 500 (handler.ts) and logged. Nothing
  // unsigned is ever stored, and amoCRM retries a 5xx for about 1.5 h, long enough to set the secret.
  if (!secrets.ok) log({ fn: "amocrm-webhook", event: "misconfigured", reason: secrets.reason });
  if (!dbUrl) {
    const reason = "SUPABASE_DB_URL is not set";
    log({ fn: "amocrm-webhook", event: "misconfigured", reason });
    return (req) => {
      log({ fn: "amocrm-webhook", outcome: "misconfigured", status: 500, reason, method: req.method });
      return Promise.resolve(Response.json({ error: "webhook endpoint is not configured" }, { status: 500 }));
    };
  }
  // prepare: false — required behind Supabase's transaction pooler. Intake and the background apply get
  // separate pools so an ack never waits for a connection busy applying events.
  const options = { prepare: false, connect_timeout: 5, idle_timeout: 60, onnotice: () => {} } as const;
  const sql = postgres(dbUrl, { ...options, max: 6 });
  const applySql = postgres(dbUrl, { ...options, max: 1 });
  return createWebhookHandler({
    sql,
    applySql,
    applyConcurrency: 1,
    secrets: secrets.ok ? secrets.secrets : { error: secrets.reason },
    log,
  });
}

export const handler = buildHandler();
