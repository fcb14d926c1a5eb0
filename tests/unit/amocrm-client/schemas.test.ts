import assert from "node:assert/strict";
import {
  contactsPageSchema,
  eventsPageSchema,
  leadSchema,
  leadsPageSchema,
  pipelinesPageSchema,
  tokenResponseSchema,
  webhookSchema,
  webhooksPageSchema,
} from "../../../supabase/functions/_shared/amocrm/schemas.ts";

const lead = {
  id: 31225,
  name: "Сделка",
  price: 15000,
  responsible_user_id: 504141,
  group_id: 0,
  status_id: 142,
  pipeline_id: 3104455,
  loss_reason_id: null,
  created_by: 504141,
  updated_by: 0,
  created_at: 1700000000,
  updated_at: 1700000500,
  closed_at: null,
  closest_task_at: null,
  is_deleted: false,
  custom_fields_values: null,
  score: null,
  account_id: 28805383,
  labor_cost: null,
  _links: { self: { href: "https://x.amocrm.ru/api/v4/leads/31225" } },
  _embedded: { tags: [], contacts: [{ id: 9, is_main: true, _links: {} }], companies: [] },
};

Deno.test("a lead parses with nulls and keeps fields we do not model", () => {
  const parsed = leadSchema.parse(lead);
  assert.equal(parsed.id, 31225);
  assert.equal(parsed.status_id, 142);
  assert.equal(parsed._embedded?.contacts?.[0].id, 9);
  assert.equal((parsed as Record<string, unknown>).labor_cost, null);
  assert.ok("score" in parsed);
});

Deno.test("a lead without status/pipeline is rejected", () => {
  const { status_id: _s, ...broken } = lead;
  assert.equal(leadSchema.safeParse(broken).success, false);
});

Deno.test("a trash lead in the documented shape parses; only a live lead needs a stage", () => {
  // amoCRM's leads API page: with=only_deleted gives only id, updated_at, updated_by and is_deleted = true.
  const trash = {
    id: 7,
    updated_at: 1700000000,
    updated_by: 3,
    is_deleted: true,
    _links: { self: { href: "x" } },
  };
  const page = leadsPageSchema.parse({ _embedded: { leads: [trash] } });
  assert.equal(page._embedded.leads[0].status_id, undefined);
  assert.equal(leadSchema.safeParse({ ...trash, is_deleted: false }).success, false);
  assert.equal(leadSchema.safeParse({ id: 7, updated_at: 1 }).success, false);
});

Deno.test("leads page with next link", () => {
  const page = leadsPageSchema.parse({
    _page: 2,
    _links: { self: { href: "a" }, next: { href: "https://x.amocrm.ru/api/v4/leads?page=3" } },
    _embedded: { leads: [lead] },
  });
  assert.equal(page._links?.next?.href, "https://x.amocrm.ru/api/v4/leads?page=3");
  assert.equal(page._embedded.leads.length, 1);
});

Deno.test("contact phone values accept both enum and enum_code", () => {
  const page = contactsPageSchema.parse({
    _embedded: {
      contacts: [{
        id: 5,
        name: "Иван",
        custom_fields_values: [{
          field_id: 3,
          field_name: "Телефон",
          field_code: "PHONE",
          field_type: "multitext",
          values: [{ value: "+79123", enum_id: 1, enum_code: "WORK" }, {
            value: "8 (912) 345-67-89",
            enum: "MOB",
          }],
        }],
      }],
    },
  });
  const values = page._embedded.contacts[0].custom_fields_values?.[0].values ?? [];
  assert.equal(values[0].enum_code, "WORK");
  assert.equal(values[1].enum, "MOB");
});

Deno.test("pipelines keep statuses (142/143 repeat per pipeline)", () => {
  const status = (id: number, pipeline_id: number, type = 0) => ({
    id,
    name: String(id),
    sort: 10,
    is_editable: false,
    pipeline_id,
    color: "#fff",
    type,
  });
  const page = pipelinesPageSchema.parse({
    _embedded: {
      pipelines: [
        {
          id: 1,
          name: "A",
          sort: 1,
          is_main: true,
          _embedded: { statuses: [status(10, 1, 1), status(142, 1)] },
        },
        {
          id: 2,
          name: "B",
          sort: 2,
          is_main: false,
          _embedded: { statuses: [status(142, 2), status(143, 2)] },
        },
      ],
    },
  });
  assert.deepEqual(page._embedded.pipelines.map((p) => p._embedded?.statuses?.map((s) => s.id)), [[10, 142], [
    142,
    143,
  ]]);
});

Deno.test("event ids are strings even when sent as numbers", () => {
  const page = eventsPageSchema.parse({
    _embedded: {
      events: [
        {
          id: "01h",
          type: "lead_status_changed",
          entity_id: 1,
          entity_type: "lead",
          created_at: 1,
          created_by: 0,
        },
        {
          id: 42,
          type: "lead_added",
          entity_id: 2,
          entity_type: "lead",
          created_at: 2,
          value_before: [],
          value_after: [{ lead_status: { id: 3, pipeline_id: 4 } }],
        },
      ],
    },
  });
  assert.deepEqual(page._embedded.events.map((e) => e.id), ["01h", "42"]);
});

Deno.test("webhooks and token responses", () => {
  const hook = {
    id: 1,
    destination: "https://example.test/hook",
    created_at: 1,
    updated_at: 1,
    account_id: 2,
    created_by: 3,
    sort: 10,
    disabled: true,
    settings: ["add_lead", "status_lead"],
  };
  assert.equal(webhookSchema.parse(hook).disabled, true);
  assert.equal(
    webhooksPageSchema.parse({ _total_items: 1, _embedded: { webhooks: [hook] } })._embedded.webhooks.length,
    1,
  );
  const token = tokenResponseSchema.parse({
    token_type: "Bearer",
    expires_in: 86400,
    access_token: "a",
    refresh_token: "r",
    server_time: 1,
  });
  assert.equal(token.expires_in, 86400);
  assert.equal(
    tokenResponseSchema.safeParse({ token_type: "Bearer", expires_in: 86400, access_token: "a" }).success,
    false,
  );
});
