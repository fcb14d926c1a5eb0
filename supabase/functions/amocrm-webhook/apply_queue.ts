// Background "apply these events now" kicks, bounded. Acks must never wait behind apply work: the kicks run on
// their own connections, a few statements at a time, and past a backlog limit they are dropped — the events stay
// `pending` and the pg_cron backstop (private.apply_pending_webhook_events) applies them a little later.
// Kicks that wait for a free statement go together: one statement applies up to `maxBatch` inbox rows, saving a
// round trip, a plan and a commit per row when webhooks come in bursts.
import { BatchPump } from "./batch_pump.ts";

export interface ApplyQueueOptions {
  apply: (inboxIds: number[]) => Promise<void>;
  onError: (inboxIds: number[], error: unknown) => void;
  /** Statements running at once (≤ the apply pool's size). */
  concurrency: number;
  /** Kicks waiting beyond this are dropped (left to cron). */
  maxBacklog: number;
  /** Inbox rows applied by one statement at most. */
  maxBatch: number;
}

export class ApplyQueue {
  #pump: BatchPump<{ inboxId: number; done: () => void }>;
  #dropped = 0;

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
      },
      afterRun: (batch) => batch.forEach((kick) => kick.done()),
    });
  }

  /** Queue an apply; the promise settles when it ran or was dropped (never rejects). */
  kick(inboxId: number): Promise<void> {
    if (this.#pump.backlog >= this.options.maxBacklog) {
      this.#dropped++;
      return Promise.resolve();
    }
    return new Promise((done) => this.#pump.push({ inboxId, done }));
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
