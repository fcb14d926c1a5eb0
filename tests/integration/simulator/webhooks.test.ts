// @ts-types="@types/qs"
import qs from "qs";
import assert from "node:assert/strict";
import { WEBHOOK_USER_AGENT } from "../../../local/amocrm-simulator/mod.ts";
import { apiSend, getJson, simWithAccount, startReceiver } from "./helpers.ts";

type Entity = Record<string, unknown>;
type Body = {
  account: Record<string, unknown>;
  leads?: Record<string, Entity[]>;
  contacts?: Record<string, Entity[]>;
};
const parse = (body: string) => qs.parse(body, { arrayLimit: 1000, depth: 10 }) as unknown as Body;

Deno.test("webhooks: subscribe is an upsert (201), GET shows disabled, DELETE by destination → 204", async () => {
  const { sim, base, token } = await simWithAccount();
  try {
    const destination = "https://app.example/hooks/amocrm?user_id=1&sig=abc";
    const created = await apiSend(base, token, "POST", "/api/v4/webhooks", {
      destination,
      settings: ["add_lead"],
      sort: 10,
    });
    assert.equal(created.status, 201);
    const webhook = created.body as {
      id: number;
      disabled: boolean;
      settings: string[];
      destination: string;
    };
    assert.equal(webhook.disabled, false);
    assert.deepEqual(webhook.settings, ["add_lead"]);
    const upsert = await apiSend(base, token, "POST", "/api/v4/webhooks", {
      destination,
      settings: ["status_lead", "update_lead"],
    });
    assert.equal(upsert.status, 201);
    assert.equal((upsert.body as { id: number }).id, webhook.id);
    const listed = await getJson(
      base,
      token,
      `/api/v4/webhooks?filter[destination]=${encodeURIComponent(destination)}`,
    );
    const hooks =
      (listed.body as { _total_items: number; _embedded: { webhooks: typeof webhook[] } })._embedded.webhooks;
    assert.equal(hooks.length, 1);
    assert.deepEqual(hooks[0].settings, ["status_lead", "update_lead"]);
    const invalid = await apiSend(base, token, "POST", "/api/v4/webhooks", {
      destination,
      settings: ["bogus"],
    });
    assert.equal(invalid.status, 400);
    assert.ok("validation-errors" in (invalid.body as object));
    const removed = await apiSend(base, token, "DELETE", "/api/v4/webhooks", { destination });
    assert.equal(removed.status, 204);
    assert.equal((await getJson(base, token, "/api/v4/webhooks")).status, 204);
  } finally {
    await sim.stop();
  }
});

Deno.test("webhooks: form-encoded, account block first, batched entities, status without old_pipeline_id", async () => {
  const { sim, base, token } = await simWithAccount();
  const all = startReceiver();
  const statusOnly = startReceiver();
  try {
    const settings = ["add_lead", "update_lead", "status_lead", "delete_lead", "restore_lead", "add_contact"];
    assert.equal(
      (await apiSend(base, token, "POST", "/api/v4/webhooks", { destination: all.url, settings })).status,
      201,
    );
    await apiSend(base, token, "POST", "/api/v4/webhooks", {
      destination: statusOnly.url,
      settings: ["status_lead"],
    });
    const [main, other] = sim.accountSummary("acme").pipelines as {
      id: number;
      _embedded: { statuses: { id: number; type: number }[] };
    }[];
    const lead = sim.createLead("acme", { name: "Иван (сайт)", phone: "8 (912) 345-67-89", price: 100 });
    const leadId = lead.id as number;
    await sim.flushWebhooks();
    assert.equal(all.received.length, 1);
    const added = all.received[0];
    assert.equal(added.contentType, "application/x-www-form-urlencoded");
    assert.equal(added.userAgent, WEBHOOK_USER_AGENT);
    assert.ok(added.body.startsWith("account%5Bsubdomain%5D=acme&account%5Bid%5D="), added.body.slice(0, 80));
    assert.match(added.body, /leads%5Badd%5D%5B0%5D%5Bname%5D=%D0%98%D0%B2%D0%B0%D0%BD\+%28/);
    const addBody = parse(added.body);
    // The account's own host, as in add_lead.2025.form (https://unirock.amocrm.ru) — not the API URL we call.
    assert.equal(
      addBody.account._links && (addBody.account._links as { self: string }).self,
      "https://acme.amocrm.ru",
    );
    assert.equal(addBody.leads!.add[0].id, String(leadId));
    assert.equal(addBody.leads!.add[0].price, "100");
    const contact = addBody.contacts!.add[0] as {
      custom_fields: { code: string; values: { value: string }[] }[];
      type: string;
    };
    assert.equal(contact.type, "contact");
    assert.equal(contact.custom_fields[0].code, "PHONE");
    assert.equal(contact.custom_fields[0].values[0].value, "8 (912) 345-67-89");
    assert.equal(statusOnly.received.length, 0, "not subscribed to add_lead");

    // A bulk edit: three leads moved in one go → ONE POST with three status entities.
    const others = [sim.createLead("acme", {}).id as number, sim.createLead("acme", {}).id as number];
    await sim.flushWebhooks();
    all.received.length = 0;
    const target = other._embedded.statuses.find((status) => status.type === 0)!.id;
    await sim.batch("acme", (ops) => {
      for (const id of [leadId, ...others]) ops.moveLead(id, target, { pipelineId: other.id });
    });
    await sim.flushWebhooks();
    assert.equal(all.received.length, 1);
    assert.equal(statusOnly.received.length, 1);
    const moved = parse(all.received[0].body);
    assert.equal(moved.leads!.status.length, 3);
    assert.equal(moved.leads!.update.length, 3);
    const status = moved.leads!.status[0];
    assert.equal(status.old_status_id, String(main._embedded.statuses[1].id));
    assert.equal(status.pipeline_id, String(other.id));
    assert.equal(status.status_id, String(target));
    assert.ok(!("old_pipeline_id" in status));
    assert.ok(Object.values(status).every((value) => typeof value === "string"));
    const onlyStatus = parse(statusOnly.received[0].body);
    assert.deepEqual(Object.keys(onlyStatus.leads!), ["status"]);

    all.received.length = 0;
    sim.deleteLead("acme", leadId);
    sim.restoreLead("acme", leadId);
    await sim.flushWebhooks();
    assert.equal(all.received.length, 2);
    const deleted = parse(all.received[0].body).leads!.delete[0];
    assert.deepEqual(Object.keys(deleted), ["id", "status_id", "pipeline_id"]);
    assert.equal(parse(all.received[1].body).leads!.restore[0].id, String(leadId));

    await apiSend(base, token, "DELETE", "/api/v4/webhooks", { destination: all.url });
    sim.setPrice("acme", leadId, 5);
    await sim.flushWebhooks();
    assert.equal(all.received.length, 2);
  } finally {
    await sim.stop();
    await all.stop();
    await statusOnly.stop();
  }
});

