// Hostile bodies from an authenticated sender: a generated corpus (NUL in keys and values, raw NUL bytes,
// invalid UTF-8, \u0000 and lone surrogates in JSON, huge keys, deep brackets and deep JSON, random bytes, a
// valid event followed by a bad key …), each POSTed to the real handler against the real database. The rule:
// a body that authenticates is answered 200 and stored — quarantined with a reason, or applied — never 503,
// never lost. amoCRM resends a body that got a 5xx, and every 5xx feeds its auto-disable counter.
import assert from "node:assert/strict";
import { createWebhookHandler, type LogEntry } from "../../../supabase/functions/amocrm-webhook/handler.ts";
import { parseWebhookSecrets } from "../../../supabase/functions/_shared/webhook/secrets.ts";
import { signWebhookUrl } from "../../../supabase/functions/_shared/webhook/signature.ts";
import { FORM, lead, phpForm } from "../../unit/webhook/helpers.ts";
import { cleanup, connect, createTestAccount, DB_URL, type TestAccount } from "./support.ts";

const SECRETS = parseWebhookSecrets("v1:hostile-bodies");
const BASE = "http://127.0.0.1/functions/v1/amocrm-webhook";
const JSON_TYPE = "application/json";

interface HostileBody {
  name: string;
  body: string | Uint8Array<ArrayBuffer>;
  contentType: string;
  /** The body claims an account that is not the connection's: refused with 403, nothing stored (by design). */
  claimsOtherAccount?: true;
}

