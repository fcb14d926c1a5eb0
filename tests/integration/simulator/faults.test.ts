// @ts-types="@types/qs"
import qs from "qs";
import assert from "node:assert/strict";
import { apiGet, apiSend, CLIENT, simWithAccount, startReceiver } from "./helpers.ts";

async function statusOf(response: Promise<Response>): Promise<[number, string]> {
  const answer = await response;
  await answer.body?.cancel();
  return [answer.status, answer.headers.get("content-type") ?? ""];
}

Deno.test("faults: API 5xx for the next N calls, slow answers, hangs that end in 504", async () => {
  const { sim, base, token } = await simWithAccount({ rateLimitPerSecond: 1000 });
  try {
    sim.faults("acme", { apiServerError: { next: 2 } });
    assert.deepEqual(await statusOf(apiGet(base, token, "/api/v4/leads")), [500, "application/problem+json"]);
    assert.equal((await statusOf(apiGet(base, token, "/api/v4/leads")))[0], 500);
    assert.equal((await statusOf(apiGet(base, token, "/api/v4/leads")))[0], 204);

    sim.faults("acme", { apiServerError: { next: 1, status: 502 } });
    assert.deepEqual(await statusOf(apiGet(base, token, "/api/v4/leads")), [502, "text/html"]);

    sim.faults("acme", { apiSlow: { next: 1, delayMs: 20 } });
    assert.equal((await statusOf(apiGet(base, token, "/api/v4/leads")))[0], 204);

    sim.faults("acme", { apiHang: { next: 1, hangMs: 20 } });
    assert.deepEqual(await statusOf(apiGet(base, token, "/api/v4/leads")), [504, "text/html"]);

    sim.faults("acme", { apiHang: { next: 1 } });
    await assert.rejects(
      fetch(`${base}/api/v4/leads`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(50),
      }),
    );
    assert.equal((await statusOf(apiGet(base, token, "/api/v4/leads")))[0], 204);
    assert.equal(sim.stats("acme").injectedFaults, 6);
  } finally {
    await sim.stop();
  }
});

Deno.test("faults: rate-based faults are reproducible for a seed", async () => {
  const sequence = async () => {
    const { sim, base, token } = await simWithAccount({ seed: 9, rateLimitPerSecond: 1000 });
    try {
      sim.faults("acme", { apiServerError: { rate: 0.5 } });
      const statuses: number[] = [];
      for (let index = 0; index < 20; index++) {
        statuses.push((await statusOf(apiGet(base, token, "/api/v4/leads")))[0]);
      }
      return statuses;
    } finally {
      await sim.stop();
    }
  };
  const first = await sequence();
  assert.deepEqual(await sequence(), first);
  assert.ok(first.includes(500) && first.includes(204));
});

Deno.test("faults: a lost token answer burns the refresh token (reuse → 401 revoked)", async () => {
  const { sim, base } = await simWithAccount();
  try {
    const pair = sim.mintTokens("acme");
    sim.faults("acme", { oauthLoseResponse: { next: 1 } });
    const body = JSON.stringify({
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
      redirect_uri: CLIENT.redirectUri,
      grant_type: "refresh_token",
      refresh_token: pair.refresh_token,
    });
    const post = () =>
      fetch(`${base}/oauth2/access_token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
    assert.equal((await statusOf(post()))[0], 504);
    const retry = await post();
    assert.equal(retry.status, 401);
    assert.equal((await retry.json()).hint, "Token has been revoked");
  } finally {
    await sim.stop();
  }
});

Deno.test("faults: webhooks dropped, duplicated, reordered and delayed on demand", async () => {
  const { sim, base, token } = await simWithAccount({ timeScale: 1e7 });
  const receiver = startReceiver();
  const ids = () =>
    receiver.received.map((hook) =>
      (qs.parse(hook.body, { depth: 10 }) as { leads: { add: { id: string }[] } }).leads.add[0].id
    );
  try {
    await apiSend(base, token, "POST", "/api/v4/webhooks", {
      destination: receiver.url,
      settings: ["add_lead"],
    });
    sim.faults("acme", { webhookDrop: { next: 1 } });
    const dropped = sim.createLead("acme", {}).id;
    const kept = sim.createLead("acme", {}).id;
    await sim.flushWebhooks();
    assert.deepEqual(ids(), [String(kept)]);
    assert.equal(sim.stats("acme").webhooksDropped, 1);
    assert.notEqual(dropped, kept);

    receiver.received.length = 0;
    sim.faults("acme", { webhookDuplicate: { next: 1 } });
    const twice = sim.createLead("acme", {}).id;
    await sim.flushWebhooks();
    assert.deepEqual(ids(), [String(twice), String(twice)]);

    receiver.received.length = 0;
    sim.faults("acme", { webhookReorder: { next: 1 } });
    const early = sim.createLead("acme", {}).id;
    await new Promise((resolve) => setTimeout(resolve, 0)); // the held POST waits for the next one
    assert.equal(sim.pendingWebhooks(), 1);
    const late = sim.createLead("acme", {}).id;
    await sim.flushWebhooks();
    assert.deepEqual(ids().slice(-2), [String(late), String(early)]);

    receiver.received.length = 0;
    sim.faults("acme", { webhookDelay: { next: 1, delaySeconds: 600 } });
    const before = sim.now();
    sim.createLead("acme", {});
    await sim.flushWebhooks();
    const last = sim.stats("acme").webhookDeliveries.at(-1)!;
    assert.ok(last.time - before >= 600_000, "delivered 10 minutes of sim time later");
    assert.equal(receiver.received.length, 1);
  } finally {
    await sim.stop();
    await receiver.stop();
  }
});
