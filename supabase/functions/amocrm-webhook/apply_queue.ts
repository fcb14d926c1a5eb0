// Background "apply these events now" kicks, bounded. Acks must never wait behind apply work: the kicks run on
// their own connections, a few statements at a time, and past a backlog limit they are dropped — the events stay
// `pending`. Once the backlog has drained, the queue sweeps what the dropped kicks left with the cron backstop's
// own function (private.apply_pending_webhook_events, a short budget per statement, at most `maxSweepRounds`
// statements), so a burst is applied within seconds rather than at the next pg_cron tick. Kicks that wait for a free statement go together: one statement applies up to `maxBatch` inbox rows,
// saving a round trip, a plan and a commit per row when webhooks come in bursts.
import { BatchPump } from "./batch_pump.ts";

export interface ApplyQueueOptions {
  apply: (inboxIds: number[]) => Promise<void>;
  onError: (inboxIds: number[], error: unknown) => void;
  /** Statements running at once (≤ the apply pool's size). */
  concurrency: number;
  /** Kicks waiting beyond this are dropped (their rows are swept later). */
  maxBacklog: number;
  /** Inbox rows applied by one statement at most. */
  maxBatch: number;
  /** Apply the oldest stored rows still waiting, for a short while; resolves to how many events it applied. */
  sweep: () => Promise<number>;
  /** Sweep statements at most, each after one that still applied something. */
  maxSweepRounds: number;
  /** Events a sweep applied (for the log). */
  onSwept?: (events: number) => void;
}

export class ApplyQueue {
  #pump: BatchPump<{ inboxId: number; done: () => void }>;
  #dropped = 0;
  /** Kicks were dropped since the last sweep began. */
  #sweepNeeded = false;

  constructor(private readonly options: ApplyQueueOptions) {
    this.#pump = new BatchPump({
      slots: options.concurrency,
      take: () => options.maxBatch,
      run: async (batch) => {
        const inboxIds = batch.map((kick) => kick.inboxId);
        try {
          await options.apply(inboxIds);
        } catch (error) {
          options.onError(inboxIds, error);
        }
        if (this.#sweepNeeded && this.#pump.backlog === 0) await this.#sweep();
      },
      afterRun: (batch) => batch.forEach((kick) => kick.done()),
    });
  }

  /** Queue an apply; the promise settles when it ran or was dropped (never rejects). */
  kick(inboxId: number): Promise<void> {
    if (this.#pump.backlog >= this.options.maxBacklog) {
      this.#dropped++;
      this.#sweepNeeded = true;
      return Promise.resolve();
    }
    return new Promise((done) => this.#pump.push({ inboxId, done }));
  }

  async #sweep(): Promise<void> {
    this.#sweepNeeded = false;
    let swept = 0;
    try {
      for (let round = 0; round < this.options.maxSweepRounds; round++) {
        const applied = await this.options.sweep();
        swept += applied;
        if (applied === 0) break;
      }
    } catch (error) {
      this.options.onError([], error);
    }
    if (swept > 0) this.options.onSwept?.(swept);
  }

  /** Kicks dropped since the last call (for the log). */
  takeDropped(): number {
    const dropped = this.#dropped;
    this.#dropped = 0;
    return dropped;
  }

  get backlog(): number {
    return this.#pump.backlog;
  }
}
