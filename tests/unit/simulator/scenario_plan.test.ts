import assert from "node:assert/strict";
import {
  planScenario,
  resolveScenarioOptions,
  type ScenarioContext,
  type ScenarioPlan,
} from "../../../local/amocrm-simulator/scenario_plan.ts";

const ctx: ScenarioContext = {
  pipelines: [
    { id: 100, unsortedStatusId: 1000, workStatusIds: [1001, 1002, 1003, 1004] },
    { id: 200, unsortedStatusId: 2000, workStatusIds: [2001, 2002, 2003] },
    { id: 300, unsortedStatusId: 3000, workStatusIds: [3001, 3002] },
  ],
  userIds: [11, 12, 13, 14],
  lossReasonIds: [91, 92],
};

const plan = (seed: number, extra = {}) =>
  planScenario(resolveScenarioOptions({ seed, leads: 300, creatives: 8, directions: 3, ...extra }, 0), ctx);

Deno.test("scenario plan: the same seed gives the same plan, another seed a different one", () => {
  assert.deepEqual(plan(7), plan(7));
  assert.notDeepEqual(plan(7).steps, plan(8).steps);
  assert.notDeepEqual(plan(7).products, plan(8).products);
});

Deno.test("scenario plan: product leads — unique phones, phone XOR chat_id, creative → direction → pipeline", () => {
  const { products } = plan(3);
  assert.equal(products.length, 300);
  assert.equal(new Set(products.map((lead) => lead.phoneDigits)).size, 300);
  for (const lead of products) {
    assert.match(lead.phoneDigits, /^79\d{9}$/);
    assert.ok((lead.productPhone === null) !== (lead.chatId === null));
    if (lead.productPhone) assert.match(lead.productPhone, /^\+7 \d{3} \d{3}-\d{2}-\d{2}$/);
    if (lead.chatId) assert.equal(lead.chatId, `${lead.phoneDigits}@s.whatsapp.net`);
    assert.equal(lead.amoPhone.replace(/\D/g, "").slice(-10), lead.phoneDigits.slice(1));
    assert.equal(lead.directionIndex, lead.creativeIndex % 3);
    assert.equal(lead.pipelineId, ctx.pipelines[lead.directionIndex].id);
  }
  const creatives = new Set(products.map((lead) => lead.creativeIndex));
  assert.ok(creatives.size > 4, "leads spread over creatives");
});

/** Replays a plan against a tiny state model: every op must be legal at its point in time. */
function replay(scenario: ScenarioPlan) {
  type State = { pipeline: number; status: number; deleted: boolean; price: number };
  const states = new Map<number, State>();
  for (const lead of scenario.products) {
    states.set(lead.ref, { pipeline: lead.pipelineId, status: lead.statusId, deleted: false, price: 0 });
  }
  const counts: Record<string, number> = {};
  let previousAt = 0;
  for (const step of scenario.steps) {
    assert.ok(step.at >= previousAt, "steps are in time order");
    assert.ok(step.at <= scenario.options.durationSeconds);
    previousAt = step.at;
    assert.equal(
      new Set(step.ops.map((op) => op.ref)).size,
      step.ops.length,
      "a bulk edit touches each deal once",
    );
    for (const op of step.ops) {
      counts[op.kind] = (counts[op.kind] ?? 0) + 1;
      if (op.kind === "createManagerDeal") {
        const deal = scenario.managerDeals[op.ref - scenario.options.leads];
        assert.ok(!states.has(op.ref));
        states.set(op.ref, { pipeline: deal.pipelineId, status: deal.statusId, deleted: false, price: 0 });
        continue;
      }
      const state = states.get(op.ref);
      assert.ok(state, `op on a deal that does not exist yet: ${JSON.stringify(op)}`);
      if (op.kind === "restore") {
        assert.ok(state.deleted);
        state.deleted = false;
        continue;
      }
      assert.ok(!state.deleted, `op on a deleted deal: ${JSON.stringify(op)}`);
      if (op.kind === "move") {
        const pipeline = ctx.pipelines.find((candidate) => candidate.id === op.pipelineId)!;
        assert.ok(pipeline.workStatusIds.includes(op.statusId));
        if (state.status === 142) counts.reopen = (counts.reopen ?? 0) + 1;
        if (op.pipelineId !== state.pipeline) counts.pipelineMove = (counts.pipelineMove ?? 0) + 1;
        Object.assign(state, { pipeline: op.pipelineId, status: op.statusId });
      } else if (op.kind === "win") {
        assert.ok(op.price > 0);
        state.status = 142;
      } else if (op.kind === "lose") {
        assert.ok(ctx.lossReasonIds.includes(op.lossReasonId));
        state.status = 143;
      } else if (op.kind === "price") {
        if (state.status === 142) counts.priceOnWon = (counts.priceOnWon ?? 0) + 1;
      } else if (op.kind === "delete") state.deleted = true;
    }
  }
  return counts;
}

Deno.test("scenario plan: every kind of change happens, always on a deal in a legal state", () => {
  const scenario = plan(21, { leads: 1000 });
  const counts = replay(scenario);
  for (
    const kind of [
      "move",
      "win",
      "lose",
      "price",
      "delete",
      "restore",
      "responsible",
      "createManagerDeal",
      "reopen",
      "pipelineMove",
      "priceOnWon",
    ]
  ) {
    assert.ok((counts[kind] ?? 0) > 0, `no ${kind} in the plan`);
  }
  assert.ok(scenario.steps.some((step) => step.ops.length > 1), "some bulk edits");
  assert.equal(scenario.managerDeals.length, 150);
  const matching = scenario.managerDeals.filter((deal) => deal.matchesProductRef !== null);
  assert.ok(matching.length > 0);
  for (const deal of matching) {
    const product = scenario.products[deal.matchesProductRef!];
    assert.equal(deal.phone!.replace(/\D/g, "").slice(-10), product.phoneDigits.slice(1));
  }
  assert.ok(
    scenario.managerDeals.some((deal) => deal.phone !== null && deal.phone.replace(/\D/g, "").length < 10),
    "junk",
  );
});
