/**
 * Simulated clock. Sim time = a wall-clock source plus an offset that only ever grows
 * (explicit advances, scenario steps, accelerated webhook retries). Rate limiting keeps using
 * the wall source, because clients throttle in real time.
 */
export class SimClock {
  readonly #wallSource: () => number;
  #offsetMs: number;
  readonly #listeners = new Set<() => void>();

  /** `startMs`: the sim time to start at (default: the wall clock's now). */
  constructor(wallSource: () => number = Date.now, startMs?: number) {
    this.#wallSource = wallSource;
    this.#offsetMs = startMs === undefined ? 0 : startMs - wallSource();
  }

  /** Real (or injected) time in ms: what the rate limiter measures. */
  wallMs(): number {
    return this.#wallSource();
  }

  /** Simulated time in ms since the epoch. */
  nowMs(): number {
    return this.#wallSource() + this.#offsetMs;
  }

  /** Simulated unix seconds, the unit amoCRM uses for every timestamp. */
  nowSeconds(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  advance(ms: number): void {
    if (!(ms > 0)) return;
    this.#offsetMs += ms;
    for (const listener of this.#listeners) listener();
  }

  advanceTo(targetMs: number): void {
    this.advance(targetMs - this.nowMs());
  }

  /** Called after every advance (the webhook scheduler re-arms its timer). */
  onAdvance(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
