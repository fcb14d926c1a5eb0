/** Timestamps within the last `windowMs`; the primitive behind rate limits and "max per second" stats. */
export class SlidingWindow {
  readonly #hits: number[] = [];
  #start = 0;

  constructor(readonly windowMs: number) {}

  /** Hits in (nowMs - windowMs, nowMs]. */
  count(nowMs: number): number {
    while (this.#start < this.#hits.length && this.#hits[this.#start] <= nowMs - this.windowMs) this.#start++;
    if (this.#start > 1024 && this.#start * 2 > this.#hits.length) {
      this.#hits.splice(0, this.#start);
      this.#start = 0;
    }
    return this.#hits.length - this.#start;
  }

  /** Records a hit and returns the count including it. */
  add(nowMs: number): number {
    this.#hits.push(nowMs);
    return this.count(nowMs);
  }

  clear(): void {
    this.#hits.length = 0;
    this.#start = 0;
  }
}
