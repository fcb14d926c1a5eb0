// The receive batcher: a lone POST goes at once; POSTs arriving while every slot is busy share the next
// statement; each gets its own result; a value Postgres refuses spoils only its own POST.
import assert from "node:assert/strict";
import { ReceiveBatcher } from "../../../supabase/functions/amocrm-webhook/receive_batcher.ts";
import type { ReceiveRequest, ReceiveResult } from "../../../supabase/functions/amocrm-webhook/store.ts";

const post = (rawBody: string, eventsJson = "[]"): ReceiveRequest => ({
  userAccountId: "9b2f1c3a-5d4e-4f60-8a7b-0c1d2e3f4a5b",
  keyVersion: 1,
  claimedAccountId: null,
  claimedSubdomain: null,
  contentType: "application/x-www-form-urlencoded",
  rawBody,
  eventsJson,
  quarantineReason: null,
});

/** A store whose statements finish when the test says so; refuses bodies starting with "refused". */
function controlledStore() {
  const statements: { bodies: string[]; finish: () => void; fail: (error: unknown) => void }[] = [];
  const alone: string[] = [];
  let nextId = 1;
  const resultFor = (r: ReceiveRequest): ReceiveResult | null =>
    r.rawBody.startsWith("refused") ? null : { inbox_id: nextId++, event_count: r.rawBody.length };
  return {
    statements,
    alone,
    store: {
      receiveManyIfConnected(requests: readonly ReceiveRequest[]) {
        return new Promise<(ReceiveResult | null)[]>((resolve, reject) => {
          statements.push({
            bodies: requests.map((r) => r.rawBody),
            finish: () => resolve(requests.map(resultFor)),
            fail: reject,
          });
        });
      },
      receiveIfConnected(request: ReceiveRequest) {
        alone.push(request.rawBody);
        if (request.rawBody === "poison") {
          return Promise.reject(
            Object.assign(new Error("unsupported Unicode escape sequence"), { code: "22P05" }),
          );
        }
        return Promise.resolve(resultFor(request));
      },
    },
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("a lone POST is stored at once; POSTs that arrive while slots are busy share the next statement", async () => {
  const { store, statements } = controlledStore();
  const batcher = new ReceiveBatcher({ store, maxInFlight: 1, maxPosts: 100, maxChars: 1_000_000 });

  const first = batcher.receive(post("a"));
  assert.deepEqual(statements.map((s) => s.bodies), [["a"]], "the first POST did not wait for company");
  const rest = ["b", "refused-c", "dd"].map((body) => batcher.receive(post(body)));
  assert.equal(statements.length, 1, "the others wait while the only slot is busy");

  statements[0].finish();
  assert.deepEqual(await first, { result: { inbox_id: 1, event_count: 1 }, batchSize: 1 });
  await tick();
  assert.deepEqual(statements[1].bodies, ["b", "refused-c", "dd"]);
  statements[1].finish();
  assert.deepEqual(await Promise.all(rest), [
    { result: { inbox_id: 2, event_count: 1 }, batchSize: 3 },
    { result: null, batchSize: 3 },
    { result: { inbox_id: 3, event_count: 2 }, batchSize: 3 },
  ]);
});

Deno.test("a batch closes at maxPosts or maxChars; a POST larger than maxChars goes alone", async () => {
  const { store, statements } = controlledStore();
  const batcher = new ReceiveBatcher({ store, maxInFlight: 1, maxPosts: 2, maxChars: 10 });
  const all = [batcher.receive(post("x"))];
  for (const body of ["1", "2", "3", "four-five", "a-very-large-body", "6"]) {
    all.push(batcher.receive(post(body)));
  }
  for (let i = 0; statements.length > i; i++) {
    statements[i].finish();
    await tick();
  }
  await Promise.all(all);
  assert.deepEqual(statements.map((s) => s.bodies), [
    ["x"],
    ["1", "2"], // maxPosts
    ["3"], // "3" + "four-five" would pass 10 characters
    ["four-five"],
    ["a-very-large-body"], // over maxChars on its own: still stored, alone
    ["6"],
  ]);
});

Deno.test("up to maxInFlight statements run at once", async () => {
  const { store, statements } = controlledStore();
  const batcher = new ReceiveBatcher({ store, maxInFlight: 2, maxPosts: 100, maxChars: 1_000_000 });
  const all = ["a", "b", "c", "d"].map((body) => batcher.receive(post(body)));
  assert.deepEqual(statements.map((s) => s.bodies), [["a"], ["b"]]);
  statements[1].finish();
  await tick();
  assert.deepEqual(statements[2].bodies, ["c", "d"]);
  statements[0].finish();
  statements[2].finish();
  assert.equal((await Promise.all(all)).filter((r) => r.result !== null).length, 4);
});

Deno.test("a value Postgres refuses: the batch is retried POST by POST and only that POST fails", async () => {
  const { store, statements, alone } = controlledStore();
  const batcher = new ReceiveBatcher({ store, maxInFlight: 1, maxPosts: 100, maxChars: 1_000_000 });
  const first = batcher.receive(post("first"));
  const batch = ["ok-1", "poison", "ok-2"].map((body) => batcher.receive(post(body)));
  statements[0].finish();
  await first;
  await tick();
  statements[1].fail(Object.assign(new Error("unsupported Unicode escape sequence"), { code: "22P05" }));

  const settled = await Promise.allSettled(batch);
  assert.deepEqual(alone, ["ok-1", "poison", "ok-2"]);
  assert.equal(settled[0].status, "fulfilled");
  assert.equal(settled[2].status, "fulfilled");
  assert.deepEqual((settled[0] as PromiseFulfilledResult<unknown>).value, {
    result: { inbox_id: 2, event_count: 4 },
    batchSize: 1,
  });
  assert.equal(settled[1].status, "rejected");
  assert.equal(((settled[1] as PromiseRejectedResult).reason as { code: string }).code, "22P05");
});

Deno.test("the database unavailable: every POST of the statement gets the error, the next POSTs still go", async () => {
  const { store, statements } = controlledStore();
  const batcher = new ReceiveBatcher({ store, maxInFlight: 1, maxPosts: 100, maxChars: 1_000_000 });
  const first = batcher.receive(post("a"));
  const batch = ["b", "c"].map((body) => batcher.receive(post(body)));
  const down = Object.assign(new Error("connection refused"), { code: "ECONNREFUSED" });
  statements[0].fail(down);
  await assert.rejects(first, /connection refused/);
  await tick();
  statements[1].fail(down);
  for (const outcome of await Promise.allSettled(batch)) assert.equal(outcome.status, "rejected");

  const later = batcher.receive(post("e"));
  statements[2].finish();
  assert.notEqual((await later).result, null);
});

Deno.test("fair across accounts: waiting POSTs are taken round-robin by account, FIFO within one", async () => {
  const { store, statements } = controlledStore();
  const batcher = new ReceiveBatcher({ store, maxInFlight: 1, maxPosts: 3, maxChars: 1_000_000 });
  const of = (account: string, body: string) => batcher.receive({ ...post(body), userAccountId: account });
  const all = [of("a", "a0")];
  for (const body of ["a1", "a2", "a3", "a4"]) all.push(of("a", body));
  all.push(of("b", "b1"), of("c", "c1"), of("b", "b2"));
  for (let i = 0; statements.length > i; i++) {
    statements[i].finish();
    await tick();
  }
  await Promise.all(all);
  assert.deepEqual(statements.map((s) => s.bodies), [
    ["a0"],
    ["a1", "b1", "c1"], // one each, in the order the accounts first waited
    ["a2", "b2", "a3"], // one per account per round: a's third waits for b's second
    ["a4"],
  ]);
});

Deno.test("big POSTs have their own lane: one statement at a time, alone, never holding the small POSTs' slots", async () => {
  const { store, statements, alone } = controlledStore();
  const batcher = new ReceiveBatcher({
    store,
    maxInFlight: 1,
    maxPosts: 100,
    maxChars: 1_000_000,
    largeChars: 10,
  });
  const bigs = ["big-body-1", "big-body-2"].map((body) =>
    batcher.receive({ ...post(body), userAccountId: "a" })
  );
  const small = batcher.receive({ ...post("b"), userAccountId: "b" });
  assert.deepEqual(statements.map((s) => s.bodies), [["b"]], "the small POST got the small lane's statement");
  statements[0].finish();
  assert.equal((await small).batchSize, 1);
  await Promise.all(bigs);
  assert.deepEqual(alone, ["big-body-1", "big-body-2"], "the big ones went one by one, text parameters");
});

Deno.test("an account that was not served by a full batch goes first in the next one", async () => {
  const { store, statements } = controlledStore();
  const batcher = new ReceiveBatcher({ store, maxInFlight: 1, maxPosts: 2, maxChars: 1_000_000 });
  const of = (account: string, body: string) => batcher.receive({ ...post(body), userAccountId: account });
  const all = [of("a", "a0"), of("a", "a1"), of("a", "a2"), of("b", "b1"), of("c", "c1")];
  for (let i = 0; statements.length > i; i++) {
    statements[i].finish();
    await tick();
  }
  await Promise.all(all);
  assert.deepEqual(statements.map((s) => s.bodies), [["a0"], ["a1", "b1"], ["c1", "a2"]]);
});
