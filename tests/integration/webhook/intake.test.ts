// The handler against a real database (DATABASE_URL, all migrations applied): what each kind of request
// leaves behind in amocrm.webhook_inbox / amocrm.webhook_events. Background applies are awaited through
// waitUntil so nothing outlives a test.
import assert from "node:assert/strict";
import postgres from "postgres";
import {
  createWebhookHandler,
  type LogEntry,
  MAX_BODY_BYTES,
  type WebhookHandlerDeps,
} from "../../../supabase/functions/amocrm-webhook/handler.ts";
import { createWebhookStore } from "../../../supabase/functions/amocrm-webhook/store.ts";
import { parseWebhookSecrets } from "../../../supabase/functions/_shared/webhook/secrets.ts";
import { signWebhookUrl } from "../../../supabase/functions/_shared/webhook/signature.ts";
import { FORM, lead, phpForm } from "../../unit/webhook/helpers.ts";
import {
  cleanup,
  connect,
  createTestAccount,
  DB_URL,
  eventRows,
  fixtureFor,
  inboxRows,
  receiveRequest,
  type Sql,
  type TestAccount,
} from "./support.ts";

const SECRETS = parseWebhookSecrets("v1:integration-old,v2:integration-new");
const BASE = "http://127.0.0.1/functions/v1/amocrm-webhook";
const opts = { ignore: !DB_URL, sanitizeOps: false, sanitizeResources: false };

interface Harness {
  sql: Sql;
  account: TestAccount;
  url: string;
  logs: LogEntry[];
  send(body: string, init?: { url?: string; contentType?: string; method?: string }): Promise<Response>;
  done(): Promise<void>;
}

async function harness(
  label: string,
  sqlForHandler?: Sql,
  options: Pick<WebhookHandlerDeps, "receiveConcurrency" | "applyConcurrency" | "dbDeadlineMs"> = {},
): Promise<Harness> {
  const sql = connect();
  const account = await createTestAccount(sql, label);
  const logs: LogEntry[] = [];
  const background: Promise<unknown>[] = [];
  const handler = createWebhookHandler({
    sql: sqlForHandler ?? sql,
    secrets: SECRETS,
    log: (e) => logs.push(e),
    waitUntil: (p) => background.push(p),
    ...options,
  });
  const url = signWebhookUrl(BASE, account.userAccountId, SECRETS);
  return {
    sql,
    account,
    url,
    logs,
    async send(body, init = {}) {
      const res = await handler(
        new Request(init.url ?? url, {
          method: init.method ?? "POST",
          body,
          headers: { "content-type": init.contentType ?? FORM, "user-agent": "amoCRM-WebHook-client/1.0" },
        }),
      );
      await Promise.all(background.splice(0));
      return res;
    },
    async done() {
      await Promise.all(background.splice(0));
      await cleanup(sql, account);
      await sql.end();
    },
  };
}

Deno.test({
  name: "valid POST → 200, raw body and its canonical events stored together",
  ...opts,
  async fn() {
    const h = await harness("valid");
    try {
      const body = fixtureFor("update_lead.2025.form", h.account);
      const res = await h.send(body);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { ok: true });

      const [inbox, ...more] = await inboxRows(h.sql, h.account.userAccountId);
      assert.equal(more.length, 0);
      assert.equal(inbox.raw_body, body);
      assert.equal(inbox.content_type, FORM);
      assert.equal(inbox.event_count, 1);
      assert.equal(inbox.error, null);
      assert.notEqual(inbox.state, "quarantined");

      const events = await eventRows(h.sql, h.account.userAccountId);
      assert.equal(events.length, 1);
      const [event] = events;
      assert.equal(event.inbox_id, inbox.id);
      // The dedupe key: amoCRM's identity of the event plus a hash of its content (a different change in the
      // same second is another event; the same body delivered again is not).
      assert.deepEqual(
        [event.entity, event.action, event.amocrm_id, event.amocrm_ts],
        ["lead", "update", "30052055", "1744532876"],
      );
      // Identity at amoCRM plus a hash of the content: a redelivery repeats both, another edit in the same second does not.
      assert.match(event.dedupe_key, /^lead:update:30052055:1744532876:[0-9a-f]{32}$/);
      assert.equal(event.payload.status_id, "17944873");
      assert.deepEqual(event.payload.custom_fields, [{
        id: "957901",
        name: "test_id",
        values: [{ value: "30052055" }],
      }]);

      const line = h.logs.at(-1)!;
      assert.equal(line.outcome, "stored");
      assert.equal(line.status, 200);
      assert.equal(line.user_account_id, h.account.userAccountId);
      assert.equal(line.inbox_id, Number(inbox.id));
      assert.equal(line.events, 1);
      assert.equal(typeof line.ms, "number");
    } finally {
      await h.done();
    }
  },
});

