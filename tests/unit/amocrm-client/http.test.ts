// One HTTP attempt against an in-memory fetch: body handling and transport errors.
import assert from "node:assert/strict";
import {
  AmoCrmForbiddenError,
  AmoCrmInvalidResponseError,
  AmoCrmNetworkError,
  AmoCrmTimeoutError,
} from "../../../supabase/functions/_shared/amocrm/errors.ts";
import { parseSuccessBody, retryAfterMs, sendHttp } from "../../../supabase/functions/_shared/amocrm/http.ts";

const attempt = {
  method: "GET",
  url: "http://in-memory.test/api/v4/leads",
  endpoint: "/api/v4/leads",
  connectionId: "c1",
  headers: {},
  timeoutMs: 1000,
};

Deno.test("204 is an empty result (null body)", async () => {
  const outcome = await sendHttp(() => Promise.resolve(new Response(null, { status: 204 })), attempt);
  assert.equal(outcome.ok, true);
  assert.equal(outcome.ok && outcome.body, null);
});

Deno.test("HAL JSON is parsed", async () => {
  const fetchFn = () =>
    Promise.resolve(
      Response.json({ _embedded: { leads: [] } }, { headers: { "content-type": "application/hal+json" } }),
    );
  const outcome = await sendHttp(fetchFn, attempt);
  assert.deepEqual(outcome.ok && outcome.body, { _embedded: { leads: [] } });
});

Deno.test("a non-JSON 200 is an invalid response", async () => {
  await assert.rejects(
    sendHttp(() => Promise.resolve(new Response("<html>hi</html>")), attempt),
    AmoCrmInvalidResponseError,
  );
  assert.throws(() => parseSuccessBody("{"), AmoCrmInvalidResponseError);
  assert.equal(parseSuccessBody("  "), null);
});

Deno.test("an HTML 403 comes back as a typed error, not a throw", async () => {
  const fetchFn = () =>
    Promise.resolve(
      new Response("<html><title>403 Forbidden</title></html>", {
        status: 403,
        headers: { "content-type": "text/html" },
      }),
    );
  const outcome = await sendHttp(fetchFn, attempt);
  assert.equal(outcome.ok, false);
  assert.ok(!outcome.ok && outcome.error instanceof AmoCrmForbiddenError);
});

Deno.test("a request that hangs past the timeout is aborted with AmoCrmTimeoutError", async () => {
  const hanging = (_input: RequestInfo | URL, init?: RequestInit) =>
    new Promise<Response>((_resolve, reject) => {
      init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    });
  await assert.rejects(sendHttp(hanging, { ...attempt, timeoutMs: 20 }), AmoCrmTimeoutError);
});

Deno.test("a refused connection is an AmoCrmNetworkError", async () => {
  const refused = () => Promise.reject(new TypeError("error sending request: connection refused"));
  await assert.rejects(
    sendHttp(refused, attempt),
    (e) => e instanceof AmoCrmNetworkError && !(e instanceof AmoCrmTimeoutError),
  );
});

Deno.test("Retry-After in seconds or as a date", () => {
  assert.equal(retryAfterMs(new Headers({ "retry-after": "2" }), 0), 2000);
  assert.equal(retryAfterMs(new Headers({ "retry-after": new Date(5000).toUTCString() }), 1000), 4000);
  assert.equal(retryAfterMs(new Headers(), 0), null);
});
