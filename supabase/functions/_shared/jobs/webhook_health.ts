// Webhook self-repair. amoCRM switches a webhook off after more than 100 failed deliveries in 2 hours and
// tells only the account's admins, in the app; nothing reaches us. So the check lists the account's webhooks
// (filtered by our destination) and re-subscribes — an upsert by destination, which also switches it back on —
// when ours is missing, disabled or lost a setting. It also finishes a secret rotation: a destination signed
// with an older key version is replaced by one signed with the newest. Recorded on the connection and as a
// sync run.
import type { AmoCrmClient, Sql } from "../amocrm/mod.ts";
import { resolveWebhookSecrets, type WebhookSecrets } from "../webhook/secrets.ts";
import { signWebhookUrl } from "../webhook/signature.ts";
import { enqueueReconcile } from "./reconcile.ts";

/** What the intake function handles: leads (all lifecycle events) and contacts (phones for attribution). */
export const WEBHOOK_SETTINGS = [
  "add_lead",
  "update_lead",
  "status_lead",
  "delete_lead",
  "restore_lead",
  "responsible_lead",
  "add_contact",
  "update_contact",
];

export type WebhookSeen = "ok" | "missing" | "disabled" | "settings" | "no_destination" | "resigned";

export interface WebhookCheck {
  seen: WebhookSeen;
  repaired: boolean;
  webhookId: number | null;
  /** A repair means deliveries were lost meanwhile: the reconcile queued to read them back. */
  reconcileJobId?: number;
}

/** Seen states in which amoCRM was not delivering (all or some) of our events. */
const LOST_DELIVERIES: WebhookSeen[] = ["missing", "disabled", "settings"];

/** Subscribes (or re-enables) our destination with every setting we need. */
export async function subscribeOurWebhook(client: AmoCrmClient, destination: string) {
  return await client.subscribeWebhook({ destination, settings: WEBHOOK_SETTINGS });
}

/** Secrets of the running function, or none (then rotation is skipped, repairs still happen). */
function secretsFromEnv(): WebhookSecrets | undefined {
  const resolved = resolveWebhookSecrets((name) => Deno.env.get(name));
  return resolved.ok ? resolved.secrets : undefined;
}

/** The stored destination re-signed with the newest key, when that differs (a rotation is under way). */
function resignedDestination(destination: string, userAccountId: string, secrets?: WebhookSecrets) {
  if (!secrets) return null;
  const url = new URL(destination);
  const fresh = signWebhookUrl(`${url.origin}${url.pathname}`, userAccountId, secrets);
  return fresh === destination ? null : fresh;
}

export async function checkWebhook(
  sql: Sql,
  client: AmoCrmClient,
  userAccountId: string,
  secrets: WebhookSecrets | undefined = secretsFromEnv(),
): Promise<WebhookCheck> {
  const [{ id }] = await sql<{ id: string }[]>`
    select private.start_sync_run(${userAccountId}, 'webhook_health')::text as id`;
  const runId = Number(id);
  try {
    const [connection] = await sql<{ webhook_destination: string | null }[]>`
      select webhook_destination from amocrm.connections where user_account_id = ${userAccountId}`;
    const destination = connection?.webhook_destination ?? null;
    let check: WebhookCheck;
    const resigned = destination ? resignedDestination(destination, userAccountId, secrets) : null;
    if (!destination) {
      // Never connected through amocrm-connect: there is no URL of ours to repair.
      check = { seen: "no_destination", repaired: false, webhookId: null };
    } else if (resigned) {
      // Subscribe the new URL first, so no change goes undelivered, and store it at once: whatever happens to
      // the old one, the connection names the URL amoCRM now delivers to. Then drop the old one; 404 (an admin
      // removed it already) is as good as done.
      const subscribed = await subscribeOurWebhook(client, resigned);
      await sql`update amocrm.connections set webhook_destination = ${resigned} where user_account_id = ${userAccountId}`;
      await client.unsubscribeWebhook(destination);
      check = { seen: "resigned", repaired: true, webhookId: subscribed.id ?? null };
    } else {
      const ours = (await client.listWebhooks({ destination })).find((w) => w.destination === destination);
      const seen: WebhookSeen = !ours
        ? "missing"
        : ours.disabled
        ? "disabled"
        : WEBHOOK_SETTINGS.some((s) => !(ours.settings ?? []).includes(s))
        ? "settings"
        : "ok";
      if (seen === "ok") {
        check = { seen, repaired: false, webhookId: ours?.id ?? null };
      } else {
        const repaired = await subscribeOurWebhook(client, destination);
        check = { seen, repaired: true, webhookId: repaired.id ?? null };
        if (LOST_DELIVERIES.includes(seen)) {
          check.reconcileJobId = await enqueueReconcile(sql, userAccountId, { reason: `webhook_${seen}` });
        }
      }
    }
    await sql`select private.record_webhook_check(${userAccountId}, ${check.seen}, ${check.repaired})`;
    await sql`select private.finish_sync_run(${runId}, null, ${sql.json({ ...check })})`;
    return check;
  } catch (error) {
    await sql`select private.finish_sync_run(${runId}, ${String(error)})`;
    throw error;
  }
}