Deno.test({
  name: "redelivery ×3 → each answered 200 and stored raw, no new events",
  ...opts,
  async fn() {
    const h = await harness("redelivery");
    try {
      const body = fixtureFor("add_lead.2025.form", h.account);
      assert.equal((await h.send(body)).status, 200);
      for (let i = 0; i < 3; i++) {
        const res = await h.send(body);
        await res.body?.cancel();
        assert.equal(res.status, 200);
        assert.equal(
          h.logs.at(-1)!.events,
          1,
          "stored with its parsed event; the apply step drops the repeat",
        );
      }
      const inbox = await inboxRows(h.sql, h.account.userAccountId);
      assert.equal(inbox.length, 4);
      // Every POST is processed; the redelivered event exists once.
      assert.ok(inbox.every((row) => row.state === "processed"));
      assert.equal((await eventRows(h.sql, h.account.userAccountId)).length, 1);
    } finally {
      await h.done();
    }
  },
});

Deno.test({
  name: "a 250-entity batch stores 250 events from one POST; the apply step is kicked once",
  ...opts,
  async fn() {
    const h = await harness("batch");
    try {
      const t = 1_750_000_000;
      const leads = Array.from({ length: 250 }, (_, i) => lead(10_000 + i, t + i));
      const body = phpForm({
        account: { subdomain: h.account.subdomain, id: String(h.account.amocrmAccountId) },
        leads: { add: leads.slice(0, 100), update: leads.slice(100, 200), status: leads.slice(200) },
      });
      assert.equal((await h.send(body)).status, 200);
      const events = await eventRows(h.sql, h.account.userAccountId);
      assert.equal(events.length, 250);
      assert.deepEqual(new Set(events.map((e) => Number(e.amocrm_id))).size, 250);

      const [{ exists }] = await h.sql<{ exists: boolean }[]>`
        select to_regprocedure('private.apply_webhook_events(bigint)') is not null as exists`;
      if (exists) {
        // The background apply ran (awaited via waitUntil): nothing is left pending.
        assert.ok(events.every((e) => e.state !== "pending"), "events applied in the background");
      } else {
        // Not deployed yet: a missing function is logged, never fails the request.
        assert.equal(h.logs.find((e) => e.event === "apply_failed")?.sqlstate, "42883");
      }
    } finally {
      await h.done();
    }
  },
});

Deno.test({
  name: "bad or missing sig → 401 and nothing written",
  ...opts,
  async fn() {
    const h = await harness("bad-sig");
    try {
      const body = fixtureFor("add_lead.2025.form", h.account);
      const forged = signWebhookUrl(BASE, h.account.userAccountId, parseWebhookSecrets("v2:guessed"));
      for (const url of [forged, `${BASE}?user_id=${h.account.userAccountId}`]) {
        const res = await h.send(body, { url });
        await res.body?.cancel();
        assert.equal(res.status, 401);
      }
      assert.equal((await inboxRows(h.sql, h.account.userAccountId)).length, 0);
    } finally {
      await h.done();
    }
  },
});

Deno.test({
  name: "a key version older than the connection's webhook_key_version → 401 (URL revoked)",
  ...opts,
  async fn() {
    const h = await harness("revoked");
    try {
      await h
        .sql`update amocrm.connections set webhook_key_version = 2 where user_account_id = ${h.account.userAccountId}`;
      const body = fixtureFor("add_lead.2025.form", h.account);
      const v1Only = signWebhookUrl(BASE, h.account.userAccountId, parseWebhookSecrets("v1:integration-old"));
      const old = await h.send(body, { url: v1Only });
      await old.body?.cancel();
      assert.equal(old.status, 401);
      assert.equal((await inboxRows(h.sql, h.account.userAccountId)).length, 0);
      const current = await h.send(body);
      await current.body?.cancel();
      assert.equal(current.status, 200);
    } finally {
      await h.done();
    }
  },
});