/** A small deterministic PRNG (mulberry32): the same "random" bodies on every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function corpus(account: TestAccount): HostileBody[] {
  const header = `account%5Bsubdomain%5D=${account.subdomain}&account%5Bid%5D=${account.amocrmAccountId}`;
  const now = Math.floor(Date.now() / 1000);
  const valid = (id: number) =>
    phpForm({
      account: { subdomain: account.subdomain, id: String(account.amocrmAccountId) },
      leads: { update: [lead(id, now - 60)] },
    });
  const bytes = (...parts: (string | number[])[]) => {
    const chunks = parts.map((p) => typeof p === "string" ? new TextEncoder().encode(p) : new Uint8Array(p));
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  };
  const form = (name: string, body: string | Uint8Array<ArrayBuffer>): HostileBody => ({
    name,
    body,
    contentType: FORM,
  });
  const json = (name: string, body: string): HostileBody => ({ name, body, contentType: JSON_TYPE });

  const list: HostileBody[] = [
    // NUL in keys, percent-encoded and raw, alone and after a valid event.
    form("NUL in a top-level key", "a%00b=1"),
    form("NUL as a whole key", "%00=1"),
    form("raw NUL byte in a key", "a\0b=1"),
    form("valid event, then a key with NUL", `${valid(101)}&a%00b=1`),
    form("valid event, then a raw NUL key", `${valid(102)}&x\0=1`),
    form(
      "NUL in an entity key",
      `${header}&leads%5Bupdate%5D%5B0%5D%5Bid%5D=103&leads%5Bupdate%5D%5B0%5D%5Bna%00me%5D=x`,
    ),
    form("NUL in a group name", `${header}&lea%00ds%5Badd%5D%5B0%5D%5Bid%5D=104`),
    form("NUL in an action name", `${header}&leads%5Bad%00d%5D%5B0%5D%5Bid%5D=105`),
    {
      ...form("NUL in account[subdomain]", `${valid(106)}&account%5Bsubdomain%5D=${account.subdomain}%00`),
      claimsOtherAccount: true,
    },
    form(
      "NUL in account[id]",
      `account%5Bid%5D=${account.amocrmAccountId}%00&leads%5Badd%5D%5B0%5D%5Bid%5D=107`,
    ),
    // NUL in values.
    form(
      "NUL in a value",
      `${header}&leads%5Badd%5D%5B0%5D%5Bid%5D=108&leads%5Badd%5D%5B0%5D%5Bname%5D=a%00b`,
    ),
    form("raw NUL in an id", "leads[add][0][id]=109\0"),
    form("NUL in a junk value", "hello=wor%00ld"),
    // Invalid UTF-8, raw and percent-encoded; an encoded lone surrogate.
    form("invalid UTF-8 bytes in a key", bytes("a", [0xff, 0xfe], "b=1")),
    form(
      "invalid UTF-8 bytes in a value",
      bytes(`${valid(110)}&leads%5Bupdate%5D%5B0%5D%5Bname%5D=`, [0xc3, 0x28]),
    ),
    form("percent-encoded invalid UTF-8 key", "%ff%fe=1"),
    form(
      "percent-encoded surrogate in a value",
      `${valid(111)}&leads%5Bupdate%5D%5B0%5D%5Bname%5D=%ED%A0%80`,
    ),
    form("percent-encoded invalid UTF-8 in a group name", `${header}&%ff%5Badd%5D%5B0%5D%5Bid%5D=1`),
    // JSON with \u0000 and lone surrogates in keys and values.
    json("JSON: \\u0000 in a top-level key", '{"a\\u0000b":1}'),
    json("JSON: \\u0000 as a group with an object", '{"\\u0000":{"x":1}}'),
    json("JSON: \\u0000 in an entity key", '{"leads":{"add":[{"id":"112","na\\u0000me":"x"}]}}'),
    json("JSON: \\u0000 in a value", '{"leads":{"add":[{"id":"113","name":"\\u0000"}]}}'),
    {
      ...json(
        "JSON: \\u0000 in account.subdomain",
        `{"account":{"subdomain":"a\\u0000"},"leads":{"add":[{"id":"114"}]}}`,
      ),
      claimsOtherAccount: true,
    },
    json("JSON: lone surrogate in a value", '{"leads":{"add":[{"id":"115","name":"\\ud800"}]}}'),
    json("JSON: lone surrogate in a key", '{"\\udc00":1}'),
    json("JSON: lone surrogate in a nested key", '{"leads":{"add":[{"id":"116","\\ud800x":"1"}]}}'),
    {
      ...json("JSON: lone surrogate in account.subdomain", '{"account":{"subdomain":"\\ud800"},"leads":{}}'),
      claimsOtherAccount: true,
    },
    json("JSON: valid event, then a NUL key", `{"leads":{"add":[{"id":"117"}]},"\\u0000":1}`),
    // Huge keys and values, deep brackets, deep JSON.
    form("a 600 KB key", `${"k".repeat(600_000)}=1`),
    form("a 600 KB entity key", `${valid(118)}&leads%5Bupdate%5D%5B0%5D%5B${"k".repeat(600_000)}%5D=1`),
    form("a 600 KB value", `${valid(119)}&leads%5Bupdate%5D%5B0%5D%5Bname%5D=${"v".repeat(600_000)}`),
    form("1,000 bracket levels", `leads${"[a]".repeat(1000)}=1`),
    form("20 bracket levels under an entity", `${valid(120)}&leads[update][0]${"[x]".repeat(19)}=1`),
    form("100,000 unbalanced brackets", `${"[".repeat(100_000)}=1`),
    json("JSON: 100,000 nested arrays", "[".repeat(100_000) + "]".repeat(100_000)),
    json(
      "JSON: 3,000 nested arrays in a payload",
      `{"leads":{"add":[{"id":"121","x":${"[".repeat(3000)}${"]".repeat(3000)}}]}}`,
    ),
    json(
      "JSON: 10,000 nested objects in a payload",
      `{"leads":{"add":[{"id":"122","x":${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}}]}}`,
    ),
    // Junk shapes.
    form("100,000 junk keys", Array.from({ length: 100_000 }, (_, i) => `k${i}=v`).join("&")),
    form("only separators", "&&&===&&&"),
    json("JSON: a bare string", '"\\u0000"'),
    json("JSON: null", "null"),
    json("JSON: leads is a number", '{"leads":5}'),
    json("JSON: huge number id", '{"leads":{"add":[{"id":1e400}]}}'),
  ];
  // Random bytes, some made to look like a form or JSON.
  const random = prng(12);
  for (let i = 0; i < 24; i++) {
    const length = 1 + Math.floor(random() * 4096);
    const body = new Uint8Array(length);
    for (let j = 0; j < length; j++) body[j] = Math.floor(random() * 256);
    if (i % 4 === 1) body.set(new TextEncoder().encode("leads[add][0][id]=1&"), 0);
    const contentType = i % 4 === 2 ? JSON_TYPE : FORM;
    if (i % 4 === 2) body[0] = "{".charCodeAt(0);
    list.push({ name: `random bytes #${i} (${length} B)`, body, contentType });
  }
  return list;
}

/** What the stored raw body must be: the bytes as UTF-8 (invalid sequences → U+FFFD), NUL → U+FFFD. */
function expectedRaw(body: string | Uint8Array): string {
  const text = typeof body === "string" ? body : new TextDecoder().decode(body);
  return text.replaceAll("\0", "\uFFFD");
}

