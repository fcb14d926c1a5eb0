// amoCRM lead webhooks as the freshness bench sends them to the amocrm-webhook function: form bodies in the
// captured 2025 layout (account block first, fields in the captured order), and a signed destination URL.
import { readDotEnv } from "../../local/functions-host/config.ts";
import { buildWebhookBody, type WebhookAccount } from "../../local/amocrm-simulator/webhook_payload.ts";
import { encodeForm } from "../../local/amocrm-simulator/webhook_form.ts";
import type { ChangeRecord, FormObject } from "../../local/amocrm-simulator/types.ts";
import { signWebhookUrl } from "../../supabase/functions/_shared/webhook/signature.ts";

export type { ChangeRecord, WebhookAccount };

const ROOT = new URL("../../", import.meta.url).pathname;

export interface DealSnapshot {
  id: number;
  status: number;
  pipeline: number;
  created: number;
  updated: number;
  /** Status events carry the stage the deal left. */
  oldStatus?: number;
}

/** A lead entity in the field order of the captured 2025 bodies; price 0 (no money event, no API call). */
export function leadEntity(account: WebhookAccount, deal: DealSnapshot): FormObject {
  const entity: FormObject = {
    id: String(deal.id),
    name: `Freshness deal ${deal.id}`,
    status_id: String(deal.status),
    price: "0",
    responsible_user_id: "2852878",
    last_modified: String(deal.updated),
    modified_user_id: "2852878",
    created_user_id: "2852878",
    date_create: String(deal.created),
    pipeline_id: String(deal.pipeline),
    account_id: String(account.id),
    created_at: String(deal.created),
    updated_at: String(deal.updated),
  };
  if (deal.oldStatus !== undefined) entity.old_status_id = String(deal.oldStatus);
  return entity;
}

export function formBody(account: WebhookAccount, changes: ChangeRecord[]): string {
  return encodeForm(buildWebhookBody(account, changes, "modern"));
}

/** POSTs a body the way amoCRM does; the HTTP status (0 when the request failed). */
export async function postWebhook(url: string, body: string): Promise<number> {
  try {
    const res = await fetch(url, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "user-agent": "amoCRM-WebHook-client/1.0",
      },
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** The intake's secret ring: the environment's, else the dev stack's .env, else the test stack's .env.example. */
async function secretCandidates(): Promise<string[]> {
  const found = [Deno.env.get("AMOCRM_WEBHOOK_SECRETS") ?? ""];
  for (const file of [".env", ".env.example"]) {
    found.push((await readDotEnv(`${ROOT}supabase/functions/${file}`)).AMOCRM_WEBHOOK_SECRETS ?? "");
  }
  return [...new Set(found.filter(Boolean))];
}

/** Posts the first body signed with each candidate secret until one is accepted; returns that signed URL. */
export async function signedUrlAccepting(
  functionsUrl: string,
  userAccountId: string,
  firstBody: string,
): Promise<string> {
  const statuses: number[] = [];
  for (const secrets of await secretCandidates()) {
    const url = signWebhookUrl(`${functionsUrl}/amocrm-webhook`, userAccountId, secrets);
    const status = await postWebhook(url, firstBody);
    if (status === 200) return url;
    statuses.push(status);
  }
  throw new Error(`${functionsUrl}/amocrm-webhook refused every known secret (${statuses.join(", ")})`);
}
