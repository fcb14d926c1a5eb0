// Webhook self-repair. amoCRM switches a webhook off after more than 100 failed deliveries in 2 hours and
// tells only the account's admins, in the app; nothing reaches us. So the check lists the account's webhooks
// (filtered by our destination) and re-subscribes — an upsert by destination, which also switches it back on —
// when ours is missing, disabled or lost a setting. Recorded on the connection and as a sync run.
import type { AmoCrmClient, Sql } from "../amocrm/mod.ts";

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

export type WebhookSeen = "ok" | "missing" | "disabled" | "settings" | "no_destination";

export interface WebhookCheck {
  seen: WebhookSeen;
  repaired: boolean;
  webhookId: number | null;
}

/** Subscribes (or re-enables) our destination with every setting we need. */
export async function subscribeOurWebhook(client: AmoCrmClient, destination: string) {
  return await client.subscribeWebhook({ destination, settings: WEBHOOK_SETTINGS });
}

export async function checkWebhook(
  sql: Sql,
  client: AmoCrmClient,
  userAccountId: string,
): Promise<WebhookCheck> {
  const [{ id }] = await sql<{ id: string }[]>`
    select private.start_sync_run(${userAccountId}, 'webhook_health')::text as id`;
  const runId = Number(id);
  try {
    const [connection] = await sql<{ webhook_destination: string | null }[]>`
      select webhook_destination from amocrm.connections where user_account_id = ${userAccountId}`;
    const destination = connection?.webhook_destination ?? null;
    let check: WebhookCheck;
    if (!destination) {
      // Never connected through amocrm-connect: there is no URL of ours to repair.
      check = { seen: "no_destination", repaired: false, webhookId: null };
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
