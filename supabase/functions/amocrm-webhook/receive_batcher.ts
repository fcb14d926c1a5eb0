// Acks share inserts under load. A POST is stored at once when a statement slot is free; POSTs that arrive
// while every slot is busy wait for the next free slot and go together, in one statement and one transaction
// (private.receive_webhooks). A lone POST never waits for company, so a quiet webhook answers as fast as before;
// a burst (amoCRM batching a mass stage change, a retry wave) costs one round trip per batch instead of per POST.
// Every POST still gets its own inbox row, its own guard and its own answer. Waiting POSTs are taken round-robin
// across user accounts (fair_pump.ts), and big POSTs (≥ `largeChars`) have a lane of their own — one statement
// at a time, one POST each — so a burst of 1 MiB bodies never holds the statements small POSTs wait for.
import { FairPump } from "./fair_pump.ts";
import { isRejectedContent, type ReceiveRequest, type ReceiveResult, type WebhookStore } from "./store.ts";

export interface ReceiveBatcherOptions {
  store: Pick<WebhookStore, "receiveIfConnected" | "receiveManyIfConnected">;
  /** Statements in flight at once. */
  maxInFlight: number;
  /** A batch closes at this many POSTs … */
  maxPosts: number;
  /** … or once its raw bodies and events reach this many characters (a single larger POST goes alone). */
  maxChars: number;
  /** POSTs from this size on (raw body + events) go through the large lane (default: none does). */
  largeChars?: number;
}

/** What one POST got: its row (null = refused by the guard) and how many POSTs shared the statement. */
export interface BatchedReceive {
  result: ReceiveResult | null;
  batchSize: number;
}

interface Waiting {
  request: ReceiveRequest;
  settle: (outcome: Promise<BatchedReceive>) => void;
}

const sizeOf = (r: ReceiveRequest) => r.rawBody.length + r.eventsJson.length;

export class ReceiveBatcher {
  #pump: FairPump<Waiting>;
  #largePump: FairPump<Waiting>;

  constructor(private readonly options: ReceiveBatcherOptions) {
    this.#pump = new FairPump({
      slots: options.maxInFlight,
      maxBatch: options.maxPosts,
      take: (waiting) => this.#batchLength(waiting),
      run: (batch) => this.#store(batch),
    });
    this.#largePump = new FairPump({
      slots: 1,
      maxBatch: 1,
      take: () => 1,
      run: (batch) => this.#storeAlone(batch[0]),
    });
  }

  /** Store one POST; rejects with the database's error when it could not be stored. */
  receive(request: ReceiveRequest): Promise<BatchedReceive> {
    const pump = sizeOf(request) >= (this.options.largeChars ?? Number.POSITIVE_INFINITY)
      ? this.#largePump
      : this.#pump;
    return new Promise((resolve) => pump.push(request.userAccountId, { request, settle: resolve }));
  }

  /** One POST in its own statement (text parameters: no JSON document to build for a big body). */
  async #storeAlone(w: Waiting): Promise<void> {
    const alone = this.options.store.receiveIfConnected(w.request).then((result) => ({
      result,
      batchSize: 1,
    }));
    w.settle(alone);
    await alone.catch(() => {});
  }

  /** POSTs up to maxPosts, while their characters fit maxChars (the first one always goes). */
  #batchLength(waiting: readonly Waiting[]): number {
    let count = 0;
    let chars = 0;
    while (count < waiting.length && count < this.options.maxPosts) {
      const size = sizeOf(waiting[count].request);
      if (count > 0 && chars + size > this.options.maxChars) break;
      chars += size;
      count++;
    }
    return count;
  }

  async #store(batch: Waiting[]): Promise<void> {
    const batchSize = batch.length;
    try {
      const results = await this.options.store.receiveManyIfConnected(batch.map((w) => w.request));
      batch.forEach((w, i) => w.settle(Promise.resolve({ result: results[i], batchSize })));
    } catch (error) {
      if (batchSize > 1 && isRejectedContent(error)) {
        // One POST spoiled the statement for all: store each alone, so only that one meets the error.
        await Promise.all(batch.map((w) => this.#storeAlone(w)));
        return;
      }
      for (const w of batch) w.settle(Promise.reject(error));
    }
  }
}
