import assert from "node:assert/strict";
import { apiGet, getJson, simWithAccount } from "./helpers.ts";

type LeadPage = {
  _page: number;
  _links: { self: { href: string }; next?: { href: string } };
  _embedded: {
    leads: { id: number; updated_at: number; _embedded: { contacts?: { id: number; is_main: boolean }[] } }[];
  };
};

Deno.test("paging 10,000 leads with limit=500 returns pages of 250 and every lead exactly once", async () => {
  const { sim, base, token } = await simWithAccount({
    rateLimitPerSecond: 100_000,
    accountRateLimitPerSecond: 100_000,
  });
  try {
    await sim.batch("acme", (ops) => {
      for (let index = 0; index < 10_000; index++) ops.createLead({ price: index });
    });
    const seen = new Map<number, number>();
    let href: string | undefined = `${base}/api/v4/leads?limit=500`;
    let pages = 0;
    while (href) {
      assert.ok(href.startsWith("http://127.0.0.1:"), "links are absolute");
      const response = await apiGet("", token, href);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-type"), "application/hal+json");
      const page = await response.json() as LeadPage;
      pages++;
      assert.equal(page._page, pages);
      assert.equal(page._embedded.leads.length, 250, "limit > 250 is silently 250");
      for (const lead of page._embedded.leads) seen.set(lead.id, (seen.get(lead.id) ?? 0) + 1);
      href = page._links.next?.href;
    }
    assert.equal(pages, 40);
    assert.equal(seen.size, 10_000);
    assert.ok([...seen.values()].every((count) => count === 1));
    const beyond = await getJson(base, token, "/api/v4/leads?limit=250&page=41");
    assert.equal(beyond.status, 204);
    assert.equal(beyond.text, "");
  } finally {
    await sim.stop();
  }
});

Deno.test("lead filters: filter[id][] repeatable, updated_at window with order asc, with=contacts, 204s", async () => {
  const { sim, base, token } = await simWithAccount();
  try {
    const first = sim.createLead("acme", { phone: "+7 912 345-67-89" });
    sim.advanceTime(100);
    const second = sim.createLead("acme", {});
    sim.advanceTime(100);
    const third = sim.createLead("acme", {});
    sim.advanceTime(100);
    sim.setPrice("acme", first.id as number, 1500); // first is now the most recently updated

    const byIds = await getJson(
      base,
      token,
      `/api/v4/leads?filter[id][]=${first.id}&filter[id][]=${third.id}&with=contacts`,
    );
    assert.equal(byIds.status, 200);
    const leads = (byIds.body as LeadPage)._embedded.leads;
    assert.deepEqual(leads.map((lead) => lead.id), [first.id, third.id]);
    assert.equal(leads[0]._embedded.contacts?.length, 1);
    assert.equal(leads[0]._embedded.contacts?.[0].is_main, true);
    assert.equal(leads[1]._embedded.contacts?.length, 0);

    const from = second.updated_at as number;
    const window = await getJson(
      base,
      token,
      `/api/v4/leads?filter[updated_at][from]=${from}&order[updated_at]=asc`,
    );
    assert.deepEqual((window.body as LeadPage)._embedded.leads.map((lead) => lead.id), [
      second.id,
      third.id,
      first.id,
    ]);
    const lead = (window.body as LeadPage)._embedded.leads[2] as unknown as Record<string, unknown>;
    for (const key of ["id", "price", "status_id", "pipeline_id", "updated_at", "created_at", "account_id"]) {
      assert.equal(typeof lead[key], "number", `${key} is a JSON number`);
    }
    assert.equal(lead.price, 1500);
    assert.equal(lead.is_deleted, false);

    const none = await getJson(
      base,
      token,
      `/api/v4/leads?filter[updated_at][from]=${(first.updated_at as number) + 10_000}`,
    );
    assert.equal(none.status, 204);
    assert.equal(none.text, "");

    const one = await getJson(base, token, `/api/v4/leads/${first.id}?with=contacts`);
    assert.equal(one.status, 200);
    assert.equal((one.body as { id: number }).id, first.id);
    const missing = await getJson(base, token, "/api/v4/leads/999");
    assert.equal(missing.status, 204);
    assert.equal(missing.text, "");

    sim.deleteLead("acme", second.id as number);
    assert.equal((await getJson(base, token, `/api/v4/leads/${second.id}`)).status, 204);
    const trash = await getJson(base, token, "/api/v4/leads?with=only_deleted");
    assert.deepEqual((trash.body as LeadPage)._embedded.leads.map((lead) => lead.id), [second.id]);
  } finally {
    await sim.stop();
  }
});

