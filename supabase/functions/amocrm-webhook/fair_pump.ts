// Natural batching, fair across accounts, shared by the ack inserts and the background apply: an item runs at
// once when a slot is free; items that arrive while every slot is busy wait and go together when one frees.
// Waiting items queue per key (the user account) and a batch takes them round-robin across keys, FIFO within a
// key — so one account's burst waits behind itself, not in front of another account's single POST. With one
// key this is plain FIFO.

export interface FairPumpOptions<T> {
  /** Batches running at once. */
  slots: number;
  /** The most items one batch can take (bounds the work of ordering the waiting items). */
  maxBatch: number;
  /**
   * How many of the waiting items, in fair order, the next batch takes; at least one is always taken.
   * `ordered` holds at most maxBatch items.
   */
  take: (ordered: readonly T[]) => number;
  /** Runs one batch; never rejects. */
  run: (batch: T[]) => Promise<void>;
  /** Called once the batch's slot has gone to the next waiting items (e.g. to settle the batch's callers). */
  afterRun?: (batch: T[]) => void;
}

export class FairPump<T> {
  /** Waiting items per key; the map's order is the rotation (a key served goes to the back). */
  #queues = new Map<string, T[]>();
  #backlog = 0;
  #running = 0;

  constructor(private readonly options: FairPumpOptions<T>) {}

  get backlog(): number {
    return this.#backlog;
  }

  push(key: string, item: T): void {
    const queue = this.#queues.get(key);
    if (queue) queue.push(item);
    else this.#queues.set(key, [item]);
    this.#backlog++;
    this.#pump();
  }

  /** The first maxBatch waiting items, round-robin across keys, and the key of each. */
  #fairOrder(): { items: T[]; keys: string[] } {
    const items: T[] = [];
    const keys: string[] = [];
    const queues = [...this.#queues];
    for (let round = 0; items.length < this.options.maxBatch; round++) {
      let any = false;
      for (const [key, queue] of queues) {
        if (round >= queue.length) continue;
        any = true;
        items.push(queue[round]);
        keys.push(key);
        if (items.length === this.options.maxBatch) break;
      }
      if (!any) break;
    }
    return { items, keys };
  }

  #pump(): void {
    while (this.#running < this.options.slots && this.#backlog > 0) {
      const { items, keys } = this.#fairOrder();
      const count = Math.min(items.length, Math.max(1, this.options.take(items)));
      const batch = items.slice(0, count);
      // Take the items off their queues (each key's are a prefix of its queue); served keys go to the back.
      const served = new Map<string, number>();
      for (const key of keys.slice(0, count)) served.set(key, (served.get(key) ?? 0) + 1);
      for (const [key, taken] of served) {
        const queue = this.#queues.get(key)!;
        queue.splice(0, taken);
        this.#queues.delete(key);
        if (queue.length > 0) this.#queues.set(key, queue);
      }
      this.#backlog -= count;
      this.#running++;
      this.options.run(batch).finally(() => {
        this.#running--;
        this.#pump();
        this.options.afterRun?.(batch);
      });
    }
  }
}
