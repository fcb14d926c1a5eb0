// The background apply queue: bounded concurrency, kicks batched while they wait, bounded backlog with a sweep
// of what the dropped kicks left, errors reported, promises always settle.
import assert from "node:assert/strict";
import {
  ApplyQueue,
  type ApplyQueueOptions,
} from "../../../supabase/functions/amocrm-webhook/apply_queue.ts";

/** Options with no sweeping work unless a test says otherwise. */
function options(
  overrides: Partial<ApplyQueueOptions> & Pick<ApplyQueueOptions, "apply">,
): ApplyQueueOptions {
  return {
    onError: () => assert.fail("no errors expected"),
    concurrency: 1,
    maxBacklog: 10,
    maxBatch: 10,
    sweep: () => Promise.resolve(0),
    maxSweepRounds: 4,
    ...overrides,
  };
}

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
  const queue = new ApplyQueue(options({
    apply: (ids) => {
      statements.push(ids);
      const gate = deferred();
      gates.push(gate);
      return gate.promise;
    },
    concurrency: 2,
    maxBatch: 2,
  }));
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

Deno.test("past the backlog limit kicks are dropped (for the sweep) and counted once", async () => {
  const gate = deferred();
  const applied: number[] = [];
  const queue = new ApplyQueue(options({
    apply: (ids) => {
      applied.push(...ids);
      return gate.promise;
    },
    maxBacklog: 2,
  }));
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
  const queue = new ApplyQueue(options({
    apply: (ids) => ids.includes(1) ? Promise.reject(new Error("boom")) : Promise.resolve(),
    onError: (ids, e) => errors.push([ids, (e as Error).message]),
  }));
  await Promise.all([queue.kick(1), queue.kick(2)]);
  assert.deepEqual(errors, [[[1], "boom"]]);
  assert.equal(queue.backlog, 0);
});

Deno.test("what dropped kicks left is swept once the backlog drains, in rounds until one applies nothing", async () => {
  const gate = deferred();
  const log: string[] = [];
  const sweeps = [3, 3, 1, 0];
  const queue = new ApplyQueue(options({
    apply: (ids) => {
      log.push(`apply ${ids}`);
      return ids.includes(1) ? gate.promise : Promise.resolve();
    },
    maxBacklog: 1,
    sweep: () => {
      log.push("sweep");
      return Promise.resolve(sweeps.shift() ?? 0);
    },
    onSwept: (events) => log.push(`swept ${events}`),
  }));
  const kicks = [1, 2, 3, 4].map((id) => queue.kick(id)); // 1 runs, 2 waits, 3 and 4 are dropped
  assert.equal(queue.takeDropped(), 2);
  gate.resolve();
  await Promise.all(kicks);
  assert.deepEqual(log, ["apply 1", "apply 2", "sweep", "sweep", "sweep", "sweep", "swept 7"]);

  await queue.kick(5);
  assert.deepEqual(log.at(-1), "apply 5", "no drops since: no sweep");
});

Deno.test("a sweep stops after maxSweepRounds; a failing sweep is reported and the queue goes on", async () => {
  let gate = deferred();
  let sweepCalls = 0;
  let failSweep = false;
  const errors: [number[], string][] = [];
  const applied: number[] = [];
  const queue = new ApplyQueue(options({
    apply: (ids) => {
      applied.push(...ids);
      return ids.includes(1) || ids.includes(10) ? gate.promise : Promise.resolve();
    },
    maxBacklog: 1,
    sweep: () => {
      sweepCalls++;
      return failSweep ? Promise.reject(new Error("db down")) : Promise.resolve(5);
    },
    onError: (ids, e) => errors.push([ids, (e as Error).message]),
  }));
  let kicks = [1, 2, 3].map((id) => queue.kick(id)); // 3 is dropped
  gate.resolve();
  await Promise.all(kicks);
  assert.equal(sweepCalls, 4, "every round applied something: the sweep stops at maxSweepRounds");

  gate = deferred();
  failSweep = true;
  kicks = [10, 11, 12].map((id) => queue.kick(id));
  gate.resolve();
  await Promise.all(kicks);
  assert.deepEqual(errors, [[[], "db down"]]);
  await queue.kick(13);
  assert.equal(applied.at(-1), 13);
});

Deno.test("a big row is applied in slices and goes back in line: another account's kick runs in between", async () => {
  const statements: string[] = [];
  const pending = new Map<number, number>([[1, 600], [2, 1]]);
  const queue = new ApplyQueue(options({
    apply: (ids, maxEvents) => {
      statements.push(ids.join(","));
      return Promise.resolve(ids.map((id) => {
        const settled = Math.min(maxEvents, pending.get(id)!);
        pending.set(id, pending.get(id)! - settled);
        return { settled, pending: pending.get(id)! };
      }));
    },
    sliceEvents: 250,
    statementEvents: 250,
  }));
  const big = queue.kick(1, "account-a", 600);
  const small = queue.kick(2, "account-b", 1);
  await Promise.all([big, small]);
  assert.deepEqual(statements, ["1", "2", "1", "1"], "B's row went right after A's first slice");
  assert.deepEqual([...pending.values()], [0, 0]);
});

Deno.test("a statement takes rows while their events fit statementEvents; a slice that settled nothing stops", async () => {
  const statements: number[][] = [];
  const gate = deferred();
  const queue = new ApplyQueue(options({
    apply: async (ids) => {
      statements.push(ids);
      if (ids.includes(1)) await gate.promise;
      // Row 5 stays pending without progress (held by another applier): left to the cron backstop.
      return ids.map((id) => id === 5 ? { settled: 0, pending: 3 } : { settled: 1, pending: 0 });
    },
    sliceEvents: 100,
    statementEvents: 100,
  }));
  const kicks = [
    queue.kick(1, "a", 1),
    queue.kick(2, "a", 60),
    queue.kick(3, "b", 30),
    queue.kick(4, "c", 500),
    queue.kick(5, "d", 3),
  ];
  gate.resolve();
  await Promise.all(kicks);
  assert.deepEqual(statements, [[1], [2, 3], [4], [5]]);
});