Deno.test("webhooks: a receiver answering 500 gets the webhook disabled after >100 failures (accelerated time)", async () => {
  const { sim, base, token } = await simWithAccount({ timeScale: 1e7 });
  const receiver = startReceiver(500);
  try {
    await apiSend(base, token, "POST", "/api/v4/webhooks", {
      destination: receiver.url,
      settings: ["add_lead"],
    });
    const started = sim.now();
    // 21 events × (1 try + 4 retries after 5xx) = 105 invalid answers within ~95 min of sim time.
    for (let index = 0; index < 21; index++) sim.createLead("acme", {});
    await sim.flushWebhooks();
    const deliveries = sim.stats("acme").webhookDeliveries;
    assert.equal(deliveries.length, 101, "the 101st invalid answer switches it off; the rest are dropped");
    assert.ok(deliveries.every((delivery) => delivery.status === 500 && !delivery.ok));
    assert.deepEqual([...new Set(deliveries.map((delivery) => delivery.attempt))].sort(), [0, 1, 2, 3, 4]);
    const offsets = [
      ...new Set(deliveries.map((delivery) => Math.round((delivery.time - started) / 60_000))),
    ];
    assert.deepEqual(offsets, [0, 5, 20, 35, 95], "retries at +5, +15, +15, +60 minutes");
    assert.equal(receiver.received.length, 101);
    const listed = await getJson(base, token, "/api/v4/webhooks");
    const [hook] = (listed.body as { _embedded: { webhooks: { disabled: boolean }[] } })._embedded.webhooks;
    assert.equal(hook.disabled, true);

    // Re-subscribing (what a repair job does) switches it back on.
    receiver.setStatus(200);
    await apiSend(base, token, "POST", "/api/v4/webhooks", {
      destination: receiver.url,
      settings: ["add_lead"],
    });
    sim.createLead("acme", {});
    await sim.flushWebhooks();
    assert.equal(receiver.received.length, 102);
  } finally {
    await sim.stop();
    await receiver.stop();
  }
});

Deno.test("webhooks: only 499/5xx earn the 3rd and 4th retry; a 2-second timeout counts as a failure", async () => {
  const { sim, base, token } = await simWithAccount({ timeScale: 1e7, webhookTimeoutMs: 100 });
  const notFound = startReceiver(404);
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => release = resolve);
  const slow = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async () => {
    await released;
    return new Response("late");
  });
  try {
    await apiSend(base, token, "POST", "/api/v4/webhooks", {
      destination: notFound.url,
      settings: ["add_lead"],
    });
    const slowUrl = `http://127.0.0.1:${slow.addr.port}/hook`;
    await apiSend(base, token, "POST", "/api/v4/webhooks", { destination: slowUrl, settings: ["add_lead"] });
    sim.createLead("acme", {});
    await sim.flushWebhooks();
    const deliveries = sim.stats("acme").webhookDeliveries;
    const to404 = deliveries.filter((delivery) => delivery.destination === notFound.url);
    assert.deepEqual(to404.map((delivery) => delivery.attempt), [0, 1, 2]);
    const toSlow = deliveries.filter((delivery) => delivery.destination === slowUrl);
    assert.deepEqual(toSlow.map((delivery) => [delivery.attempt, delivery.status, delivery.error]), [
      [0, 0, "timeout"],
      [1, 0, "timeout"],
      [2, 0, "timeout"],
    ]);
  } finally {
    release();
    await sim.stop();
    await notFound.stop();
    await slow.shutdown();
  }
});
