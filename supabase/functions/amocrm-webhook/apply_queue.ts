// Background "apply these events now" kicks, bounded. Acks must never wait behind apply work: the kicks run on
// their own connections, a few statements at a time, and past a backlog limit they are dropped — the events stay
// `pending` and the pg_cron backstop (private.apply_pending_webhook_events) applies them a little later.
// Kicks that wait for a free statement go together: one statement applies up to `maxBatch` inbox rows, saving a
// round trip, a plan and a commit per row when webhooks come in bursts.

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
  #waiting: { inboxId: number; done: () => void }[] = [];
  #running = 0;
  #dropped = 0;

  constructor(private readonly options: ApplyQueueOptions) {}

  /** Queue an apply; the promise settles when it ran or was dropped (never rejects). */
  kick(inboxId: number): Promise<void> {
    if (this.#waiting.length >= this.options.maxBacklog) {
      this.#dropped++;
      return Promise.resolve();
    }
    return new Promise((done) => {
      this.#waiting.push({ inboxId, done });
      this.#pump();
    });
  }

  /** Kicks dropped since the last call (for the log). */
  takeDropped(): number {
    const dropped = this.#dropped;
    this.#dropped = 0;
    return dropped;
  }

  get backlog(): number {
    return this.#waiting.length;
  }

  #pump(): void {
    while (this.#running < this.options.concurrency && this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, this.options.maxBatch);
      const inboxIds = batch.map((kick) => kick.inboxId);
      this.#running++;
      this.options.apply(inboxIds)
        .catch((error) => this.options.onError(inboxIds, error))
        .finally(() => {
          this.#running--;
          for (const kick of batch) kick.done();
          this.#pump();
        });
    }
  }
}