Deno.test({
  name: "unknown user account (validly signed) → 404 and nothing written",
  ...opts,
  async fn() {
    const h = await harness("unknown");
    try {
      const stranger = crypto.randomUUID();
      const res = await h.send(fixtureFor("add_lead.2025.form", h.account), {
        url: signWebhookUrl(BASE, stranger, SECRETS),
      });
      await res.body?.cancel();
      assert.equal(res.status, 404);
      const [{ count }] = await h.sql<{ count: number }[]>`
        select count(*)::int as count from amocrm.webhook_inbox where user_account_id = ${stranger}::uuid`;
      assert.equal(count, 0);
      assert.equal(h.logs.at(-1)!.outcome, "unknown_account");
    } finally {
      await h.done();
    }
  },
});

Deno.test({
  name: "a connection the user disconnected → 410 and nothing written",
  ...opts,
  async fn() {
    const h = await harness("disconnected");
    try {
      await h
        .sql`update amocrm.connections set state = 'disconnected' where user_account_id = ${h.account.userAccountId}`;
      const res = await h.send(fixtureFor("add_lead.2025.form", h.account));
      await res.body?.cancel();
      assert.equal(res.status, 410);
      assert.equal(h.logs.at(-1)!.outcome, "disconnected");
      assert.equal((await inboxRows(h.sql, h.account.userAccountId)).length, 0);
    } finally {
      await h.done();
    }
  },
});

Deno.test({
  name: "account[id] or account[subdomain] of another account → 403 and nothing written",
  ...opts,
  async fn() {
    const h = await harness("mismatch");
    try {
      const foreignId = fixtureFor("add_lead.2025.form", h.account)
        .replace(`account%5Bid%5D=${h.account.amocrmAccountId}`, "account%5Bid%5D=16700680");
      const foreignSubdomain = fixtureFor("add_lead.2025.form", h.account)
        .replace(`account%5Bsubdomain%5D=${h.account.subdomain}`, "account%5Bsubdomain%5D=unirock");
      const foreignJson = JSON.stringify({
        account: { id: 1, subdomain: h.account.subdomain },
        leads: { status: [{ id: 5 }] },
      });
      for (
        const [body, type] of [[foreignId, FORM], [foreignSubdomain, FORM], [foreignJson, "application/json"]]
      ) {
        const res = await h.send(body, { contentType: type });
        await res.body?.cancel();
        assert.equal(res.status, 403);
        assert.equal(h.logs.at(-1)!.outcome, "account_mismatch");
      }
      assert.equal((await inboxRows(h.sql, h.account.userAccountId)).length, 0);
    } finally {
      await h.done();
    }
  },
});

Deno.test({
  name: "refusals hold for malformed bodies too: unknown account 404, revoked key 401, nothing written",
  ...opts,
  async fn() {
    const h = await harness("refused-junk");
    try {
      const stranger = crypto.randomUUID();
      const unknown = await h.send("hello world", { url: signWebhookUrl(BASE, stranger, SECRETS) });
      await unknown.body?.cancel();
      assert.equal(unknown.status, 404);
      await h
        .sql`update amocrm.connections set webhook_key_version = 2 where user_account_id = ${h.account.userAccountId}`;
      const v1 = signWebhookUrl(BASE, h.account.userAccountId, parseWebhookSecrets("v1:integration-old"));
      const revoked = await h.send("hello world", { url: v1 });
      await revoked.body?.cancel();
      assert.equal(revoked.status, 401);
      assert.equal((await inboxRows(h.sql, h.account.userAccountId)).length, 0);
    } finally {
      await h.done();
    }
  },
});

