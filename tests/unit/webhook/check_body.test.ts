// The pausable body check (checkWebhookBodySteps, used for every body) against zod's own
// webhookBodySchema.safeParse: the same verdict, the same issues, the same output — on the captured fixtures,
// generated bodies and junk — so pausing between chunks of entities changes nothing but when the work runs.
import assert from "node:assert/strict";
import { decodeWebhookBody } from "../../../supabase/functions/_shared/webhook/decode.ts";
import {
  checkWebhookBodySteps,
  webhookBodySchema,
} from "../../../supabase/functions/_shared/webhook/schemas.ts";
import { runToEnd } from "../../../supabase/functions/_shared/webhook/steps.ts";
import { contact, FORM, lead, phpForm } from "./helpers.ts";

const FIXTURES = new URL("../../fixtures/amocrm/webhooks/", import.meta.url);

function assertSame(label: string, body: string, contentType = FORM) {
  const decoded = decodeWebhookBody(contentType, body);
  if (!decoded.ok) return;
  const zod = webhookBodySchema.safeParse(decoded.value);
  const ours = runToEnd(checkWebhookBodySteps(decoded.value));
  assert.equal(ours.ok, zod.success, label);
  if (zod.success && ours.ok) {
    // Key order too: events come out in the order of the checked body's keys.
    assert.equal(JSON.stringify(ours.body), JSON.stringify(zod.data), label);
  } else if (!zod.success && !ours.ok) {
    assert.deepEqual(
      ours.issues.map((i) => [i.path.map(String), i.message]),
      zod.error.issues.map((i) => [i.path.map(String), i.message]),
      label,
    );
  }
}

Deno.test("the captured fixtures check exactly as zod checks them", () => {
  for (const entry of Deno.readDirSync(FIXTURES)) {
    const text = Deno.readTextFileSync(new URL(entry.name, FIXTURES));
    assertSame(entry.name, text, entry.name.endsWith(".json") ? "application/json" : FORM);
  }
});

Deno.test("generated bodies, valid and broken, big and small, check exactly as zod checks them", () => {
  const t = 1_750_000_000;
  const leads = (n: number, extra: Record<string, string> = {}) =>
    Array.from({ length: n }, (_, i) => lead(1000 + i, t + i, extra));
  const bodies: [string, string][] = [
    ["300 updates", phpForm({ account: { subdomain: "x", id: "1" }, leads: { update: leads(300) } })],
    ["mixed actions", phpForm({ leads: { add: leads(2), status: leads(3), note: { 0: { id: "1" } } } })],
    [
      "contacts and companies",
      phpForm({ contacts: { add: [contact(1, t, ["+7 900"]), contact(2, t, [], "company")] } }),
    ],
    [
      "unknown groups first",
      phpForm({ task: { add: [{ id: "1" }] }, leads: { update: leads(1) }, account: { id: "1" } }),
    ],
    [
      "bad ids across chunks",
      phpForm({ leads: { update: [...leads(200), { id: "x" }, ...leads(100), { id: "0" }] } }),
    ],
    [
      "bad field in chunk 3",
      phpForm({ leads: { add: leads(400).map((l, i) => i === 300 ? { ...l, price: "1e9" } : l) } }),
    ],
    ["action not a list", "leads[add][x]=1"],
    ["group not an object", "leads=1&contacts[add][0][id]=5"],
    ["bad account", "account=5&leads[add][0][id]=1"],
    ["junk keys", "hello&world=1&leads[add][0][id]=1"],
    ["empty groups", "&&&"],
    ["sparse indices", "leads[update][3][id]=5&leads[update][7][id]=6"],
    ["odd action keys", "leads[toString][0][id]=1&leads[add][0][id]=2&leads[constructor]=x"],
  ];
  for (const [label, body] of bodies) assertSame(label, body);
  for (
    const json of [
      '{"leads":{"add":[{"id":5}]},"x":{}}',
      '{"leads":[1,2]}',
      '{"contacts":{"update":{"0":{"id":"9"},"5":{"id":"x"}}}}',
      "[1,2]",
      '"x"',
    ]
  ) assertSame(json, json, "application/json");
});
