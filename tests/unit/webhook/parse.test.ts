// Parser behaviour beyond the captured fixtures: batches, sparse indices, field shapes, companies, junk.
import assert from "node:assert/strict";
import { amocrmTimestamp, contactPhones } from "../../../supabase/functions/_shared/webhook/events.ts";
import { parseWebhookBody } from "../../../supabase/functions/_shared/webhook/parse.ts";
import { contact, FORM, lead, phpForm } from "./helpers.ts";

function parseOk(body: string, contentType: string | null = FORM) {
  const parsed = parseWebhookBody(contentType, body);
  if (!parsed.ok) throw new Error(`expected a valid body, got: ${parsed.reason}`);
  return parsed;
}

function reasonOf(body: string, contentType: string | null = FORM): string {
  const parsed = parseWebhookBody(contentType, body);
  assert.equal(parsed.ok, false, `expected ${JSON.stringify(body.slice(0, 60))} to be rejected`);
  return (parsed as { reason: string }).reason;
}

Deno.test("a 250-entity batch with mixed actions yields one event per entity, in body order", () => {
  const t = 1_744_000_000;
  const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
  const body = phpForm({
    account: { subdomain: "unirock", id: "16700680", _links: { self: "https://unirock.amocrm.ru" } },
    leads: {
      add: ids(1000, 60).map((id) => lead(id, t + id)),
      update: ids(2000, 70).map((id) => lead(id, t + id)),
      status: ids(3000, 40).map((id) => lead(id, t + id, { old_status_id: "17944873" })),
      responsible: ids(4000, 20).map((id) => lead(id, t + id, { old_responsible_user_id: "1" })),
      delete: ids(5000, 20).map((id) => ({ id: String(id), status_id: "143", pipeline_id: "936736" })),
      restore: ids(6000, 10).map((id) => lead(id, t + id)),
    },
    contacts: {
      update: [
        ...ids(7000, 25).map((id) => contact(id, t + id, [`+7912${id}`])),
        ...ids(8000, 5).map((id) => contact(id, t + id, [], "company")),
      ],
    },
  });
  // More pairs than qs's default parameterLimit (1000): nothing may be dropped silently.
  assert.ok(body.split("&").length > 2000);

  const parsed = parseOk(body);
  assert.equal(parsed.events.length, 245);
  assert.equal(parsed.ignoredCompanies, 5);
  const count = (entity: string, action: string) =>
    parsed.events.filter((e) => e.entity === entity && e.action === action).length;
  assert.deepEqual(
    [
      count("lead", "add"),
      count("lead", "update"),
      count("lead", "status"),
      count("lead", "responsible"),
      count("lead", "delete"),
      count("lead", "restore"),
      count("contact", "update"),
    ],
    [60, 70, 40, 20, 20, 10, 25],
  );
  assert.deepEqual(parsed.events.slice(0, 3).map((e) => e.amocrm_id), [1000, 1001, 1002]);
  assert.deepEqual(parsed.events.filter((e) => e.action === "add").map((e) => e.amocrm_id), ids(1000, 60));
  const status = parsed.events.find((e) => e.action === "status")!;
  assert.deepEqual([status.amocrm_id, status.amocrm_ts, status.payload.old_status_id], [
    3000,
    t + 3000,
    "17944873",
  ]);
  assert.ok(parsed.events.filter((e) => e.action === "delete").every((e) => e.amocrm_ts === 0));
  assert.ok(!parsed.events.some((e) => e.amocrm_id >= 8000), "companies are not events");
});

Deno.test("sparse and large indices ([25], [1000]) are read as lists, in index order", () => {
  const body = "leads%5Bupdate%5D%5B25%5D%5Bid%5D=5&leads%5Bupdate%5D%5B0%5D%5Bid%5D=6" +
    "&leads%5Bupdate%5D%5B1000%5D%5Bid%5D=7&leads%5Bupdate%5D%5B1000%5D%5Bupdated_at%5D=1700000000";
  const parsed = parseOk(body);
  assert.deepEqual(parsed.events.map((e) => [e.amocrm_id, e.amocrm_ts]), [[6, 0], [5, 0], [7, 1700000000]]);
  assert.deepEqual(parsed.events[2].payload, { id: "7", updated_at: "1700000000" });
});