Deno.test({
  name: "a connection whose amoCRM account id is not known yet checks the subdomain only",
  ...opts,
  async fn() {
    const h = await harness("no-account-id");
    try {
      await h
        .sql`update amocrm.connections set amocrm_account_id = null where user_account_id = ${h.account.userAccountId}`;
      const body = fixtureFor("add_lead.2025.form", h.account);
      const ok = await h.send(body);
      await ok.body?.cancel();
      assert.equal(ok.status, 200);
      const otherSubdomain = await h.send(
        body.replace(`account%5Bsubdomain%5D=${h.account.subdomain}`, "account%5Bsubdomain%5D=x"),
      );
      await otherSubdomain.body?.cancel();
      assert.equal(otherSubdomain.status, 403);
      assert.equal((await inboxRows(h.sql, h.account.userAccountId)).length, 1);
    } finally {
      await h.done();
    }
  },
});

Deno.test({
  name: "malformed bodies → 200 and a quarantined inbox row with the reason, no events",
  ...opts,
  async fn() {
    const h = await harness("malformed");
    try {
      const bodies: [string, string, RegExp][] = [
        ["{not json", "application/json", /^invalid JSON/],
        ["leads[add][0][name]=no-id", FORM, /leads\.add\.0\.id/],
        ["hello world", FORM, /not an amoCRM event group/],
        ["", FORM, /^empty body$/],
        ["leads[add][0][id]=5&leads[add][0][name]=a%00b", FORM, /NUL/],
      ];
      for (const [body, contentType] of bodies) {
        const res = await h.send(body, { contentType });
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { ok: true });
        assert.equal(h.logs.at(-1)!.outcome, "quarantined");
      }
      const rows = await inboxRows(h.sql, h.account.userAccountId);
      assert.equal(rows.length, bodies.length);
      rows.forEach((row, i) => {
        assert.equal(row.state, "quarantined");
        assert.match(row.error ?? "", bodies[i][2]);
        assert.equal(row.raw_body, bodies[i][0]);
      });
      assert.equal((await eventRows(h.sql, h.account.userAccountId)).length, 0);
    } finally {
      await h.done();
    }
  },
});

Deno.test({
  name: "a raw NUL byte in the body is stored as U+FFFD, quarantined",
  ...opts,
  async fn() {
    const h = await harness("nul");
    try {
      const res = await h.send("leads[add][0][id]=5\0");
      await res.body?.cancel();
      assert.equal(res.status, 200);
      const [row] = await inboxRows(h.sql, h.account.userAccountId);
      assert.equal(row.state, "quarantined");
      assert.equal(row.raw_body, "leads[add][0][id]=5\uFFFD");
      // The six characters \u0000 typed into a field are just text.
      const typed = await h.send("leads[add][0][id]=6&leads[add][0][name]=%5Cu0000");
      await typed.body?.cancel();
      assert.equal(h.logs.at(-1)!.outcome, "stored");
      const [event] = await eventRows(h.sql, h.account.userAccountId);
      assert.equal(event.payload.name, "\\u0000");
    } finally {
      await h.done();
    }
  },
});

Deno.test({
  name: "events Postgres refuses (a lone surrogate) → 200, raw body quarantined with the database's reason",
  ...opts,
  async fn() {
    const h = await harness("rejected");
    try {
      // Valid JSON and valid for zod, but jsonb rejects an unpaired surrogate: storing must not be retried.
      const body = '{"leads":{"add":[{"id":"5","name":"\\ud800"}]}}';
      const res = await h.send(body, { contentType: "application/json" });
      await res.body?.cancel();
      assert.equal(res.status, 200);
      const [row, ...more] = await inboxRows(h.sql, h.account.userAccountId);
      assert.equal(more.length, 0);
      assert.equal(row.state, "quarantined");
      assert.match(row.error ?? "", /^database rejected the events: /);
      assert.equal(row.raw_body, body);
      assert.equal((await eventRows(h.sql, h.account.userAccountId)).length, 0);
    } finally {
      await h.done();
    }
  },
});

