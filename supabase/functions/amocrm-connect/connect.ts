// The connect flow, in the order that leaves a usable connection at each step: store the address and
// credentials → exchange the code (or take the long-lived token) → verify with one call and learn the account
// id, currency and time zone → subscribe our signed webhook URL → sync pipelines → start the backfill. A
// rejected code or token is the caller's to fix (400); the rest is reported as it happened.
import {
  type AmoAccount,
  AmoCrmBadRequestError,
  type AmoCrmClient,
  AmoCrmHttpError,
  AmoCrmReauthRequiredError,
  AmoCrmUnauthorizedError,
  type Sql,
} from "../_shared/amocrm/mod.ts";
import { recordAccountSettings } from "../_shared/jobs/account_settings.ts";
import { startBackfill } from "../_shared/jobs/backfill.ts";
import { syncPipelines } from "../_shared/jobs/sync_pipelines.ts";
import { subscribeOurWebhook } from "../_shared/jobs/webhook_health.ts";
import { BadRequest } from "../_shared/ops/endpoint.ts";
import { signWebhookUrl } from "../_shared/webhook/signature.ts";
import type { WebhookSecrets } from "../_shared/webhook/secrets.ts";
import type { ConnectRequest } from "./request.ts";

export interface ConnectContext {
  sql: Sql;
  clientFor: (connectionId: string) => AmoCrmClient;
  /** The project's public URL (SUPABASE_URL): webhooks go to `${it}/functions/v1/amocrm-webhook`. */
  supabaseUrl: string;
  webhookSecrets: WebhookSecrets;
}

/** The destination without its signature, for answers and logs. */
function redacted(destination: string): string {
  const url = new URL(destination);
  if (url.searchParams.has("sig")) url.searchParams.set("sig", "…");
  return url.toString();
}

/** amoCRM's API errors page: code 101, HTTP 401 — a request to a non-existent account (subdomain). */
function noSuchAccount(error: unknown): boolean {
  return error instanceof AmoCrmHttpError && error.status === 401 && error.amocrmErrorCode === 101;
}

function rejectedCredential(error: unknown): boolean {
  return error instanceof AmoCrmUnauthorizedError || error instanceof AmoCrmReauthRequiredError ||
    error instanceof AmoCrmBadRequestError || (error instanceof AmoCrmHttpError && error.status === 401);
}

async function authorize(ctx: ConnectContext, req: ConnectRequest): Promise<string> {
  const [{ id }] = await ctx.sql<{ id: string }[]>`
    select private.upsert_amocrm_connection(${req.userAccountId}, ${req.subdomain}, ${req.baseDomain},
      ${req.apiBaseUrl}, ${req.clientId}, ${req.clientSecret}, ${req.redirectUri},
      ${req.credential.kind === "long_lived" ? req.credential.token : null},
      ${req.credential.kind === "long_lived" ? req.credential.expiresAt : null}) as id`;
  if (req.credential.kind === "code") {
    try {
      await ctx.clientFor(id).exchangeAuthorizationCode(req.credential.code);
    } catch (error) {
      if (noSuchAccount(error)) {
        throw new BadRequest(
          `amoCRM has no account at ${req.apiBaseUrl} (error 101): check subdomain/apiBaseUrl`,
        );
      }
      if (rejectedCredential(error)) {
        throw new BadRequest(
          `amoCRM rejected the authorization code (expired, used, or another redirectUri / ` +
            `client): ${(error as Error).message}`,
        );
      }
      throw error;
    }
  }
  return id;
}

/** GET /api/v4/account with the new token: proves it works, names the account, gives currency and zone. */
async function verifiedAccount(client: AmoCrmClient): Promise<AmoAccount> {
  try {
    const account = await client.getAccount();
    if (!Number.isSafeInteger(account.id) || account.id <= 0) {
      throw new Error("GET /api/v4/account answered without an id");
    }
    return account;
  } catch (error) {
    if (noSuchAccount(error)) {
      throw new BadRequest(`amoCRM has no account at this address (error 101): check subdomain/apiBaseUrl`);
    }
    if (rejectedCredential(error)) {
      throw new BadRequest(`amoCRM rejected the token: ${(error as Error).message}`);
    }
    throw error;
  }
}

async function subscribeWebhook(
  ctx: ConnectContext,
  client: AmoCrmClient,
  req: ConnectRequest,
  amocrmAccountId: number,
) {
  const destination = signWebhookUrl(
    `${ctx.supabaseUrl.replace(/\/+$/, "")}/functions/v1/amocrm-webhook`,
    req.userAccountId,
    ctx.webhookSecrets,
  );
  const [previous] = await ctx.sql<{ webhook_destination: string | null }[]>`
    select webhook_destination from amocrm.connections where user_account_id = ${req.userAccountId}`;
  const webhook = await subscribeOurWebhook(client, destination);
  await ctx
    .sql`select private.activate_amocrm_connection(${req.userAccountId}, ${amocrmAccountId}, ${destination})`;
  // A URL signed with an older key (or another host) would deliver every event twice: drop it.
  const old = previous?.webhook_destination;
  if (old && old !== destination) await client.unsubscribeWebhook(old).catch(() => {});
  return {
    destination: redacted(destination),
    webhookId: webhook.id ?? null,
    replaced: !!old && old !== destination,
  };
}

/** A backfill still running from an earlier connect would only repeat the new one's work. */
async function supersedeRunningBackfills(sql: Sql, userAccountId: string): Promise<void> {
  await sql`
    select private.finish_sync_run(r.id, 'superseded by a new connect')
    from amocrm.sync_runs r
    where r.user_account_id = ${userAccountId} and r.kind = 'backfill' and r.state = 'running'`;
}

export async function connectAccount(ctx: ConnectContext, req: ConnectRequest) {
  const connectionId = await authorize(ctx, req);
  const client = ctx.clientFor(connectionId);
  const account = await verifiedAccount(client);
  const amocrmAccountId = account.id;
  await ctx.sql`select private.activate_amocrm_connection(${req.userAccountId}, ${amocrmAccountId})`;
  const accountSettings = await recordAccountSettings(ctx.sql, req.userAccountId, account);
  const webhook = await subscribeWebhook(ctx, client, req, amocrmAccountId);
  const pipelines = await syncPipelines(ctx.sql, client, req.userAccountId);
  await supersedeRunningBackfills(ctx.sql, req.userAccountId);
  const backfill = await startBackfill(ctx.sql, req.userAccountId);
  return {
    userAccountId: req.userAccountId,
    connectionId,
    amocrmAccountId,
    tokenKind: req.credential.kind === "code" ? "oauth" : "long_lived",
    account: accountSettings,
    webhook,
    pipelines,
    backfill,
  };
}