Deno.test("date custom fields without [value] and text fields with [value]/[enum] are both kept", () => {
  const body = [
    "leads[update][0][id]=42",
    "leads[update][0][updated_at]=1700000001",
    "leads[update][0][custom_fields][0][id]=100",
    "leads[update][0][custom_fields][0][name]=Source",
    "leads[update][0][custom_fields][0][values][0][value]=Instagram",
    "leads[update][0][custom_fields][0][values][0][enum]=139517",
    "leads[update][0][custom_fields][2][id]=102",
    "leads[update][0][custom_fields][2][name]=Meeting date",
    "leads[update][0][custom_fields][2][values][0]=1542067200",
  ].map((pair) => pair.replace(/\[/g, "%5B").replace(/\]/g, "%5D")).join("&");
  const [event] = parseOk(body).events;
  assert.deepEqual(event.payload.custom_fields, [
    { id: "100", name: "Source", values: [{ value: "Instagram", enum: "139517" }] },
    { id: "102", name: "Meeting date", values: ["1542067200"] },
  ]);
});

Deno.test("repeated keys keep the last value, as PHP does", () => {
  const [event] = parseOk("leads[add][0][id]=1&leads[add][0][price]=10&leads[add][0][price]=20").events;
  assert.equal(event.payload.price, "20");
});

Deno.test("contact phones: every PHONE value as typed, other fields and companies ignored", () => {
  const body = phpForm({
    contacts: {
      add: [{
        id: "11",
        updated_at: "1700000000",
        custom_fields: [
          { id: "1", code: "EMAIL", values: [{ value: "a@b.c", enum: "5" }] },
          {
            id: "2",
            code: "PHONE",
            values: [{ value: "+7 (912) 345-67-89", enum: "7" }, { value: "8 912 000 00 00", enum: "8" }, {
              value: "",
              enum: "9",
            }],
          },
        ],
        linked_leads_id: { "1": { ID: "1" }, "2": { ID: "2" } },
        type: "contact",
      }, contact(12, 1700000000, ["2001"], "company")],
      update: [contact(13, 1700000005, ["79123456789@s.whatsapp.net"])],
    },
  });
  const parsed = parseOk(body);
  assert.equal(parsed.ignoredCompanies, 1);
  assert.deepEqual(parsed.events.map((e) => [e.entity, e.action, e.amocrm_id]), [
    ["contact", "add", 11],
    ["contact", "update", 13],
  ]);
  assert.deepEqual(contactPhones(parsed.events[0].payload), ["+7 (912) 345-67-89", "8 912 000 00 00"]);
  assert.deepEqual(contactPhones(parsed.events[1].payload), ["79123456789@s.whatsapp.net"]);
  // Keys 1, 2 are lead ids, not list indices: the map survives.
  assert.deepEqual(parsed.events[0].payload.linked_leads_id, { "1": { ID: "1" }, "2": { ID: "2" } });
  assert.deepEqual(contactPhones({ custom_fields: [{ code: "PHONE", values: ["+100"] }] }), ["+100"]);
  assert.deepEqual(contactPhones({ id: "1" }), []);
});

Deno.test("contacts without a type count as contacts", () => {
  const parsed = parseOk("contacts[update][0][id]=9&contacts[update][0][last_modified]=1700000000");
  assert.deepEqual(parsed.events.map((e) => [e.entity, e.amocrm_ts]), [["contact", 1700000000]]);
});

Deno.test("unknown groups and actions produce no events but the body is valid", () => {
  const parsed = parseOk(
    "account[subdomain]=a&task[add][0][id]=1&unsorted[add][0][uid]=x&leads[note][0][note][id]=5" +
      "&contacts[delete][0][id]=3&leads[add][0][id]=7",
  );
  assert.deepEqual(parsed.events.map((e) => e.amocrm_id), [7]);
  assert.deepEqual(parsed.ignored.sort(), ["contacts.delete", "leads.note", "task", "unsorted"]);
  assert.deepEqual(parseOk("account[subdomain]=a&account[id]=5").events, []);
});

