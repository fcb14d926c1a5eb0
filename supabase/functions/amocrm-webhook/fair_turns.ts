// CPU turns, fair across accounts. Work that takes long (parsing a big body: steps.ts) runs in slices of a few
// milliseconds; between two slices the event loop gets a turn (a timer, so sockets and database answers are
// read), and the next slice goes to the next account in line, round-robin. One account posting four 1 MiB
// bodies at once then costs another account's small POST a slice or two, not the whole parse of all four.
import type { Steps } from "../_shared/webhook/steps.ts";

export class FairTurns {
  /** Waiting slices per account; the map's order is the rotation (an account served goes to the back). */
  #waiting = new Map<string, (() => void)[]>();
  #granting = false;

  constructor(
    /** CPU per slice before the work lets others run. */
    private readonly sliceMs: number,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Run the steps to their end for `account`, one slice per turn; rejects with what the steps threw. */
  async run<T>(account: string, steps: Steps<T>): Promise<T> {
    try {
      let sliceStarted = this.clock();
      for (;;) {
        const step = steps.next();
        if (step.done) return step.value;
        if (this.clock() - sliceStarted >= this.sliceMs) {
          await this.#turn(account);
          sliceStarted = this.clock();
        }
      }
    } finally {
      // The turn this slice had goes on to the next in line.
      if (this.#waiting.size > 0) this.#scheduleGrant();
    }
  }

  /** Slices waiting for a turn (for tests). */
  get waiting(): number {
    let count = 0;
    for (const queue of this.#waiting.values()) count += queue.length;
    return count;
  }

  #turn(account: string): Promise<void> {
    return new Promise((resume) => {
      const queue = this.#waiting.get(account);
      if (queue) queue.push(resume);
      else this.#waiting.set(account, [resume]);
      this.#scheduleGrant();
    });
  }

  /**
   * The next slice starts from a fresh timer, set once the previous slice is over (it asked for its next turn
   * or finished): a timer, not a microtask or setImmediate, because only a timer lets the I/O callbacks that
   * came in meanwhile run first — and one set before the slice ran would already be due after it.
   */
  #scheduleGrant(): void {
    if (this.#granting) return;
    this.#granting = true;
    setTimeout(() => {
      this.#granting = false;
      const next = this.#waiting.entries().next();
      if (next.done) return;
      const [account, queue] = next.value;
      const resume = queue.shift()!;
      this.#waiting.delete(account);
      if (queue.length > 0) this.#waiting.set(account, queue);
      resume(); // its slice runs right after this callback; its next #turn() or its end schedules the next
    }, 0);
  }
}
