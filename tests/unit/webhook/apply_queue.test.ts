// The background apply queue: bounded concurrency, kicks batched while they wait, bounded backlog, errors
// reported, promises always settle.
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

Deno.test("kicks that wait for a free statement go together, at most maxBatch per statement, in kick order", async () => {
  const gates: ReturnType<typeof deferred>[] = [];
  const statements: number[][] = [];
  const queue = new ApplyQueue({
    apply: (ids) => {
      statements.push(ids);
      const gate = deferred();
      gates.push(gate);
      return gate.promise;
    },
    onError: () => assert.fail("no errors expected"),
    concurrency: 2,
    maxBacklog: 10,
    maxBatch: 2,
  });
  const kicks = [1, 2, 3, 4, 5].map((id) => queue.kick(id));
  assert.deepEqual(statements, [[1], [2]], "the first kicks go at once, one statement each");
  assert.equal(queue.backlog, 3);
  gates[0].resolve();
  await kicks[0];
  assert.deepEqual(statements.at(-1), [3, 4], "the waiting kicks share the next statement, up to maxBatch");
  gates[1].resolve();
  await kicks[1];
  assert.deepEqual(statements.at(-1), [5]);
  gates[2].resolve();
  gates[3].resolve();
  await Promise.all(kicks);
  assert.deepEqual(statements, [[1], [2], [3, 4], [5]]);
});

Deno.test("past the backlog limit kicks are dropped (left to cron) and counted once", async () => {
  const gate = deferred();
  const applied: number[] = [];
  const queue = new ApplyQueue({
    apply: (ids) => {
      applied.push(...ids);
      return gate.promise;
    },
    onError: () => {},
    concurrency: 1,
    maxBacklog: 2,
    maxBatch: 10,
  });
  const kicks = [1, 2, 3, 4, 5].map((id) => queue.kick(id));
  await kicks[3]; // dropped kicks settle at once
  await kicks[4];
  assert.equal(queue.takeDropped(), 2);
  assert.equal(queue.takeDropped(), 0);
  gate.resolve();
  await Promise.all(kicks);
  assert.deepEqual(applied, [1, 2, 3]);
});

Deno.test("a failing statement is reported with its inbox rows and does not stop the queue", async () => {
  const errors: [number[], string][] = [];
  const queue = new ApplyQueue({
    apply: (ids) => ids.includes(1) ? Promise.reject(new Error("boom")) : Promise.resolve(),
    onError: (ids, e) => errors.push([ids, (e as Error).message]),
    concurrency: 1,
    maxBacklog: 10,
    maxBatch: 10,
  });
  await Promise.all([queue.kick(1), queue.kick(2)]);
  assert.deepEqual(errors, [[[1], "boom"]]);
  assert.equal(queue.backlog, 0);
});
