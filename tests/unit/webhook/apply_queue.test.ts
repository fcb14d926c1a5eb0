// The background apply queue: bounded concurrency, bounded backlog, errors reported, promises always settle.
import assert from "node:assert/strict";
import { ApplyQueue } from "../../../supabase/functions/amocrm-webhook/apply_queue.ts";

function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

Deno.test("runs at most `concurrency` applies at once, in kick order", async () => {
  const gates = new Map<number, ReturnType<typeof deferred>>();
  const started: number[] = [];
  const queue = new ApplyQueue({
    apply: (id) => {
      started.push(id);
      const gate = deferred();
      gates.set(id, gate);
      return gate.promise;
    },
    onError: () => assert.fail("no errors expected"),
    concurrency: 2,
    maxBacklog: 10,
  });
  const kicks = [1, 2, 3, 4].map((id) => queue.kick(id));
  assert.deepEqual(started, [1, 2]);
  assert.equal(queue.backlog, 2);
  gates.get(1)!.resolve();
  await kicks[0];
  assert.deepEqual(started, [1, 2, 3]);
  gates.get(2)!.resolve();
  gates.get(3)!.resolve();
  await Promise.all(kicks.slice(1, 3));
  gates.get(4)!.resolve();
  await kicks[3];
  assert.deepEqual(started, [1, 2, 3, 4]);
});

Deno.test("past the backlog limit kicks are dropped (left to cron) and counted once", async () => {
  const gate = deferred();
  const started: number[] = [];
  const queue = new ApplyQueue({
    apply: (id) => {
      started.push(id);
      return gate.promise;
    },
    onError: () => {},
    concurrency: 1,
    maxBacklog: 2,
  });
  const kicks = [1, 2, 3, 4, 5].map((id) => queue.kick(id));
  await kicks[3]; // dropped kicks settle at once
  await kicks[4];
  assert.equal(queue.takeDropped(), 2);
  assert.equal(queue.takeDropped(), 0);
  gate.resolve();
  await Promise.all(kicks);
  assert.deepEqual(started, [1, 2, 3]);
});

Deno.test("a failing apply is reported and does not stop the queue", async () => {
  const errors: [number, string][] = [];
  const queue = new ApplyQueue({
    apply: (id) => id === 1 ? Promise.reject(new Error("boom")) : Promise.resolve(),
    onError: (id, e) => errors.push([id, (e as Error).message]),
    concurrency: 1,
    maxBacklog: 10,
  });
  await Promise.all([queue.kick(1), queue.kick(2)]);
  assert.deepEqual(errors, [[1, "boom"]]);
  assert.equal(queue.backlog, 0);
});
