// One account's big POSTs must not hold up another account's webhooks — neither the answer (parsing runs in
// slices taken round-robin by account) nor the apply (a big row is applied slice by slice, the kicks of other
// accounts taking turns). Asserted as an order of events, never as a time: B's answer comes before A's, and
// B's event is applied while A's row still has events pending.
import assert from "node:assert/strict";
import { createWebhookHandler } from "../../../supabase/functions/amocrm-webhook/handler.ts";
import { parseWebhookSecrets } from "../../../supabase/functions/_shared/webhook/secrets.ts";
import { signWebhookUrl } from "../../../supabase/functions/_shared/webhook/signature.ts";
import { FORM } from "../../unit/webhook/helpers.ts";
import { cleanup, connect, createTestAccount, DB_URL, type TestAccount } from "./support.ts";

const SECRETS = parseWebhookSecrets("v1:fairness");
const BASE = "http://127.0.0.1/functions/v1/amocrm-webhook";
const opts = { ignore: !DB_URL, sanitizeOps: false, sanitizeResources: false };

/** `count` lead events in one body (brackets unencoded, as PHP's parse_str also reads them). */
function leadsBody(account: TestAccount, action: string, firstId: number, count: number, ts: number): string {
  const parts = [`account%5Bsubdomain%5D=${account.subdomain}&account%5Bid%5D=${account.amocrmAccountId}`];
  for (let i = 0; i < count; i++) {
    const p = `leads[${action}][${i}]`;
    parts.push(
      `${p}[id]=${firstId + i}&${p}[status_id]=30&${p}[old_status_id]=20&${p}[pipeline_id]=936736&` +
        `${p}[updated_at]=${ts}`,
    );
  }
  return parts.join("&");
}

const post = (url: string, body: string) =>
  new Request(url, { method: "POST", body, headers: { "content-type": FORM } });

Deno.test({
  name: "another account's small POST is answered before one account's four big POSTs that came first",
  ...opts,
  async fn() {
    const sql = connect();
    const a = await createTestAccount(sql, "fair-ack-a");
    const b = await createTestAccount(sql, "fair-ack-b");
    const handler = createWebhookHandler({ sql, secrets: SECRETS, log: () => {}, applyConcurrency: 0 });
    try {
      const ts = Math.floor(Date.now() / 1000) - 60;
      const order: string[] = [];
      const send = (label: string, account: TestAccount, body: string) =>
        handler(post(signWebhookUrl(BASE, account.userAccountId, SECRETS), body)).then(async (res) => {
          assert.equal(res.status, 200, await res.text());
          order.push(label);
        });
      const big = [1, 2, 3, 4].map((n) => send(`A${n}`, a, leadsBody(a, "update", n * 10_000, 4_000, ts)));
      const small = send("B", b, leadsBody(b, "update", 1, 1, ts));
      await Promise.all([...big, small]);
      assert.equal(order[0], "B", `answers in order ${order.join(", ")}`);
    } finally {
      await cleanup(sql, a);
      await cleanup(sql, b);
      await sql.end();
    }
  },
});

Deno.test({
  name:
    "another account's event is applied between the slices of one account's 1,500-event POST, not after it",
  ...opts,
  async fn() {
    const sql = connect();
    const a = await createTestAccount(sql, "fair-apply-a");
    const b = await createTestAccount(sql, "fair-apply-b");
    const background: Promise<unknown>[] = [];
    const handler = createWebhookHandler({
      sql,
      secrets: SECRETS,
      log: () => {},
      waitUntil: (p) => background.push(p),
      applyConcurrency: 1,
    });
    try {
      const ts = Math.floor(Date.now() / 1000) - 60;
      const big = await handler(
        post(signWebhookUrl(BASE, a.userAccountId, SECRETS), leadsBody(a, "status", 100_000, 1_500, ts)),
      );
      assert.equal(big.status, 200, await big.text());
      const small = await handler(
        post(signWebhookUrl(BASE, b.userAccountId, SECRETS), leadsBody(b, "status", 1, 1, ts)),
      );
      assert.equal(small.status, 200, await small.text());
      await Promise.all(background);

      // The order the events were applied in: the apply step stamps each statement's time.
      const [order] = await sql<{ b_applied: Date; a_first: Date; a_last: Date; a_applied: number }[]>`
        select (select applied_at from amocrm.webhook_events where user_account_id = ${b.userAccountId}) as b_applied,
               min(applied_at) as a_first, max(applied_at) as a_last, count(*)::int as a_applied
          from amocrm.webhook_events where user_account_id = ${a.userAccountId} and state = 'applied'`;
      assert.equal(order.a_applied, 1_500);
      assert.ok(order.a_first < order.a_last, "A's POST was applied in more than one statement");
      assert.ok(
        order.b_applied < order.a_last,
        `B's event applied at ${order.b_applied.toISOString()}, A's last at ${order.a_last.toISOString()}`,
      );
    } finally {
      await cleanup(sql, a);
      await cleanup(sql, b);
      await sql.end();
    }
  },
});
