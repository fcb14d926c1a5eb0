import assert from "node:assert/strict";
import { isSuccess, retryDelayMs } from "../../../local/amocrm-simulator/webhook_dispatcher.ts";
import { WebhookRegistry } from "../../../local/amocrm-simulator/webhook_registry.ts";
import { IdSequences } from "../../../local/amocrm-simulator/ids.ts";

const MINUTE = 60_000;

Deno.test("retry schedule: +5, +15 for any failure; +15, +60 only after 499/5xx; then nothing", () => {
  assert.deepEqual([0, 1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, 500)), [
    5 * MINUTE,
    15 * MINUTE,
    15 * MINUTE,
    60 * MINUTE,
    null,
  ]);
  assert.deepEqual([0, 1, 2, 3].map((attempt) => retryDelayMs(attempt, 499)), [
    5 * MINUTE,
    15 * MINUTE,
    15 * MINUTE,
    60 * MINUTE,
  ]);
  assert.deepEqual([0, 1, 2].map((attempt) => retryDelayMs(attempt, 404)), [5 * MINUTE, 15 * MINUTE, null]);
  assert.deepEqual(
    [0, 1, 2].map((attempt) => retryDelayMs(attempt, 0)),
    [5 * MINUTE, 15 * MINUTE, null],
    "timeouts",
  );
});

Deno.test("success is any status 100–299", () => {
  assert.deepEqual([100, 200, 204, 299, 300, 302, 404, 500].map(isSuccess), [
    true,
    true,
    true,
    true,
    false,
    false,
    false,
    false,
  ]);
});

Deno.test("auto-disable: more than 100 invalid answers within 2 hours, the latest invalid", () => {
  const registry = new WebhookRegistry(new IdSequences(), () => 0, 1);
  const webhook = registry.upsert({ destination: "http://127.0.0.1:9/hook", settings: ["add_lead"] });
  let now = 0;
  for (let index = 0; index < 100; index++) {
    assert.equal(registry.recordAnswer(webhook, false, now += 1000), false);
  }
  assert.equal(registry.recordAnswer(webhook, true, now += 1000), false);
  assert.equal(webhook.disabled, false);
  now += 2 * 3600 * 1000; // the old failures fall out of the window
  for (let index = 0; index < 100; index++) registry.recordAnswer(webhook, false, now += 1000);
  assert.equal(webhook.disabled, false);
  assert.equal(registry.recordAnswer(webhook, false, now += 1000), true);
  assert.equal(webhook.disabled, true);
  assert.deepEqual(registry.active(), []);
  const repaired = registry.upsert({
    destination: webhook.destination,
    settings: ["add_lead", "status_lead"],
  });
  assert.equal(repaired.id, webhook.id);
  assert.equal(repaired.disabled, false);
});