Deno.test({
  name: "unknown groups only (task, unsorted) → 200, raw body kept, no events",
  ...opts,
  async fn() {
    const h = await harness("unknown-groups");
    try {
      const res = await h.send(
        `account%5Bsubdomain%5D=${h.account.subdomain}&task%5Badd%5D%5B0%5D%5Bid%5D=1`,
      );
      await res.body?.cancel();
      assert.equal(res.status, 200);
      const [row] = await inboxRows(h.sql, h.account.userAccountId);
      assert.deepEqual([row.state, row.error, row.event_count], ["processed", null, 0]);
      assert.deepEqual(h.logs.at(-1)!.ignored, ["task"]);
    } finally {
      await h.done();
    }
  },
});

Deno.test({
  name: "Digital Pipeline JSON → stored with amocrm_ts 0",
  ...opts,
  async fn() {
    const h = await harness("dp");
    try {
      const body = Deno.readTextFileSync(
        new URL("../../fixtures/amocrm/webhooks/status_lead.digital_pipeline.json", import.meta.url),
      );
      const res = await h.send(body, { contentType: "application/json" });
      await res.body?.cancel();
      assert.equal(res.status, 200);
      const [event] = await eventRows(h.sql, h.account.userAccountId);
      assert.deepEqual([event.action, event.amocrm_id, event.amocrm_ts], ["status", "4831596", "0"]);
      assert.equal(event.payload.old_pipeline_id, 752662);
    } finally {
      await h.done();
    }
  },
});

Deno.test({
  name: "body over the limit → 413 and nothing written (declared and streamed)",
  ...opts,
  async fn() {
    const h = await harness("oversize");
    try {
      const big = "leads%5Badd%5D%5B0%5D%5Bid%5D=1&x=" + "a".repeat(MAX_BODY_BYTES);
      const declared = await h.send(big); // a string body: Request gets no content-length, so it is streamed
      await declared.body?.cancel();
      assert.equal(declared.status, 413);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          const chunk = new TextEncoder().encode("a".repeat(16 * 1024));
          for (let i = 0; i <= MAX_BODY_BYTES / chunk.byteLength; i++) controller.enqueue(chunk);
          controller.close();
        },
      });
      const handler = createWebhookHandler({ sql: h.sql, secrets: SECRETS, log: () => {} });
      const streamed = await handler(new Request(h.url, { method: "POST", body: stream }));
      await streamed.body?.cancel();
      assert.equal(streamed.status, 413);
      assert.equal((await inboxRows(h.sql, h.account.userAccountId)).length, 0);
    } finally {
      await h.done();
    }
  },
});

Deno.test({
  name: "database unavailable → 503 (amoCRM retries)",
  ...opts,
  async fn() {
    // Nothing listens on port 1: every query fails to connect.
    const down = postgres("postgresql://postgres:postgres@127.0.0.1:1/postgres", {
      prepare: false,
      connect_timeout: 1,
      max: 1,
      onnotice: () => {},
    });
    const h = await harness("db-down", down);
    try {
      const res = await h.send(fixtureFor("add_lead.2025.form", h.account));
      assert.equal(res.status, 503);
      assert.deepEqual(await res.json(), { error: "try again later" });
      assert.equal(h.logs.at(-1)!.outcome, "db_unavailable");
      assert.equal((await inboxRows(h.sql, h.account.userAccountId)).length, 0);
    } finally {
      await down.end({ timeout: 1 });
      await h.done();
    }
  },
});

