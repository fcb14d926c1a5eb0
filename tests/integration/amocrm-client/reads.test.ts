// Reads and webhook management over real HTTP: paging 10,000 leads exactly once, 204 handling, leads/contacts
// by id, pipelines, events, webhooks, and the trace every call leaves.
import assert from "node:assert/strict";
import { WON_STATUS_ID } from "../../../local/amocrm-simulator/mod.ts";
import { AmoCrmBadRequestError } from "../../../supabase/functions/_shared/amocrm/mod.ts";
import { NO_DATABASE, readTraces } from "./_db.ts";
import { apiRequests, withAccount } from "./_setup.ts";

// Correctness tests, not throughput ones: a generous limit on both sides keeps them quick.
const QUICK = {
  sim: { rateLimitPerSecond: 50, accountRateLimitPerSecond: 50 },
  connection: { rateLimitPerSecond: 45 },
};

Deno.test({
  name: "paging 10,000 leads by updated_at returns each exactly once, oldest first, 250 per page",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount(QUICK, async (env) => {
      const ids = await env.sim.batch(env.subdomain, (ops) => {
        const created: number[] = [];
        for (let i = 0; i < 10_000; i++) created.push(Number(ops.createLead({ price: i }).id));
        return created;
      });
      const seen: number[] = [];
      let previousUpdatedAt = 0;
      let pages = 0;
      for await (const page of env.client().iterateLeadsUpdated({ from: 0, to: 4_000_000_000 })) {
        pages++;
        for (const lead of page) {
          assert.ok(lead.updated_at >= previousUpdatedAt, "ascending updated_at");
          previousUpdatedAt = lead.updated_at;
          seen.push(lead.id);
        }
      }
      assert.equal(pages, 40);
      assert.equal(seen.length, 10_000);
      assert.equal(new Set(seen).size, 10_000);
      assert.deepEqual([...seen].sort((a, b) => a - b), [...ids].sort((a, b) => a - b));

      const first = new URLSearchParams(apiRequests(env.sim, env.subdomain)[0].path.split("?")[1]);
      assert.equal(first.get("order[updated_at]"), "asc");
      assert.equal(first.get("filter[updated_at][from]"), "0");
      assert.equal(first.get("limit"), "250");
    }),
});

Deno.test({
  name: "204 No Content is an empty result, not an error",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount(QUICK, async (env) => {
      const client = env.client();
      assert.equal(await client.getLead(999_999_999), null);
      assert.equal(await client.getContact(999_999_999), null);
      assert.deepEqual(await client.getLeadsByIds([999_999_998, 999_999_999]), []);
      assert.deepEqual(await client.getContactsByIds([999_999_999]), []);
      assert.deepEqual(await client.listWebhooks(), []);
      const pages = [];
      for await (const page of client.iterateLeadsUpdated({ from: 4_000_000_000 })) pages.push(page);
      assert.deepEqual(pages, []);
      assert.ok(apiRequests(env.sim, env.subdomain).every((r) => r.status === 204));
    }),
});

Deno.test({
  name: "leads by id come with their contacts; contacts in bulk carry the phone field",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount(QUICK, async (env) => {
      const lead = env.sim.createLead(env.subdomain, { phone: "8 (912) 345-67-89", price: 5000 });
      const other = env.sim.createLead(env.subdomain, { phone: "+79001112233" });
      const client = env.client();

      const leads = await client.getLeadsByIds([Number(lead.id), Number(other.id), Number(lead.id)]);
      assert.equal(leads.length, 2);
      const found = leads.find((l) => l.id === Number(lead.id))!;
      assert.equal(found.price, 5000);
      const contactId = found._embedded?.contacts?.[0]?.id;
      assert.ok(contactId);
      const query = new URLSearchParams(apiRequests(env.sim, env.subdomain)[0].path.split("?")[1]);
      assert.equal(query.get("with"), "contacts");
      assert.equal(query.getAll("filter[id][]").length, 2, "ids de-duplicated");

      const single = await client.getLead(Number(lead.id));
      assert.equal(single?.id, Number(lead.id));

      const contacts = await client.getContactsByIds([contactId]);
      const phone = contacts[0].custom_fields_values?.find((f) => f.field_code === "PHONE");
      assert.equal(phone?.values?.[0].value, "8 (912) 345-67-89");
      assert.equal((await client.getContact(contactId))?.id, contactId);
    }),
});

Deno.test({
  name: "pipelines come with their statuses, won/lost in each",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount(QUICK, async (env) => {
      const pipelines = await env.client().getPipelines();
      assert.ok(pipelines.length >= 1);
      for (const pipeline of pipelines) {
        const statusIds = pipeline._embedded?.statuses?.map((s) => s.id) ?? [];
        assert.ok(statusIds.includes(142) && statusIds.includes(143));
      }
    }),
});