Deno.test("JSON bodies: detected by content type or by their first character", () => {
  const body = JSON.stringify({
    account: { id: 16700680, subdomain: "unirock" },
    leads: { status: [{ id: 5, status_id: 142 }] },
  });
  for (const contentType of ["application/json", "text/plain", null]) {
    const parsed = parseOk(body, contentType);
    assert.equal(parsed.format, "json");
    assert.deepEqual(parsed.account, { id: "16700680", subdomain: "unirock" });
    assert.deepEqual(parsed.events.map((e) => e.amocrm_id), [5]);
  }
});

Deno.test("amoCRM timestamp: updated_at, else last_modified, else created_at/date_create, else 0", () => {
  assert.equal(
    amocrmTimestamp({ updated_at: "5", last_modified: "4", created_at: "3", date_create: "2" }),
    5,
  );
  assert.equal(amocrmTimestamp({ updated_at: "", last_modified: "4", created_at: "3" }), 4);
  assert.equal(amocrmTimestamp({ created_at: "3", date_create: "2" }), 3);
  assert.equal(amocrmTimestamp({ date_create: "2" }), 2);
  assert.equal(amocrmTimestamp({ id: "1" }), 0);
});

Deno.test("junk bodies are rejected with a reason that says why", () => {
  assert.equal(reasonOf(""), "empty body");
  assert.equal(reasonOf("  \n"), "empty body");
  assert.match(reasonOf("{not json", "application/json"), /^invalid JSON/);
  assert.match(reasonOf("[1,2,3]"), /^invalid webhook body: .*object/i);
  assert.match(reasonOf("null", "application/json"), /^invalid webhook body/);
  assert.match(reasonOf("hello world"), /hello world: not an amoCRM event group/);
  assert.match(reasonOf("&&&"), /no event groups/);
  assert.match(reasonOf("leads=oops"), /^invalid webhook body: leads: /);
  assert.match(reasonOf("leads[add][0][name]=no-id"), /leads\.add\.0\.id: expected a positive numeric id/);
  assert.match(reasonOf("leads[add][0][id]=abc"), /leads\.add\.0\.id/);
  assert.match(reasonOf("leads[add][0][id]=0"), /leads\.add\.0\.id/);
  assert.match(reasonOf("leads[add][id]=5"), /leads\.add/);
  assert.match(
    reasonOf("leads[update][0][id]=5&leads[update][0][updated_at]=yesterday"),
    /updated_at: expected an integer/,
  );
  assert.match(reasonOf("leads[status][0][id]=5&leads[status][0][status_id]=won"), /status_id/);
  assert.match(reasonOf("leads[update][0][id]=5&leads[update][0][price]=1e9"), /price: expected a number/);
  assert.match(reasonOf("contacts[add][0][id]=99999999999999999999"), /contacts\.add\.0\.id/);
  assert.match(reasonOf("account=x&leads[add][0][id]=1"), /^invalid webhook body: account/);
  assert.equal(
    reasonOf("[".repeat(200_000) + "]".repeat(200_000), "application/json"),
    "body nested too deeply",
  );
  assert.match(
    reasonOf(Array.from({ length: 20 }, (_, i) => `k${i}=1`).join("&")),
    /^invalid webhook body: k0: .*; k2: [^;]*\(\+7 more\)$/,
  );
  // Past 100 top-level names parsing stops: no amoCRM body has that many.
  for (
    const [body, type] of [[Array.from({ length: 20_000 }, (_, i) => `k${i}=1`).join("&"), FORM], [
      JSON.stringify(Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, {}]))),
      "application/json",
    ]]
  ) {
    assert.equal(
      reasonOf(body, type),
      'not an amoCRM body: more than 100 top-level names ("k0", "k1", "k2", …)',
    );
  }
  assert.match(reasonOf(Array.from({ length: 100 }, (_, i) => `k${i}=1`).join("&")), /^invalid webhook body/);
  // Many issues: the reason stays short.
  const many = reasonOf(Array.from({ length: 50 }, (_, i) => `leads[add][${i}][id]=x`).join("&"));
  assert.match(many, /\(\+47 more\)$/);
});

Deno.test("empty values (PHP null) are accepted where numbers are expected", () => {
  const [event] = parseOk(
    "leads[update][0][id]=5&leads[update][0][price]=&leads[update][0][updated_at]=&leads[update][0][date_create]=9",
  ).events;
  assert.equal(event.amocrm_ts, 9);
  assert.equal(event.payload.price, "");
});