Deno.test({
  name: "a store slower than the deadline → 503; it may still land, and amoCRM's retry is then a redelivery",
  ...opts,
  async fn() {
    const h = await harness("slow-store", undefined, { dbDeadlineMs: 300 });
    const blocker = await h.sql.reserve();
    try {
      // Another transaction holds the inbox for a second: the store waits past the deadline.
      await blocker`begin`;
      await blocker`lock table amocrm.webhook_inbox in share row exclusive mode`;
      const body = fixtureFor("add_lead.2025.form", h.account);
      const slow = await h.send(body);
      await slow.body?.cancel();
      assert.equal(slow.status, 503, "past the deadline amoCRM is asked to retry");
      await blocker`commit`;
      // The statement was not cancelled: the POST is stored after all (what the 503 promises is only "retry").
      let rows = await inboxRows(h.sql, h.account.userAccountId);
      for (let i = 0; i < 50 && rows.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        rows = await inboxRows(h.sql, h.account.userAccountId);
      }
      assert.equal(rows.length, 1, "the slow store landed");
      const retry = await h.send(body);
      await retry.body?.cancel();
      assert.equal(retry.status, 200);
      await h.sql`select private.apply_pending_webhook_events()`;
      const [{ applied, dropped }] = await h.sql<{ applied: number; dropped: number }[]>`
        select count(*) filter (where e.state = 'applied')::int as applied,
               (select count(*)::int from amocrm.webhook_inbox i where i.user_account_id = ${h.account.userAccountId}
                  and not exists (select 1 from amocrm.webhook_events x where x.inbox_id = i.id)) as dropped
        from amocrm.webhook_events e where e.user_account_id = ${h.account.userAccountId}`;
      assert.equal(applied, 1, "the event is applied once");
      assert.equal(dropped, 1, "the retry's copy was dropped as a redelivery");
    } finally {
      await blocker`rollback`.catch(() => {});
      blocker.release();
      await h.done();
    }
  },
});

Deno.test({
  name: "concurrent POSTs share inserts: each keeps its own row, events and answer; refusals stay per POST",
  ...opts,
  async fn() {
    // One statement at a time, so the POSTs that arrive meanwhile must share the next one.
    const h = await harness("burst-a", undefined, { receiveConcurrency: 1, applyConcurrency: 0 });
    const a = h.account;
    const b = await createTestAccount(h.sql, "burst-b");
    const urlFor = (account: TestAccount) => signWebhookUrl(BASE, account.userAccountId, SECRETS);
    const leadBody = (account: TestAccount, id: number, claimedId = account.amocrmAccountId) =>
      phpForm({
        account: { subdomain: account.subdomain, id: String(claimedId) },
        leads: { update: [lead(id, 1_700_000_000 + id)] },
      });
    try {
      const posts: { account: TestAccount; body: string; status: number }[] = [];
      for (let i = 1; i <= 10; i++) {
        posts.push({ account: a, body: leadBody(a, 5000 + i), status: 200 });
        posts.push({ account: b, body: leadBody(b, 7000 + i), status: 200 });
        if (i % 2 === 0) posts.push({ account: a, body: leadBody(a, 9000 + i, 16700680), status: 403 });
        if (i % 2 === 1) posts.push({ account: b, body: `hello world ${i}`, status: 200 });
      }
      const responses = await Promise.all(posts.map((p) => h.send(p.body, { url: urlFor(p.account) })));
      await Promise.all(responses.map((r) => r.body?.cancel()));
      assert.deepEqual(responses.map((r) => r.status), posts.map((p) => p.status));
      assert.ok(h.logs.some((e) => Number(e.batch) > 1), "some POSTs shared a statement");

      for (const account of [a, b]) {
        const rows = await inboxRows(h.sql, account.userAccountId);
        const expected = posts.filter((p) => p.account === account && p.status === 200);
        assert.deepEqual(rows.map((r) => r.raw_body).sort(), expected.map((p) => p.body).sort());
        for (const row of rows) {
          if (row.raw_body.startsWith("hello")) {
            assert.equal(row.state, "quarantined");
            assert.equal(row.event_count, 0);
          } else {
            // The events stored with a body are that body's own.
            const leadId = Number(/leads%5Bupdate%5D%5B0%5D%5Bid%5D=(\d+)/.exec(row.raw_body)![1]);
            assert.deepEqual(row.events.map((e) => [e.entity, e.action, e.amocrm_id]), [[
              "lead",
              "update",
              leadId,
            ]]);
          }
        }
      }
      // Every 200 names its own inbox row.
      const stored = h.logs.filter((e) => e.status === 200).map((e) => e.inbox_id);
      assert.equal(new Set(stored).size, stored.length);
    } finally {
      await cleanup(h.sql, b);
      await h.done();
    }
  },
});

