import assert from "node:assert/strict";
import { startSimulator } from "../../../local/amocrm-simulator/mod.ts";
import { CLIENT, getJson, startReceiver } from "./helpers.ts";

async function control(url: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${url}/_sim${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

Deno.test("control API: another process can drive accounts, tokens, leads, batches, faults and scenarios", async () => {
  const sim = await startSimulator({ seed: 4, timeScale: 1e7 });
  const receiver = startReceiver();
  try {
    const created = await control(sim.url, "POST", "/accounts", { subdomain: "shop", ...CLIENT });
    assert.equal(created.status, 201);
    assert.equal(created.body.baseUrl, `${sim.url}/shop`);
    assert.equal((await control(sim.url, "POST", "/accounts", { subdomain: "shop", ...CLIENT })).status, 409);

    const tokens = await control(sim.url, "POST", "/accounts/shop/tokens", {});
    assert.equal(typeof tokens.body.refresh_token, "string");
    const code = await control(sim.url, "POST", "/accounts/shop/authorization-codes", {});
    assert.match(code.body.code, /^def50200/);

    const base = created.body.baseUrl as string;
    const token = tokens.body.access_token as string;
    await fetch(`${base}/api/v4/webhooks`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ destination: receiver.url, settings: ["add_lead", "status_lead"] }),
    }).then((response) => response.body?.cancel());

    const lead = await control(sim.url, "POST", "/accounts/shop/leads", { phone: "89123456789", price: 10 });
    assert.equal(lead.status, 201);
    const batch = await control(sim.url, "POST", "/accounts/shop/batch", {
      operations: [{ op: "winLead", id: lead.body.id, price: 700 }, { op: "createLead", name: "second" }],
    });
    assert.equal(batch.body.results[0].status_id, 142);
    await control(sim.url, "POST", "/webhooks/flush", {});
    assert.equal(receiver.received.length, 2, "one POST for the lead, one for the whole batch");
    assert.match(receiver.received[1].body, /leads%5Bstatus%5D%5B0%5D/);
    assert.match(receiver.received[1].body, /leads%5Badd%5D%5B0%5D/);

    const stored = await control(sim.url, "GET", `/accounts/shop/leads/${lead.body.id}`);
    assert.equal(stored.body.price, 700);
    assert.equal(
      (await control(sim.url, "POST", "/accounts/shop/ops", { op: "deleteLead", id: lead.body.id })).status,
      200,
    );
    assert.equal(
      (await control(sim.url, "POST", "/accounts/shop/ops", { op: "deleteLead", id: 1 })).status,
      404,
    );

    await control(sim.url, "PUT", "/accounts/shop/faults", { apiServerError: { next: 1 } });
    assert.equal((await getJson(base, token, "/api/v4/leads")).status, 500);
    assert.deepEqual((await control(sim.url, "GET", "/accounts/shop/faults")).body, {
      apiServerError: { next: 0 },
    });

    const scenario = await control(sim.url, "POST", "/accounts/shop/scenario", {
      leads: 10,
      managerDeals: 3,
      seed: 1,
      webhooks: false,
    });
    assert.equal(scenario.body.product.length, 10);
    const step = await control(sim.url, "POST", "/accounts/shop/scenario/step", { webhooks: false });
    assert.equal(step.body.remaining, scenario.body.steps_total - 1);
    const rest = await control(sim.url, "POST", "/accounts/shop/scenario/run", { webhooks: false });
    assert.equal(rest.body.remaining, 0);
    const truth = await control(sim.url, "GET", "/accounts/shop/truth");
    assert.equal(truth.body.leads.length, 15, "2 earlier leads + 10 product + 3 manager deals");

    const before = (await control(sim.url, "GET", "/time")).body.now_ms;
    const after = (await control(sim.url, "POST", "/time/advance", { seconds: 3600 })).body.now_ms;
    assert.ok(after - before >= 3_600_000);
    const stats = await control(sim.url, "GET", "/accounts/shop/stats");
    assert.deepEqual(
      stats.body.requests.map((
        r: { method: string; path: string; status: number },
      ) => [r.method, r.path, r.status]),
      [["POST", "/api/v4/webhooks", 201], ["GET", "/api/v4/leads", 500]],
    );
    assert.equal((await control(sim.url, "GET", "/nope")).status, 404);
  } finally {
    await sim.stop();
    await receiver.stop();
  }
});

Deno.test("main.ts prints where it listens and serves the control API", async () => {
  const deno = Deno.execPath();
  const child = new Deno.Command(deno, {
    args: [
      "run",
      "-A",
      new URL("../../../local/amocrm-simulator/main.ts", import.meta.url).pathname,
      "--port",
      "0",
      "--seed",
      "5",
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let output = "";
    while (!output.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      output += value;
    }
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
    assert.ok(url, output);
    const health = await fetch(`${url}/_sim/health`);
    assert.deepEqual((await health.json()).seed, 5);
  } finally {
    child.kill("SIGTERM");
    await reader.cancel();
    await child.status;
  }
});

Deno.test("control API: modes are set at creation, read and changed; unknown values are refused", async () => {
  const sim = await startSimulator({ seed: 5 });
  try {
    const created = await control(sim.url, "POST", "/accounts", {
      subdomain: "modal",
      ...CLIENT,
      modes: { statusDelivery: "mixed" },
    });
    assert.equal(created.status, 201);
    assert.equal(created.body.modes.statusDelivery, "mixed");
    assert.equal(created.body.modes.trashShape, "docs", "defaults follow the docs");
    const changed = await control(sim.url, "PUT", "/accounts/modal/modes", {
      webhookLayout: "legacy",
      kommo: true,
    });
    assert.deepEqual([changed.body.webhookLayout, changed.body.kommo, changed.body.statusDelivery], [
      "legacy",
      true,
      "mixed",
    ]);
    assert.equal((await control(sim.url, "GET", "/accounts/modal/modes")).body.webhookLayout, "legacy");
    const bad = await control(sim.url, "PUT", "/accounts/modal/modes", { webhookLayout: "2019" });
    assert.equal(bad.status, 400);
    assert.match(bad.body.detail, /webhookLayout must be one of/);
    assert.equal((await control(sim.url, "PUT", "/accounts/modal/modes", { nope: 1 })).status, 400);
  } finally {
    await sim.stop();
  }
});
