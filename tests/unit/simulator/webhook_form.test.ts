// @ts-types="@types/qs"
import qs from "qs";
import assert from "node:assert/strict";
import { encodeForm, flattenForm, phpUrlencode } from "../../../local/amocrm-simulator/webhook_form.ts";
import {
  buildWebhookBody,
  contactWebhookEntity,
  deletedLeadWebhookEntity,
  leadWebhookEntity,
  settingFor,
} from "../../../local/amocrm-simulator/webhook_payload.ts";
import type { Contact, FormObject, Lead } from "../../../local/amocrm-simulator/types.ts";

const FIXTURES = new URL("../../fixtures/amocrm/webhooks/", import.meta.url);
const fixture = (name: string) => Deno.readTextFileSync(new URL(name, FIXTURES)).trim();
const keysOf = (form: string) => form.split("&").map((pair) => decodeURIComponent(pair.split("=")[0]));

const lead: Lead = {
  id: 30052055,
  name: "TEST MISHA (SORRY)",
  price: 0,
  responsible_user_id: 2852878,
  status_id: 17944873,
  pipeline_id: 936736,
  loss_reason_id: null,
  created_by: 2852878,
  updated_by: 2852878,
  created_at: 1744532875,
  updated_at: 1744532875,
  closed_at: null,
  is_deleted: false,
  custom_fields: [],
  contacts: [],
  tags: [],
  account_id: 16700680,
  history: [],
};
const account = { subdomain: "unirock", id: 16700680, selfUrl: "https://unirock.amocrm.ru" };

Deno.test("form encoding re-encodes every captured .form fixture byte for byte", () => {
  for (const entry of Deno.readDirSync(FIXTURES)) {
    if (!entry.name.endsWith(".form")) continue;
    const raw = fixture(entry.name);
    const parsed = qs.parse(raw, { depth: 10, arrayLimit: 1000 }) as FormObject;
    assert.equal(encodeForm(parsed), raw, entry.name);
  }
});

Deno.test("an add_lead body is byte-identical to the captured 2025 fixture", () => {
  const body = buildWebhookBody(account, [{
    group: "leads",
    action: "add",
    entity: leadWebhookEntity(lead, 2852878),
  }]);
  assert.equal(encodeForm(body), fixture("add_lead.2025.form"));
});

Deno.test("a delete_lead body is byte-identical to the captured 2025 fixture", () => {
  const body = buildWebhookBody(account, [{
    group: "leads",
    action: "delete",
    entity: deletedLeadWebhookEntity(lead),
  }]);
  assert.equal(encodeForm(body), fixture("delete_lead.2025.form"));
});

Deno.test("an update_lead body with a custom field has the fixture's key layout", () => {
  const updated: Lead = {
    ...lead,
    updated_at: 1744532876,
    custom_fields: [{
      field_id: 957901,
      field_name: "test_id",
      field_code: null,
      field_type: "text",
      values: [{ value: "30052055" }],
    }],
  };
  const body = encodeForm(
    buildWebhookBody(account, [{ group: "leads", action: "update", entity: leadWebhookEntity(updated, 0) }]),
  );
  assert.equal(body, fixture("update_lead.2025.form"));
});

Deno.test("status entities add old_status_id (never old_pipeline_id); batches index entities 0..n", () => {
  const entity = (id: number) =>
    leadWebhookEntity({ ...lead, id, status_id: 142 }, 0, { oldStatusId: 17944873 });
  const body = encodeForm(buildWebhookBody(account, [
    { group: "leads", action: "status", entity: entity(1) },
    { group: "leads", action: "status", entity: entity(2) },
    { group: "leads", action: "update", entity: leadWebhookEntity({ ...lead, id: 1 }, 0) },
  ]));
  const keys = keysOf(body);
  assert.deepEqual(keys.slice(0, 3), ["account[subdomain]", "account[id]", "account[_links][self]"]);
  assert.ok(
    keys.includes("leads[status][0][old_status_id]") && keys.includes("leads[status][1][old_status_id]"),
  );
  assert.ok(keys.includes("leads[update][0][id]"));
  assert.ok(!keys.some((key) => key.includes("old_pipeline_id")));
  const statusKeys = keys.filter((key) => key.startsWith("leads[status][0]"));
  const addKeys = keysOf(fixture("add_lead.2025.form")).filter((key) => key.startsWith("leads[add][0]"));
  assert.deepEqual(statusKeys, [
    ...addKeys.map((key) => key.replace("[add]", "[status]")),
    "leads[status][0][old_status_id]",
  ]);
});

Deno.test("contact entities carry PHONE values as typed, enum ids and linked leads", () => {
  const contact: Contact = {
    id: 10952709,
    name: "Контакт",
    first_name: "Контакт",
    last_name: "",
    responsible_user_id: 123123,
    created_by: 123123,
    updated_by: 123123,
    created_at: 1684402722,
    updated_at: 1684402722,
    is_deleted: false,
    phones: ["+76665554433", "8 (912) 345-67-89"],
    lead_ids: [7551167],
    account_id: 7039099,
  };
  const entity = contactWebhookEntity(contact, 123123, { id: 575809, enumId: 311321 });
  const decoded = JSON.parse(fixture("add_contact.docs_decoded.json")).contacts.add[0];
  assert.deepEqual(
    Object.keys(entity),
    Object.keys(decoded).filter((key) => key !== "company_name" && key !== "linked_company_id"),
  );
  assert.deepEqual(entity.custom_fields, [{
    id: "575809",
    name: "Телефон",
    values: [{ value: "+76665554433", enum: "311321" }, { value: "8 (912) 345-67-89", enum: "311321" }],
    code: "PHONE",
  }]);
  assert.deepEqual(entity.linked_leads_id, decoded.linked_leads_id);
  assert.equal(settingFor({ group: "contacts", action: "add" }), "add_contact");
  assert.equal(settingFor({ group: "leads", action: "status" }), "status_lead");
});

Deno.test("PHP urlencode: spaces as +, brackets and ()!*'~ percent-encoded, UTF-8 bytes upper-case", () => {
  assert.equal(phpUrlencode("a b(c)!*'~[]"), "a+b%28c%29%21%2A%27%7E%5B%5D");
  assert.equal(phpUrlencode("Ив"), "%D0%98%D0%B2");
  assert.equal(phpUrlencode("a-b_c.d"), "a-b_c.d");
  assert.deepEqual(flattenForm({ a: { b: ["x", { c: "y" }] } }), [["a[b][0]", "x"], ["a[b][1][c]", "y"]]);
});
