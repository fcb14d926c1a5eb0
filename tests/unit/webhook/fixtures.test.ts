// Every captured webhook body in tests/fixtures/amocrm/webhooks replayed through the parser. The .form files
// are raw bodies; the .json files are decoded shapes, fed as JSON and also re-encoded as PHP forms.
import assert from "node:assert/strict";
import qs from "qs";
import { contactPhones } from "../../../supabase/functions/_shared/webhook/events.ts";
import { parseWebhookBody } from "../../../supabase/functions/_shared/webhook/parse.ts";

const FIXTURES = new URL("../../fixtures/amocrm/webhooks/", import.meta.url);
const FORM = "application/x-www-form-urlencoded";

const read = (name: string) => Deno.readTextFileSync(new URL(name, FIXTURES));

function parseOk(contentType: string, body: string) {
  const parsed = parseWebhookBody(contentType, body);
  if (!parsed.ok) throw new Error(`expected a valid body, got: ${parsed.reason}`);
  return parsed;
}

/** The re-encoded form of a decoded fixture, as amoCRM's PHP sender would write it (all values strings). */
const asForm = (decoded: unknown) => qs.stringify(decoded);

/** Same structure with every scalar as a string: what a form round trip does to JSON numbers. */
function stringified(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stringified);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stringified(v)]));
  }
  return String(value);
}

const UNIROCK = { id: "16700680", subdomain: "unirock" };

