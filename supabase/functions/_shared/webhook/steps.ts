// Work that can pause: a generator that yields at points where it is safe to let other requests run, and
// returns its result. Parsing a 1 MiB body takes a few hundred milliseconds of CPU; the webhook function runs
// such work in slices (amocrm-webhook/fair_turns.ts) so one account's big POSTs never hold the event loop while
// another account's small POST waits for its answer. runToEnd() does the same work without pausing.

export type Steps<T> = Generator<void, T, void>;

export function runToEnd<T>(steps: Steps<T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Pause points: one every this many units of work (pairs, nodes, entities) — a few hundred microseconds. */
export const STEP_EVERY = 1024;