Deno.test({
  name: "one statement for several POSTs: a result per POST in order, refused ones (unknown, revoked) null",
  ...opts,
  async fn() {
    const sql = connect();
    const a = await createTestAccount(sql, "many-a");
    const b = await createTestAccount(sql, "many-b");
    try {
      await sql`update amocrm.connections set webhook_key_version = 2 where user_account_id = ${b.userAccountId}`;
      const request = (
        account: TestAccount | string,
        keyVersion: number,
        rawBody: string,
        eventsJson = "[]",
      ) =>
        receiveRequest(
          typeof account === "string" ? account : account.userAccountId,
          rawBody,
          eventsJson,
          keyVersion,
        );
      const event = JSON.stringify([{
        entity: "lead",
        action: "add",
        amocrm_id: 42,
        amocrm_ts: 1,
        payload: {},
      }]);
      const results = await createWebhookStore(sql).receiveManyIfConnected([
        request(a, 1, "first", event),
        request(crypto.randomUUID(), 1, "unknown account"),
        request(b, 1, "revoked key version"),
        request(b, 2, "b with v2"),
        request(a, 2, "second"),
      ]);
      assert.deepEqual(results.map((r) => r?.event_count ?? null), [1, null, null, 0, 0]);
      const rowsA = await inboxRows(sql, a.userAccountId);
      assert.deepEqual(rowsA.map((r) => [r.id, r.raw_body, r.state]), [
        [String(results[0]!.inbox_id), "first", "received"],
        [String(results[4]!.inbox_id), "second", "processed"],
      ]);
      assert.deepEqual((await inboxRows(sql, b.userAccountId)).map((r) => r.raw_body), ["b with v2"]);
    } finally {
      await cleanup(sql, a);
      await cleanup(sql, b);
      await sql.end();
    }
  },
});

Deno.test({
  name: "the sweep applies stored rows nobody kicked, and reports how many events it applied",
  ...opts,
  async fn() {
    const sql = connect();
    const a = await createTestAccount(sql, "sweep");
    try {
      const store = createWebhookStore(sql);
      const post = (id: number) =>
        receiveRequest(
          a.userAccountId,
          `lead ${id}`,
          JSON.stringify([{
            entity: "lead",
            action: "add",
            amocrm_id: id,
            amocrm_ts: 1_700_000_000,
            payload: { id: String(id), status_id: "10", pipeline_id: "100", updated_at: "1700000000" },
          }]),
        );
      await store.receiveManyIfConnected([post(71), post(72), post(73)]);
      assert.deepEqual((await inboxRows(sql, a.userAccountId)).map((r) => r.state), [
        "received",
        "received",
        "received",
      ]);

      const applied = await store.applyPending(10_000);
      assert.ok(
        applied >= 3,
        `applied ${applied} events (ours are 3; other accounts' waiting ones count too)`,
      );
      assert.deepEqual((await inboxRows(sql, a.userAccountId)).map((r) => r.state), [
        "processed",
        "processed",
        "processed",
      ]);
      const deals = await sql`select amocrm_lead_id::int as id from public.amocrm_deals
        where user_account_id = ${a.userAccountId} order by 1`;
      assert.deepEqual(deals.map((d) => d.id), [71, 72, 73]);
    } finally {
      await cleanup(sql, a);
      await sql.end();
    }
  },
});

Deno.test({
  name: "account[id] with leading zeros is the connected account → 200 and stored, not a 503 for ever",
  ...opts,
  async fn() {
    const h = await harness("zero-padded-id");
    try {
      const body = fixtureFor("add_lead.2025.form", h.account)
        .replace(
          `account%5Bid%5D=${h.account.amocrmAccountId}`,
          `account%5Bid%5D=0${h.account.amocrmAccountId}`,
        );
      for (let delivery = 0; delivery < 2; delivery++) {
        const res = await h.send(body);
        await res.body?.cancel();
        assert.equal(res.status, 200, JSON.stringify(h.logs.at(-1)));
      }
      const rows = await inboxRows(h.sql, h.account.userAccountId);
      assert.deepEqual(rows.map((r) => [r.raw_body, r.state]), [[body, "processed"], [body, "processed"]]);
    } finally {
      await h.done();
    }
  },
});