Deno.test({
  name:
    "every hostile body from an authenticated sender → 200 and one stored row (quarantined with a reason, " +
    "or processed with every event applied or quarantined with a reason); never 503, never lost",
  ignore: !DB_URL,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const sql = connect();
    const account = await createTestAccount(sql, "hostile");
    const logs: LogEntry[] = [];
    const background: Promise<unknown>[] = [];
    const handler = createWebhookHandler({
      sql,
      secrets: SECRETS,
      log: (e) => logs.push(e),
      waitUntil: (p) => background.push(p),
    });
    const url = signWebhookUrl(BASE, account.userAccountId, SECRETS);
    const failures: string[] = [];
    try {
      for (const hostile of corpus(account)) {
        const [{ before }] = await sql<{ before: string }[]>`
          select coalesce(max(id), 0)::text as before from amocrm.webhook_inbox
           where user_account_id = ${account.userAccountId}`;
        const res = await handler(
          new Request(url, {
            method: "POST",
            body: hostile.body,
            headers: { "content-type": hostile.contentType, "user-agent": "amoCRM-WebHook-client/1.0" },
          }),
        );
        const answer = await res.text();
        await Promise.all(background.splice(0));
        const rows = await sql<{ id: string; state: string; error: string | null; raw_body: string }[]>`
          select id::text, state, error, raw_body from amocrm.webhook_inbox
           where user_account_id = ${account.userAccountId} and id > ${before}::bigint order by id`;
        const events = await sql<{ state: string; error: string | null }[]>`
          select e.state, e.error from amocrm.webhook_events e
           where e.inbox_id = any(${rows.map((r) => r.id)}::bigint[])`;
        const problem = (() => {
          if (hostile.claimsOtherAccount) {
            const outcome = logs.at(-1)?.outcome;
            if (res.status !== 403 || outcome !== "account_mismatch") {
              return `answered ${res.status} (${outcome})`;
            }
            return rows.length === 0 ? null : "a refused body was stored";
          }
          if (res.status !== 200) return `answered ${res.status} ${answer} (${JSON.stringify(logs.at(-1))})`;
          if (rows.length !== 1) return `${rows.length} inbox rows stored`;
          const [row] = rows;
          if (row.raw_body !== expectedRaw(hostile.body)) return "raw body not stored as received";
          if (row.state === "quarantined") return row.error ? null : "quarantined without a reason";
          if (row.state !== "processed") return `inbox row left ${row.state}`;
          const bad = events.find((e) => !(e.state === "applied" || (e.state === "quarantined" && e.error)));
          return bad ? `an event left ${bad.state} (${bad.error})` : null;
        })();
        if (problem) failures.push(`${hostile.name}: ${problem}`);
      }
      assert.deepEqual(failures, []);
    } finally {
      await Promise.all(background.splice(0));
      await cleanup(sql, account);
      await sql.end();
    }
  },
});