Deno.test({
  name: "events are filtered by type and paged through _links.next",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount(QUICK, async (env) => {
      const a = env.sim.createLead(env.subdomain);
      const b = env.sim.createLead(env.subdomain);
      env.sim.createLead(env.subdomain);
      env.sim.winLead(env.subdomain, Number(a.id), { price: 100 });
      env.sim.winLead(env.subdomain, Number(b.id), { price: 200 });

      const pages = [];
      for await (
        const page of env.client().iterateEvents({
          types: ["lead_status_changed"],
          entities: ["lead"],
          limit: 1,
        })
      ) pages.push(page);
      assert.equal(pages.length, 2, "one event per page, two pages");
      const events = pages.flat();
      assert.deepEqual(events.map((e) => e.entity_id).sort(), [Number(a.id), Number(b.id)].sort());
      for (const event of events) {
        assert.equal(event.type, "lead_status_changed");
        assert.equal(typeof event.id, "string");
        const after = event.value_after?.[0]?.lead_status as { id: number } | undefined;
        assert.equal(after?.id, WON_STATUS_ID);
      }
      const query = new URLSearchParams(apiRequests(env.sim, env.subdomain)[0].path.split("?")[1]);
      assert.deepEqual(query.getAll("filter[type][]"), ["lead_status_changed"]);
    }),
});

Deno.test({
  name: "webhooks: subscribe (upsert by destination), list, unsubscribe by destination",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount(QUICK, async (env) => {
      const client = env.client();
      const destination = "https://app.example.test/functions/v1/amocrm-webhook?k=secret";
      const created = await client.subscribeWebhook({
        destination,
        settings: ["add_lead", "update_lead"],
        sort: 10,
      });
      assert.equal(created.destination, destination);
      const updated = await client.subscribeWebhook({ destination, settings: ["add_lead", "status_lead"] });
      assert.deepEqual([...(updated.settings ?? [])].sort(), ["add_lead", "status_lead"]);

      const listed = await client.listWebhooks({ destination });
      assert.equal(listed.length, 1, "upsert by destination, not a second webhook");
      assert.equal(listed[0].disabled, false);

      await client.unsubscribeWebhook(destination);
      assert.deepEqual(await client.listWebhooks(), []);

      await assert.rejects(
        client.subscribeWebhook({ destination: "not a url", settings: [] }),
        AmoCrmBadRequestError,
      );
    }),
});

Deno.test({
  name: "every call leaves a trace row and a structured log line",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount(QUICK, async (env) => {
      const client = env.client();
      await client.getPipelines();
      await client.getLead(999_999_999);
      const traces = await readTraces(env.sql, env.connectionId);
      assert.deepEqual(traces.map((t) => [t.method, t.endpoint, t.status, t.retries, t.error_kind]), [
        ["GET", "/api/v4/leads/pipelines", 200, 0, null],
        ["GET", "/api/v4/leads/999999999", 204, 0, null],
      ]);
      assert.ok(traces.every((t) => t.duration_ms >= 0));
      const lines = env.logs.filter((l) => l.msg === "amocrm.api_call");
      assert.equal(lines.length, 2);
      assert.equal(lines[0].connection_id, env.connectionId);
      assert.equal(lines[0].endpoint, "/api/v4/leads/pipelines");
      assert.equal(lines[0].status, 200);
      assert.equal(typeof lines[0].duration_ms, "number");
    }),
});

Deno.test({
  name: "a next link on the last page is followed to its 204, and paging ends there (leads and events)",
  ignore: NO_DATABASE,
  fn: () =>
    withAccount(QUICK, async (env) => {
      // Some amoCRM list endpoints send _links.next even on the last page (the official PHP SDK's issue
      // tracker); the page after it answers 204.
      env.sim.setModes(env.subdomain, { nextOnLastPage: true });
      await env.sim.batch(env.subdomain, (ops) => {
        for (let i = 0; i < 260; i++) ops.createLead({ price: i });
      });
      const client = env.client();
      let leads = 0;
      for await (const page of client.iterateLeadsUpdated({ from: 0 })) leads += page.length;
      assert.equal(leads, 260);
      let events = 0;
      for await (const page of client.iterateEvents({ types: ["lead_added"] })) events += page.length;
      assert.equal(events, 260);
      const statuses = apiRequests(env.sim, env.subdomain).map((r) => `${r.path.split("?")[0]} ${r.status}`);
      assert.deepEqual(statuses, [
        "/api/v4/leads 200",
        "/api/v4/leads 200",
        "/api/v4/leads 204",
        "/api/v4/events 200",
        "/api/v4/events 200",
        "/api/v4/events 200",
        "/api/v4/events 204",
      ]);
    }),
});
