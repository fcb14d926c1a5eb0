// Background "apply these events now" kicks, bounded and fair across accounts. Acks must never wait behind apply
// work: the kicks run on their own connections, a few statements at a time, and past a backlog limit they are
// dropped — the events stay `pending`. Once the backlog has drained, the queue sweeps what the dropped kicks left
// with the cron backstop's own function (private.apply_pending_webhook_events, a short budget per statement, at
// most `maxSweepRounds` statements), so a burst is applied within seconds rather than at the next pg_cron tick.
//
// Kicks that wait for a free statement go together: one statement applies up to `maxBatch` inbox rows, saving a
// round trip, a plan and a commit per row when webhooks come in bursts. A statement applies at most `sliceEvents`
// events of a row and about `statementEvents` in all; a row with events left goes back in line behind the other
// accounts' kicks (taken round-robin by account, fair_pump.ts). So a 5,000-event POST is applied in slices, and
// another account's single event waits for one slice, not for the whole POST.
import { FairPump } from "./fair_pump.ts";

/** One row's outcome of a slice: events applied or quarantined now, and events still pending. */
export interface SliceResult {
  settled: number;
  pending: number;
}

export interface ApplyQueueOptions {
  /**
   * Apply at most `maxEvents` pending events of each row, in one statement; resolves to each row's outcome, in
   * order (nothing = every row finished).
   */
  apply: (inboxIds: number[], maxEvents: number) => Promise<readonly SliceResult[] | void>;
  onError: (inboxIds: number[], error: unknown) => void;
  /** Statements running at once (≤ the apply pool's size). */
  concurrency: number;
  /** Kicks waiting beyond this are dropped (their rows are swept later). */
  maxBacklog: number;
  /** Inbox rows applied by one statement at most. */
  maxBatch: number;
  /** Events one statement applies of one row at most (default: no limit). */
  sliceEvents?: number;
  /** A statement takes further rows while their (estimated) events stay within this (default: no limit). */
  statementEvents?: number;
  /** Apply the oldest stored rows still waiting, for a short while; resolves to how many events it applied. */
  sweep: () => Promise<number>;
  /** Sweep statements at most, each after one that still applied something. */
  maxSweepRounds: number;
  /** Events a sweep applied (for the log). */
  onSwept?: (events: number) => void;
}

interface Kick {
  inboxId: number;
  account: string;
  /** Events still to apply, as far as we know (what the store said, then what the last slice left). */
  events: number;
  /** Goes back in line after this statement: its row has events left. */
  again: boolean;
  done: () => void;
}

export class ApplyQueue {
  #pump: FairPump<Kick>;
  #dropped = 0;
  /** Kicks were dropped since the last sweep began. */
  #sweepNeeded = false;
  readonly #sliceEvents: number;

  constructor(private readonly options: ApplyQueueOptions) {
    this.#sliceEvents = options.sliceEvents ?? Number.MAX_SAFE_INTEGER;
    const statementEvents = options.statementEvents ?? Number.POSITIVE_INFINITY;
    this.#pump = new FairPump({
      slots: options.concurrency,
      maxBatch: options.maxBatch,
      take: (ordered) => {
        let count = 0;
        let events = 0;
        for (const kick of ordered) {
          const cost = Math.min(Math.max(1, kick.events), this.#sliceEvents);
          if (count > 0 && events + cost > statementEvents) break;
          events += cost;
          count++;
        }
        return count;
      },
      run: async (batch) => {
        const inboxIds = batch.map((kick) => kick.inboxId);
        try {
          const results = await options.apply(inboxIds, this.#sliceEvents);
          batch.forEach((kick, i) => {
            const result = results?.[i];
            // Nothing settled although events are pending: another applier holds them, or they hit contention
            // three times; the cron backstop takes them.
            kick.again = result !== undefined && result.pending > 0 && result.settled > 0;
            if (kick.again) kick.events = result!.pending;
          });
        } catch (error) {
          options.onError(inboxIds, error);
        }
        if (this.#sweepNeeded && this.#pump.backlog === 0) await this.#sweep();
      },
      afterRun: (batch) => {
        for (const kick of batch) {
          if (kick.again) {
            kick.again = false;
            this.#pump.push(kick.account, kick);
          } else {
            kick.done();
          }
        }
      },
    });
  }

  /**
   * Queue an apply of one stored row of `account` with `events` events; the promise settles when the row was
   * applied (slice after slice) or the kick was dropped (never rejects).
   */
  kick(inboxId: number, account = "", events = 1): Promise<void> {
    if (this.#pump.backlog >= this.options.maxBacklog) {
      this.#dropped++;
      this.#sweepNeeded = true;
      return Promise.resolve();
    }
    return new Promise((done) => this.#pump.push(account, { inboxId, account, events, again: false, done }));
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
