// Rotating the webhook secret: once AMOCRM_WEBHOOK_SECRETS lists a newer key version, the health check
// replaces the destination signed with the old key by one signed with the newest — subscribed first, old one
// removed after — and stores it; the next check finds nothing to do.
import assert from "node:assert/strict";
import { startSimulator } from "../../../local/amocrm-simulator/mod.ts";
import { createAmoCrmClient } from "../../../supabase/functions/_shared/amocrm/mod.ts";
import { checkWebhook } from "../../../supabase/functions/_shared/jobs/webhook_health.ts";
import { parseWebhookSecrets } from "../../../supabase/functions/_shared/webhook/secrets.ts";
import { verifyWebhookSignature } from "../../../supabase/functions/_shared/webhook/signature.ts";
import { connectDb, connectSimulatedAccount, testFunctionEnv } from "../../support/connected_account.ts";
import { FUNCTIONS_URL, NO_STACK } from "./_support.ts";

Deno.test({
  name: "a webhook signed with an old key version is re-signed with the newest one",
  ignore: NO_STACK,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const sql = connectDb();
    const sim = await startSimulator({ port: 0, seed: 41 });
    const account = await connectSimulatedAccount(sql, sim, {
      functionsUrl: FUNCTIONS_URL!,
      label: "rotation",
    });
    try {
      const current = (await testFunctionEnv()).AMOCRM_WEBHOOK_SECRETS; // "v1:…"
      const rotated = parseWebhookSecrets(`${current},v2:rotated-secret-for-the-test`);
      const client = createAmoCrmClient({ connectionId: account.connectionId, deps: { sql } });

      const result = await checkWebhook(sql, client, account.userAccountId, rotated);
      assert.deepEqual([result.seen, result.repaired], ["resigned", true]);

      const [{ destination }] = await sql`
        select webhook_destination as destination from amocrm.connections where id = ${account.connectionId}`;
      const sig = new URL(destination).searchParams.get("sig") ?? "";
      assert.ok(sig.startsWith("v2."), `stored destination is signed with v2: ${sig}`);
      assert.equal(
        verifyWebhookSignature(account.userAccountId, sig, rotated).ok,
        true,
        "the new signature verifies",
      );
      const subscribed = sim.accountSummary(account.subdomain).webhooks.map((w) => w.destination);
      assert.deepEqual(subscribed, [destination], "amoCRM now delivers only to the re-signed URL");

      const again = await checkWebhook(sql, client, account.userAccountId, rotated);
      assert.notEqual(again.seen, "resigned", "a second check finds the rotation done");
    } finally {
      await account.remove();
      await sim.stop();
      await sql.end();
    }
  },
});

Deno.test({
  name: "a rotation whose old webhook is already gone at amoCRM (DELETE → 404) still completes and is stored",
  ignore: NO_STACK,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const sql = connectDb();
    const sim = await startSimulator({ port: 0, seed: 42 });
    const account = await connectSimulatedAccount(sql, sim, {
      functionsUrl: FUNCTIONS_URL!,
      label: "rotation 404",
    });
    try {
      const current = (await testFunctionEnv()).AMOCRM_WEBHOOK_SECRETS;
      const rotated = parseWebhookSecrets(`${current},v2:rotated-secret-for-the-test`);
      const client = createAmoCrmClient({ connectionId: account.connectionId, deps: { sql } });
      // An admin removed our webhook in amoCRM's settings; amoCRM's webhooks page: DELETE of a destination that
      // is not subscribed answers 404.
      sim.internalAccount(account.subdomain).webhooks.remove(account.destination);

      const result = await checkWebhook(sql, client, account.userAccountId, rotated);
      assert.deepEqual([result.seen, result.repaired], ["resigned", true]);
      const [{ destination }] = await sql`
        select webhook_destination as destination from amocrm.connections where id = ${account.connectionId}`;
      assert.match(new URL(destination).searchParams.get("sig") ?? "", /^v2\./, "the new URL is stored");
      assert.deepEqual(
        sim.accountSummary(account.subdomain).webhooks.map((w) => w.destination),
        [destination],
        "amoCRM delivers to the stored URL",
      );
      const again = await checkWebhook(sql, client, account.userAccountId, rotated);
      assert.deepEqual([again.seen, again.repaired], ["ok", false], "the next check finds nothing to do");
    } finally {
      await account.remove();
      await sim.stop();
      await sql.end();
    }
  },
});
