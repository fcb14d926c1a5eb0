import assert from "node:assert/strict";
import { CrmStore } from "../../../local/amocrm-simulator/crm_store.ts";
import { IdSequences } from "../../../local/amocrm-simulator/ids.ts";
import { buildPipelines } from "../../../local/amocrm-simulator/pipelines.ts";
import type { ChangeRecord } from "../../../local/amocrm-simulator/types.ts";

/** `clock: "ticking"` advances one second at every read, as an accelerated clock does between statements. */
function store({ clock = "manual" }: { clock?: "manual" | "ticking" } = {}) {
  const ids = new IdSequences();
  const pipelines = buildPipelines(
    [{ name: "A", stages: ["one", "two"] }, { name: "B", stages: ["x"] }],
    ids,
  );
  let now = 1_000;
  const emitted: ChangeRecord[][] = [];
  const crm = new CrmStore({
    accountId: 1,
    pipelines,
    defaultUserId: 5,
    phoneField: { id: 9, enumId: 10 },
    nowSeconds: () => clock === "ticking" ? now++ : now,
    ids,
    emit: (changes) => emitted.push(changes),
  });
  return { crm, pipelines, emitted, tick: (seconds: number) => now += seconds };
}

Deno.test("store: win sets closed_at and price, reopening clears closed_at, history keeps every move", () => {
  const { crm, pipelines, emitted, tick } = store();
  const [a, b] = pipelines;
  const lead = crm.createLead({ phone: "89123456789" });
  assert.equal(lead.status_id, a.statuses[1].id, "first work stage by default");
  assert.deepEqual(emitted[0].map((change) => `${change.group}/${change.action}`), [
    "leads/add",
    "contacts/add",
  ]);
  tick(10);
  crm.moveLead(lead.id, { statusId: 142, price: 5000 });
  assert.deepEqual([lead.status_id, lead.price, lead.closed_at], [142, 5000, 1010]);
  assert.deepEqual(emitted[1].map((change) => change.action), ["status", "update"]);
  assert.equal(emitted[1][0].entity.old_status_id, String(a.statuses[1].id));
  tick(10);
  crm.moveLead(lead.id, { statusId: b.statuses[1].id, pipelineId: b.id });
  assert.deepEqual([lead.pipeline_id, lead.closed_at], [b.id, null]);
  assert.deepEqual(
    lead.history.map((change) => [change.from_pipeline_id, change.to_pipeline_id, change.at]),
    [
      [null, a.id, 1000],
      [a.id, a.id, 1010],
      [a.id, b.id, 1020],
    ],
  );
  assert.deepEqual(
    crm.events.filter((event) => event.entity_type === "lead").map((event) => event.type),
    ["lead_added", "sale_field_changed", "lead_status_changed", "lead_status_changed"],
  );
});

Deno.test("store: no-op edits emit nothing; deleted leads refuse edits until restored", () => {
  const { crm, emitted } = store();
  const lead = crm.createLead({ price: 10 });
  crm.updateLead(lead.id, { price: 10 });
  crm.moveLead(lead.id, { statusId: lead.status_id });
  assert.equal(emitted.length, 1);
  crm.deleteLead(lead.id);
  assert.deepEqual(Object.keys(emitted[1][0].entity), ["id", "status_id", "pipeline_id"]);
  assert.throws(() => crm.updateLead(lead.id, { price: 1 }), /deleted/);
  crm.restoreLead(lead.id);
  assert.equal(lead.is_deleted, false);
  assert.throws(() => crm.moveLead(lead.id, { statusId: 999 }), /unknown status/);
  assert.throws(() => crm.lead(42), /no lead/);
});

Deno.test("store: one operation stamps its history, updated_at, event and webhook with one time", () => {
  const { crm, pipelines, emitted } = store({ clock: "ticking" });
  const lead = crm.createLead({ phone: "89123456789" });
  const contact = crm.contact(lead.contacts[0].id);
  assert.deepEqual([lead.updated_at, lead.history[0].at, contact.created_at], [
    lead.created_at,
    lead.created_at,
    lead.created_at,
  ]);

  crm.moveLead(lead.id, { statusId: 142, price: 5000 });
  const move = lead.history.at(-1)!;
  const moveEvents = crm.events.filter((event) => event.entity_type === "lead").slice(-2);
  assert.deepEqual(moveEvents.map((event) => event.type), ["sale_field_changed", "lead_status_changed"]);
  assert.deepEqual(moveEvents.map((event) => event.created_at), [move.at, move.at]);
  assert.equal(lead.updated_at, move.at);
  assert.equal(lead.closed_at, move.at);
  assert.deepEqual(emitted.at(-1)!.map((change) => change.entity.updated_at), [
    String(move.at),
    String(move.at),
  ]);

  crm.moveLead(lead.id, { statusId: pipelines[0].statuses[1].id });
  assert.ok(lead.history.at(-1)!.at > move.at, "the next operation reads the clock again");
});