Deno.test("pipelines: unsorted type 1 first, 142/143 with the same ids and sorts in every pipeline", async () => {
  const { sim, base, token } = await simWithAccount();
  try {
    const { status, body } = await getJson(base, token, "/api/v4/leads/pipelines");
    assert.equal(status, 200);
    type Status = {
      id: number;
      name: string;
      sort: number;
      type: number;
      pipeline_id: number;
      is_editable: boolean;
    };
    const pipelines =
      (body as { _embedded: { pipelines: { id: number; _embedded: { statuses: Status[] } }[] } })
        ._embedded.pipelines;
    assert.ok(pipelines.length >= 3);
    for (const pipeline of pipelines) {
      const statuses = pipeline._embedded.statuses;
      assert.equal(statuses[0].type, 1);
      assert.ok(statuses.some((s) => s.type === 0 && s.is_editable));
      const won = statuses.find((s) => s.id === 142)!;
      const lost = statuses.find((s) => s.id === 143)!;
      assert.deepEqual([won.name, won.sort, won.pipeline_id], ["Успешно реализовано", 10000, pipeline.id]);
      assert.deepEqual([lost.name, lost.sort, lost.pipeline_id], [
        "Закрыто и не реализовано",
        11000,
        pipeline.id,
      ]);
    }
  } finally {
    await sim.stop();
  }
});

Deno.test("contacts: PHONE values exactly as typed, bulk filter[id][] and 204 for a missing contact", async () => {
  const { sim, base, token } = await simWithAccount();
  try {
    const typed = ["+7 912 345-67-89", "89123456789", "8 (912) 345-67-89", "79123456789", "2001"];
    const ids = typed.map((phone) => sim.createContact("acme", { phones: [phone] }).id as number);
    const bulk = await getJson(
      base,
      token,
      `/api/v4/contacts?${ids.map((id) => `filter[id][]=${id}`).join("&")}&limit=250`,
    );
    assert.equal(bulk.status, 200);
    type Contact = {
      id: number;
      custom_fields_values: { field_code: string; values: { value: string; enum_id: number }[] }[];
    };
    const contacts = (bulk.body as { _embedded: { contacts: Contact[] } })._embedded.contacts;
    assert.deepEqual(contacts.map((contact) => contact.custom_fields_values[0].values[0].value), typed);
    assert.ok(contacts.every((contact) => contact.custom_fields_values[0].field_code === "PHONE"));
    const single = await getJson(base, token, `/api/v4/contacts/${ids[2]}`);
    assert.equal((single.body as Contact).custom_fields_values[0].values[0].value, "8 (912) 345-67-89");
    assert.equal((await getJson(base, token, "/api/v4/contacts/1")).status, 204);
  } finally {
    await sim.stop();
  }
});

Deno.test("events: lead_status_changed carries value_before/after with pipeline, filters and 204 when empty", async () => {
  const { sim, base, token } = await simWithAccount();
  try {
    const [main, other] = sim.accountSummary("acme").pipelines as {
      id: number;
      _embedded: { statuses: { id: number; type: number }[] };
    }[];
    const lead = sim.createLead("acme", { pipelineId: main.id });
    const from = sim.now() / 1000;
    sim.advanceTime(60);
    const target = other._embedded.statuses.find((status) => status.type === 0 && status.id !== 142)!.id;
    sim.moveLead("acme", lead.id as number, target, { pipelineId: other.id });
    sim.advanceTime(60);
    sim.winLead("acme", lead.id as number, { price: 9000 });

    const query =
      `/api/v4/events?filter[entity][]=lead&filter[type][]=lead_status_changed&filter[created_at][from]=${
        Math.floor(from)
      }`;
    const { status, body } = await getJson(base, token, query);
    assert.equal(status, 200);
    type Event = {
      id: string;
      type: string;
      entity_id: number;
      value_before: unknown[];
      value_after: unknown[];
    };
    const events = (body as { _embedded: { events: Event[] } })._embedded.events;
    assert.equal(events.length, 2);
    assert.equal(typeof events[0].id, "string");
    const move = events.find((event) =>
      (event.value_after[0] as { lead_status: { id: number } }).lead_status.id === target
    )!;
    assert.deepEqual(move.value_before, [{
      lead_status: { id: main._embedded.statuses[1].id, pipeline_id: main.id },
    }]);
    assert.deepEqual(move.value_after, [{ lead_status: { id: target, pipeline_id: other.id } }]);
    const sale = await getJson(base, token, "/api/v4/events?filter[type][]=sale_field_changed");
    assert.deepEqual((sale.body as { _embedded: { events: Event[] } })._embedded.events[0].value_after, [{
      sale_field_value: { sale: 9000 },
    }]);
    const window = await getJson(
      base,
      token,
      `/api/v4/events?filter[created_at]=${Math.floor(from)},${Math.floor(from) + 30}`,
    );
    assert.deepEqual(
      (window.body as { _embedded: { events: Event[] } })._embedded.events.map((event) => event.type),
      ["lead_added"],
      "the moves came 60 s later",
    );
    const empty = await getJson(base, token, "/api/v4/events?filter[type][]=lead_restored");
    assert.equal(empty.status, 204);
  } finally {
    await sim.stop();
  }
});
