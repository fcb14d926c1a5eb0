// @ts-types="@types/qs"
import qs from "qs";
import assert from "node:assert/strict";
import { startSimulator } from "../../../local/amocrm-simulator/mod.ts";
import { apiSend, CLIENT, getJson, startReceiver } from "./helpers.ts";

type Entity = Record<string, string>;
type Hook = { leads?: Record<string, Entity[]> };

async function playScenario(seed: number, receiverUrl?: string) {
  const sim = await startSimulator({ seed, rateLimitPerSecond: 1000 });
  sim.createAccount({ subdomain: "acme", ...CLIENT });
  const token = sim.mintTokens("acme", { longLived: true }).access_token;
  const base = sim.accountBaseUrl("acme");
  if (receiverUrl) {
    const settings = ["add_lead", "update_lead", "status_lead", "delete_lead", "restore_lead"];
    await apiSend(base, token, "POST", "/api/v4/webhooks", { destination: receiverUrl, settings });
  }
  const run = sim.scenario("acme", {
    leads: 120,
    creatives: 6,
    directions: 3,
    managerDeals: 30,
    durationSeconds: 5 * 86400,
  });
  await run.play({ afterStep: () => sim.flushWebhooks() });
  await sim.flushWebhooks();
  return { sim, base, token, run };
}

Deno.test("scenario: product side, webhooks and the API all agree with the truth", async () => {
  const receiver = startReceiver();
  const { sim, base, token, run } = await playScenario(5, receiver.url);
  try {
    assert.equal(run.product.length, 120);
    for (const lead of run.product) {
      assert.ok((lead.phone === null) !== (lead.chat_id === null), "exactly one of phone / chat_id");
      if (lead.phone) assert.match(lead.phone, /^\+7 \d{3} \d{3}-\d{2}-\d{2}$/);
      if (lead.chat_id) assert.match(lead.chat_id, /^79\d{9}@s\.whatsapp\.net$/);
      assert.ok(lead.creative_index < 6 && lead.direction_index === lead.creative_index % 3);
    }
    const truth = run.truth();
    assert.equal(truth.length, 150);
    const managerDeals = truth.filter((lead) => lead.product_ref === null);
    assert.equal(managerDeals.length, 30);
    const productDigits = new Set(
      truth.filter((l) => l.product_ref !== null).map((l) => l.main_contact_phone_digits),
    );
    assert.ok(
      managerDeals.some((lead) => productDigits.has(lead.main_contact_phone_digits)),
      "some match a product phone",
    );
    assert.ok(truth.some((lead) => lead.status_id === 142 && lead.closed_at !== null && lead.price > 0));
    assert.ok(truth.some((lead) => lead.status_id === 143));
    assert.ok(truth.some((lead) => lead.is_deleted));
    assert.ok(
      truth.some((lead) => new Set(lead.history.map((change) => change.to_pipeline_id)).size > 1),
      "pipeline moves",
    );
    for (const lead of truth) {
      const last = lead.history.at(-1)!;
      assert.deepEqual([last.to_status_id, last.to_pipeline_id], [lead.status_id, lead.pipeline_id]);
    }

    // The API shows the same state (deleted leads only in the trash).
    const ids = truth.map((lead) => lead.id);
    const live = await getJson(
      base,
      token,
      `/api/v4/leads?limit=250&${ids.map((id) => `filter[id][]=${id}`).join("&")}`,
    );
    type ApiLead = {
      id: number;
      status_id: number;
      pipeline_id: number;
      price: number;
      price_with_minor_units: number;
      closed_at: number | null;
      updated_at: number;
    };
    const apiLeads = new Map(
      (live.body as { _embedded: { leads: ApiLead[] } })._embedded.leads.map((l) => [l.id, l]),
    );
    for (const lead of truth) {
      const api = apiLeads.get(lead.id);
      if (lead.is_deleted) assert.equal(api, undefined);
      else {
        assert.deepEqual(
          [
            api?.status_id,
            api?.pipeline_id,
            api?.price,
            api?.price_with_minor_units,
            api?.closed_at,
            api?.updated_at,
          ],
          [
            lead.status_id,
            lead.pipeline_id,
            Math.trunc(lead.price),
            lead.price,
            lead.closed_at,
            lead.updated_at,
          ],
        );
      }
    }

    // Replaying the webhook stream in arrival order reproduces every deal's final state.
    const replay = new Map<string, { status: string; pipeline: string; price?: string; deleted: boolean }>();
    let bulk = 0;
    for (const hook of receiver.received) {
      const body = qs.parse(hook.body, { depth: 10, arrayLimit: 1000 }) as unknown as Hook;
      for (const [action, entities] of Object.entries(body.leads ?? {})) {
        if (entities.length > 1 && action !== "add") bulk++;
        for (const entity of entities) {
          const previous = replay.get(entity.id);
          replay.set(entity.id, {
            status: entity.status_id,
            pipeline: entity.pipeline_id,
            price: entity.price ?? previous?.price,
            deleted: action === "delete",
          });
        }
      }
    }
    assert.ok(bulk > 0, "some steps were bulk edits");
    assert.ok(
      receiver.received.some((hook) =>
        (qs.parse(hook.body, { depth: 10, arrayLimit: 1000 }) as unknown as Hook).leads?.add?.length === 50
      ),
    );
    for (const lead of truth) {
      assert.deepEqual(replay.get(String(lead.id)), {
        status: String(lead.status_id),
        pipeline: String(lead.pipeline_id),
        price: String(Math.trunc(lead.price)),
        deleted: lead.is_deleted,
      });
    }
  } finally {
    await sim.stop();
    await receiver.stop();
  }
});

Deno.test("scenario: the same seed gives the same product side and the same end state", async () => {
  const strip = (run: Awaited<ReturnType<typeof playScenario>>["run"]) => ({
    product: run.product.map(({ created_at: _, ...rest }) => rest),
    truth: run.truth().map(({ created_at: _c, updated_at: _u, closed_at, history, ...rest }) => ({
      ...rest,
      closed: closed_at !== null,
      moves: history.map((change) => [change.from_status_id, change.to_status_id, change.to_pipeline_id]),
    })),
  });
  const first = await playScenario(11);
  const second = await playScenario(11);
  const other = await playScenario(12);
  try {
    assert.deepEqual(strip(second.run), strip(first.run));
    assert.notDeepEqual(strip(other.run).truth, strip(first.run).truth);
  } finally {
    await Promise.all([first.sim.stop(), second.sim.stop(), other.sim.stop()]);
  }
});

Deno.test("scenario: applied all at once without webhooks for backfill tests", async () => {
  const sim = await startSimulator({ seed: 3 });
  const receiver = startReceiver();
  try {
    sim.createAccount({ subdomain: "acme", ...CLIENT });
    const token = sim.mintTokens("acme", { longLived: true }).access_token;
    await apiSend(sim.accountBaseUrl("acme"), token, "POST", "/api/v4/webhooks", {
      destination: receiver.url,
      settings: ["add_lead", "status_lead", "update_lead"],
    });
    const run = sim.scenario("acme", { leads: 40 }, { webhooks: false });
    assert.ok(run.applyAll({ webhooks: false }) > 0);
    assert.equal(run.remaining, 0);
    await sim.flushWebhooks();
    assert.equal(receiver.received.length, 0);
    assert.equal(sim.truth("acme").length, run.truth().length);
  } finally {
    await sim.stop();
    await receiver.stop();
  }
});
