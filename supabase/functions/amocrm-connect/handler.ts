// amocrm-connect (operator): connect a user account to its amoCRM account.
// Body: {userAccountId, subdomain, baseDomain?, apiBaseUrl?, code? | longLivedToken?, clientId?, clientSecret?,
// redirectUri?}. Answers 400 with every problem of the request (or a rejected code/token), 404 for an unknown
// user account, 500 when the function itself is not configured (SUPABASE_URL, AMOCRM_WEBHOOK_SECRETS).
import { type AmoCrmClient, createAmoCrmClient, defaultSql, type Sql } from "../_shared/amocrm/mod.ts";
import type { OperatorSecrets } from "../_shared/ops/auth.ts";
import { BadRequest, NotFound, operatorEndpoint } from "../_shared/ops/endpoint.ts";
import { resolveWebhookSecrets } from "../_shared/webhook/secrets.ts";
import { connectAccount } from "./connect.ts";
import { parseConnectRequest } from "./request.ts";

export interface ConnectDeps {
  sql?: Sql;
  secrets: OperatorSecrets;
  env?: (name: string) => string | undefined;
  clientFor?: (connectionId: string) => AmoCrmClient;
}

export function createConnectHandler(deps: ConnectDeps) {
  const env = deps.env ?? ((name: string) => Deno.env.get(name));
  return operatorEndpoint("amocrm-connect", deps.secrets, async (params) => {
    const sql = deps.sql ?? defaultSql();
    const parsed = parseConnectRequest(params, env);
    if (!parsed.ok) throw new BadRequest(parsed.problems.join("; "));
    const supabaseUrl = env("SUPABASE_URL");
    if (!supabaseUrl) throw new Error("function misconfigured: SUPABASE_URL is not set");
    const webhookSecrets = resolveWebhookSecrets(env);
    if (!webhookSecrets.ok) throw new Error(`function misconfigured: ${webhookSecrets.reason}`);

    const [account] =
      await sql`select 1 from public.user_accounts where id = ${parsed.request.userAccountId}`;
    if (!account) throw new NotFound(`no user account ${parsed.request.userAccountId}`);
    return await connectAccount({
      sql,
      clientFor: deps.clientFor ?? ((connectionId) => createAmoCrmClient({ connectionId, deps: { sql } })),
      supabaseUrl,
      webhookSecrets: webhookSecrets.secrets,
    }, parsed.request);
  });
}
