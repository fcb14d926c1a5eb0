// Through the local functions host (FUNCTIONS_URL, e.g. http://127.0.0.1:54331/functions/v1): the deployed
// shape of the function — config.toml's verify_jwt = false, env from supabase/functions/.env.example, real HTTP.
// The host must use the same database as DATABASE_URL (the test command arranges both).
import assert from "node:assert/strict";
import { readDotEnv } from "../../../local/functions-host/config.ts";
import { signWebhookUrl } from "../../../supabase/functions/_shared/webhook/signature.ts";
import { cleanup, connect, createTestAccount, DB_URL, fixtureFor, inboxRows } from "./support.ts";

const FUNCTIONS_URL = Deno.env.get("FUNCTIONS_URL")?.replace(/\/$/, "");

/** The secrets the test stack's host gives the function: supabase/functions/.env.example. */
async function hostSecrets(): Promise<string> {
  const dotEnv = await readDotEnv(
    new URL("../../../supabase/functions/.env.example", import.meta.url).pathname,
  );
  const secrets = dotEnv.AMOCRM_WEBHOOK_SECRETS;
  if (!secrets) throw new Error("supabase/functions/.env.example must set AMOCRM_WEBHOOK_SECRETS");
  return secrets;
}

Deno.test({
  name: "over HTTP: signed POST → 200 and stored; bad sig → 401; GET → 405; no JWT needed",
  ignore: !FUNCTIONS_URL || !DB_URL,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const sql = connect();
    const account = await createTestAccount(sql, "http");
    try {
      const endpoint = `${FUNCTIONS_URL}/amocrm-webhook`;
      const url = signWebhookUrl(endpoint, account.userAccountId, await hostSecrets());
      const body = fixtureFor("status_lead.2016.form", account)
        .replace("account%5Bsubdomain%5D=test000002", `account%5Bsubdomain%5D=${account.subdomain}`);
      const headers = {
        "content-type": "application/x-www-form-urlencoded",
        "user-agent": "amoCRM-WebHook-client/1.0",
      };

      const ok = await fetch(url, { method: "POST", body, headers });
      assert.equal(ok.status, 200, await ok.clone().text());
      assert.deepEqual(await ok.json(), { ok: true });
      const [inbox] = await inboxRows(sql, account.userAccountId);
      assert.equal(inbox.raw_body, body);
      // Durable before the answer: the raw body and its parsed events, in one row.
      assert.deepEqual(inbox.events.map((e) => [e.action, e.amocrm_id, e.amocrm_ts]), [
        ["status", 31926520, 1456820780],
      ]);

      const forged = await fetch(`${endpoint}?user_id=${account.userAccountId}&sig=v1.${"0".repeat(64)}`, {
        method: "POST",
        body,
        headers,
      });
      await forged.body?.cancel();
      assert.equal(forged.status, 401);

      const get = await fetch(url);
      await get.body?.cancel();
      assert.equal(get.status, 405);
      assert.equal((await inboxRows(sql, account.userAccountId)).length, 1);
    } finally {
      await cleanup(sql, account);
      await sql.end();
    }
  },
});
