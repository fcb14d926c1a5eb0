// FairTurns: long work runs in slices, one slice per turn, round-robin across accounts; a short job of one
// account finishes while another account's long jobs are still running.
import assert from "node:assert/strict";
import { FairTurns } from "../../../supabase/functions/amocrm-webhook/fair_turns.ts";
import type { Steps } from "../../../supabase/functions/_shared/webhook/steps.ts";

/** A job of `slices` slices that records each slice it runs; every step "costs" one clock unit. */
function* job(label: string, slices: number, log: string[], clock: { now: number }): Steps<string> {
  for (let i = 0; i < slices; i++) {
    log.push(`${label}${i}`);
    clock.now += 1;
    yield;
  }
  return label;
}

Deno.test("slices go round-robin across accounts: B's short job ends before A's long ones", async () => {
  const clock = { now: 0 };
  const turns = new FairTurns(1, () => clock.now);
  const log: string[] = [];
  const done: string[] = [];
  const run = (account: string, label: string, slices: number) =>
    turns.run(account, job(label, slices, log, clock)).then((result) => done.push(result));
  await Promise.all([run("a", "x", 4), run("a", "y", 4), run("b", "z", 2)]);
  // Each job runs its first slice at once; then the turns alternate between a and b.
  assert.deepEqual(log.slice(0, 3), ["x0", "y0", "z0"]);
  assert.ok(done.indexOf("z") < done.indexOf("x") && done.indexOf("z") < done.indexOf("y"), done.join());
  assert.deepEqual(log.filter((s) => s.startsWith("z")), ["z0", "z1"]);
  assert.equal(turns.waiting, 0);
});

Deno.test("a job that throws rejects, and the others still get their turns", async () => {
  const clock = { now: 0 };
  const turns = new FairTurns(1, () => clock.now);
  function* failing(): Steps<string> {
    clock.now += 1;
    yield;
    throw new Error("parser bug");
  }
  const log: string[] = [];
  const [bad, good] = await Promise.allSettled([
    turns.run("a", failing()),
    turns.run("b", job("g", 3, log, clock)),
  ]);
  assert.equal(bad.status, "rejected");
  assert.deepEqual([good.status, log], ["fulfilled", ["g0", "g1", "g2"]]);
});
