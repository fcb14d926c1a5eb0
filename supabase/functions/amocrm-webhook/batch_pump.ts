// Natural batching, shared by the ack inserts and the background apply: an item runs at once when a slot is
// free; items that arrive while every slot is busy wait and go together when one frees.

export interface BatchPumpOptions<T> {
  /** Batches running at once. */
  slots: number;
  /** How many of the waiting items (in order) the next batch takes; at least one is always taken. */
  take: (waiting: readonly T[]) => number;
  /** Runs one batch; never rejects. */
  run: (batch: T[]) => Promise<void>;
  /** Called once the batch's slot has gone to the next waiting items (e.g. to settle the batch's callers). */
  afterRun?: (batch: T[]) => void;
}

export class BatchPump<T> {
  #waiting: T[] = [];
  #running = 0;

  constructor(private readonly options: BatchPumpOptions<T>) {}

  get backlog(): number {
    return this.#waiting.length;
  }

  push(item: T): void {
    this.#waiting.push(item);
    this.#pump();
  }

  #pump(): void {
    while (this.#running < this.options.slots && this.#waiting.length > 0) {
      const batch = this.#waiting.splice(0, Math.max(1, this.options.take(this.#waiting)));
      this.#running++;
      this.options.run(batch).finally(() => {
        this.#running--;
        this.#pump();
        this.options.afterRun?.(batch);
      });
    }
  }
}
