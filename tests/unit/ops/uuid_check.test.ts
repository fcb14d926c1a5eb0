// One uuid rule for every entry point that takes a user account id: the webhook URL (intake and signing),
// operator parameters and the amocrm-connect body accept and refuse exactly the same strings.
import assert from "node:assert/strict";
import { parseConnectRequest } from "../../../supabase/functions/amocrm-connect/request.ts";
import { createWebhookHandler } from "../../../supabase/functions/amocrm-webhook/handler.ts";
import type { Sql } from "../../../supabase/functions/amocrm-webhook/store.ts";
import { optionalUuid } from "../../../supabase/functions/_shared/ops/endpoint.ts";
import { parseWebhookSecrets } from "../../../supabase/functions/_shared/webhook/secrets.ts";
import { signWebhookUrl, webhookSignature } from "../../../supabase/functions/_shared/webhook/signature.ts";

const BASE = "http://127.0.0.1/functions/v1/amocrm-webhook";
const SECRETS = parseWebhookSecrets("v1:unit-secret");

/** [candidate, accepted?] — RFC 9562 text form in any case; nil/other versions and variants are not ids we issue. */
const CANDIDATES: [string, boolean][] = [
  ["3f0c8f4e-9a61-4c1e-8d0b-2a7e5b1c9d10", true], // v4, as gen_random_uuid() makes them
  ["3F0C8F4E-9A61-4C1E-8D0B-2A7E5B1C9D10", true],
  ["01890a5d-ac96-774b-bcce-b302099a8057", true], // v7
  ["3f0c8f4e-9a61-0c1e-8d0b-2a7e5b1c9d10", false], // version nibble 0
  ["3f0c8f4e-9a61-4c1e-7d0b-2a7e5b1c9d10", false], // variant nibble 7
  ["3f0c8f4e9a614c1e8d0b2a7e5b1c9d10", false],
  ["{3f0c8f4e-9a61-4c1e-8d0b-2a7e5b1c9d10}", false],
  [" 3f0c8f4e-9a61-4c1e-8d0b-2a7e5b1c9d10", false],
  ["not-a-uuid", false],
];

const accepts = (check: () => unknown) => {
  try {
    check();
    return true;
  } catch {
    return false;
  }
};

async function webhookIntakeAccepts(id: string): Promise<boolean> {
  const logs: Record<string, unknown>[] = [];
  const handler = createWebhookHandler({
    sql: (() => Promise.reject(new Error("no database in this test"))) as unknown as Sql,
    applyConcurrency: 0,
    secrets: SECRETS,
    log: (e) => logs.push(e),
    dbDeadlineMs: 50,
  });
  const sig = webhookSignature(id, 1, "unit-secret");
  const res = await handler(
    new Request(`${BASE}?user_id=${encodeURIComponent(id)}&sig=${sig}`, { method: "POST", body: "" }),
  );
  await res.body?.cancel();
  return logs[0]?.reason !== "user_id missing or not a uuid";
}

Deno.test("uuid: intake, URL signing, operator parameters and amocrm-connect agree on every id", async () => {
  for (const [id, expected] of CANDIDATES) {
    const connect = parseConnectRequest(
      { userAccountId: id, subdomain: "acme", longLivedToken: "t" },
      () => undefined,
    );
    const verdicts = {
      intake: await webhookIntakeAccepts(id),
      signing: accepts(() => signWebhookUrl(BASE, id, SECRETS)),
      operator: accepts(() => optionalUuid({ userAccountId: id }, "userAccountId")),
      connect: connect.ok,
    };
    assert.deepEqual(
      verdicts,
      { intake: expected, signing: expected, operator: expected, connect: expected },
      id,
    );
  }
});