Deno.test({
  name: "the account rule (one SQL function for the guard and the 403's reason): ids as decimal numbers, " +
    "subdomains case-insensitive, an unknown connection id checks the subdomain only",
  ...opts,
  async fn() {
    const sql = connect();
    try {
      const cases: [string | null, string | null, string | null, string | null, RegExp | null][] = [
        ["16700680", "unirock", null, null, null],
        ["16700680", "unirock", "16700680", "UniRock", null],
        ["16700680", "unirock", "016700680", null, null],
        ["16700680", "unirock", "00000000000000000000016700680", null, null],
        ["16700680", "unirock", "1", "unirock", /^account\[id\] 1 is not the connected account 16700680$/],
        ["16700680", "unirock", "16700680 ", null, /^account\[id\]/],
        ["16700680", "unirock", "-16700680", null, /^account\[id\]/],
        ["16700680", "unirock", "", null, /^account\[id\]/],
        [
          "16700680",
          "unirock",
          null,
          "other",
          /^account\[subdomain\] 'other' is not the connected subdomain/,
        ],
        [null, "unirock", "1", "unirock", null],
        [null, "unirock", "1", "Other", /^account\[subdomain\]/],
      ];
      for (const [connectionId, connectionSubdomain, claimedId, claimedSubdomain, expected] of cases) {
        const [{ mismatch }] = await sql<{ mismatch: string | null }[]>`
          select private.webhook_account_mismatch(${connectionId}::bigint, ${connectionSubdomain}::text,
            ${claimedId}::text, ${claimedSubdomain}::text) as mismatch`;
        const label = JSON.stringify([connectionId, connectionSubdomain, claimedId, claimedSubdomain]);
        if (expected === null) assert.equal(mismatch, null, label);
        else assert.match(mismatch ?? "", expected, label);
      }
    } finally {
      await sql.end();
    }
  },
});

Deno.test({
  name: "an event stamped beyond the clock tolerance after its receipt is quarantined with the reason; " +
    "the deal is not frozen: the next API snapshot still wins",
  ...opts,
  async fn() {
    const h = await harness("future-time");
    try {
      const now = Math.floor(Date.now() / 1000);
      const post = (id: number, ts: number, status: string) =>
        phpForm({
          account: { subdomain: h.account.subdomain, id: String(h.account.amocrmAccountId) },
          leads: { update: [lead(id, ts, { status_id: status, updated_at: String(ts) })] },
        });
      // Year 5138, and just within the tolerance (an hour ahead: amoCRM's clock, time zones).
      for (const body of [post(61, 99_999_999_999, "142"), post(62, now + 3600, "20")]) {
        const res = await h.send(body);
        await res.body?.cancel();
        assert.equal(res.status, 200);
      }
      const events = await h.sql<{ amocrm_id: string; state: string; error: string | null }[]>`
        select amocrm_id::text, state, error from amocrm.webhook_events
         where user_account_id = ${h.account.userAccountId} order by amocrm_id`;
      assert.deepEqual(events.map((e) => [e.amocrm_id, e.state]), [["61", "quarantined"], ["62", "applied"]]);
      assert.match(
        events[0].error ?? "",
        /^amoCRM time 99999999999 is more than 1 day ahead of the webhook's receipt/,
      );
      const [inbox] = await inboxRows(h.sql, h.account.userAccountId);
      assert.equal(inbox.state, "processed");

      // The API says what the deal is now: it applies, and later webhooks keep applying.
      const [{ outcome }] = await h.sql<{ outcome: string }[]>`
        select private.apply_deal_snapshot(${h.account.userAccountId}::uuid, ${
        h.sql.json({
          id: 61,
          name: "Deal 61",
          status_id: 30,
          pipeline_id: 936736,
          price: 100,
          responsible_user_id: 1,
          created_at: now - 600,
          updated_at: now - 60,
        })
      }::jsonb) as outcome`;
      assert.equal(outcome, "applied");
      const later = await h.send(post(61, now, "40"));
      await later.body?.cancel();
      const [deal] = await h.sql<{ status_id: number; updated: string }[]>`
        select status_id, extract(epoch from amocrm_updated_at)::bigint::text as updated from public.amocrm_deals
         where user_account_id = ${h.account.userAccountId} and amocrm_lead_id = 61`;
      assert.deepEqual([deal.status_id, deal.updated], [40, String(now)]);
    } finally {
      await h.done();
    }
  },
});