/** Expected result per fixture file. A fixture without an entry here fails the coverage test below. */
const EXPECTED: Record<string, (name: string) => void> = {
  "add_contact.2016.form"(name) {
    const parsed = parseOk(FORM, read(name));
    assert.equal(parsed.format, "form");
    assert.deepEqual(parsed.account, { id: null, subdomain: "test000002" });
    assert.deepEqual(parsed.events, [{
      entity: "contact",
      action: "add",
      amocrm_id: 1112,
      amocrm_ts: 1456824964, // no updated_at in 2016 bodies: last_modified
      payload: {
        id: "1112",
        name: "wqds",
        responsible_user_id: "102525",
        date_create: "1456824964",
        last_modified: "1456824964",
        created_user_id: "102525",
        modified_user_id: "102525",
        type: "contact",
      },
    }]);
  },

  "add_contact.docs_decoded.json"(name) {
    const decoded = JSON.parse(read(name));
    const entity = decoded.contacts.add[0];
    const expected = [{
      entity: "contact",
      action: "add",
      amocrm_id: 10952709,
      amocrm_ts: 1684402722,
      payload: entity,
    }];
    for (const [contentType, body] of [["application/json", read(name)], [FORM, asForm(decoded)]]) {
      const parsed = parseOk(contentType, body);
      assert.deepEqual(parsed.events, expected);
      assert.deepEqual(parsed.account, { id: null, subdomain: null });
      // linked_leads_id is keyed by lead id: it must stay a map, not become a list.
      assert.deepEqual(parsed.events[0].payload.linked_leads_id, { "7551167": { ID: "7551167" } });
      assert.deepEqual(contactPhones(parsed.events[0].payload), ["+76665554433"]);
    }
  },

  "add_lead.2025.form"(name) {
    const parsed = parseOk(FORM, read(name));
    assert.deepEqual(parsed.account, UNIROCK);
    assert.deepEqual(parsed.events, [{
      entity: "lead",
      action: "add",
      amocrm_id: 30052055,
      amocrm_ts: 1744532875,
      payload: {
        id: "30052055",
        name: "TEST MISHA (SORRY)",
        status_id: "17944873",
        price: "0",
        responsible_user_id: "2852878",
        last_modified: "1744532875",
        modified_user_id: "2852878",
        created_user_id: "2852878",
        date_create: "1744532875",
        pipeline_id: "936736",
        account_id: "16700680",
        created_at: "1744532875",
        updated_at: "1744532875",
      },
    }]);
  },

  "delete_lead.2025.form"(name) {
    const parsed = parseOk(FORM, read(name));
    assert.deepEqual(parsed.account, UNIROCK);
    assert.deepEqual(parsed.events, [{
      entity: "lead",
      action: "delete",
      amocrm_id: 30052055,
      amocrm_ts: 0, // delete events carry no timestamp
      payload: { id: "30052055", status_id: "17944873", pipeline_id: "936736" },
    }]);
  },

  "status_lead.2016.form"(name) {
    const parsed = parseOk(FORM, read(name));
    assert.deepEqual(parsed.account, { id: null, subdomain: "test000002" });
    assert.deepEqual(parsed.events, [{
      entity: "lead",
      action: "status",
      amocrm_id: 31926520,
      amocrm_ts: 1456820780,
      payload: {
        id: "31926520",
        name: "Some test lead",
        status_id: "10216994",
        price: "1000",
        responsible_user_id: "938348",
        last_modified: "1456820780",
        modified_user_id: "102525",
        created_user_id: "102525",
        date_create: "1456808154",
        pipeline_id: "2116",
        account_id: "10216991",
        custom_fields: [{ id: "1119321", name: "Some text field", values: [{ value: "some text" }] }],
        old_status_id: "10216995",
      },
    }]);
  },

  "status_lead.digital_pipeline.json"(name) {
    const decoded = JSON.parse(read(name));
    const entity = decoded.leads.status[0];
    // JSON: the payload keeps the sender's numbers; no timestamp in Digital Pipeline events → 0.
    const json = parseOk("application/json", read(name));
    assert.equal(json.format, "json");
    assert.deepEqual(json.events, [{
      entity: "lead",
      action: "status",
      amocrm_id: 4831596,
      amocrm_ts: 0,
      payload: entity,
    }]);
    // The same event as a form: every value a string.
    const form = parseOk(FORM, asForm(decoded));
    assert.deepEqual(form.events, [{
      entity: "lead",
      action: "status",
      amocrm_id: 4831596,
      amocrm_ts: 0,
      payload: stringified(entity),
    }]);
    assert.equal(form.events[0].payload.old_pipeline_id, "752662");
  },

  "status_lead.docs_decoded.json"(name) {
    const decoded = JSON.parse(read(name));
    // The docs show the entity list as an object keyed "0": it is a list all the same.
    const entity = decoded.leads.status["0"];
    const expected = [{
      entity: "lead",
      action: "status",
      amocrm_id: 25399013,
      amocrm_ts: 1413554372,
      payload: entity,
    }];
    for (const [contentType, body] of [["application/json", read(name)], [FORM, asForm(decoded)]]) {
      const parsed = parseOk(contentType, body);
      assert.deepEqual(parsed.events, expected);
      assert.deepEqual(parsed.events[0].payload.custom_fields, [
        { id: "427183", name: "Checkbox custom field", values: ["1"] },
        { id: "427661", name: "Text custom field", values: ["Валера"] },
      ]);
    }
  },

  "update_lead.2025.form"(name) {
    const parsed = parseOk(FORM, read(name));
    assert.deepEqual(parsed.account, UNIROCK);
    assert.equal(parsed.events.length, 1);
    const [event] = parsed.events;
    assert.equal(event.entity, "lead");
    assert.equal(event.action, "update");
    assert.equal(event.amocrm_id, 30052055);
    assert.equal(event.amocrm_ts, 1744532876); // updated_at wins over created_at/date_create
    assert.equal(event.payload.modified_user_id, "0");
    assert.deepEqual(event.payload.custom_fields, [{
      id: "957901",
      name: "test_id",
      values: [{ value: "30052055" }],
    }]);
    assert.equal(event.payload.updated_at, "1744532876");
  },
};

Deno.test("every webhook fixture has an expectation", () => {
  const files = [...Deno.readDirSync(FIXTURES)].filter((e) => e.isFile).map((e) => e.name).sort();
  assert.ok(files.length >= 8, `expected the captured fixtures, found ${files.length}`);
  assert.deepEqual(files, Object.keys(EXPECTED).sort());
});

for (const [name, check] of Object.entries(EXPECTED)) {
  Deno.test(`fixture ${name} → canonical events`, () => check(name));
}
