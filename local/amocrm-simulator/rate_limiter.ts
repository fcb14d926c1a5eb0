import { SlidingWindow } from "./sliding_window.ts";

export interface RateLimitConfig {
  /** amoCRM: 7 requests per second per integration. */
  perIntegration: number;
  /** amoCRM: 50 requests per second per account, all integrations together. */
  perAccount: number;
}

/** Per-account and per-integration 1-second sliding windows; only admitted requests use up the budget. */
export class RateLimiter {
  readonly #windows = new Map<string, SlidingWindow>();

  constructor(private readonly config: RateLimitConfig) {}

  tryAcquire(subdomain: string, integrationKey: string, wallMs: number): boolean {
    const account = this.#window(`account:${subdomain}`);
    const integration = this.#window(`integration:${subdomain}:${integrationKey}`);
    if (
      integration.count(wallMs) >= this.config.perIntegration ||
      account.count(wallMs) >= this.config.perAccount
    ) {
      return false;
    }
    account.add(wallMs);
    integration.add(wallMs);
    return true;
  }

  #window(key: string): SlidingWindow {
    let window = this.#windows.get(key);
    if (!window) this.#windows.set(key, window = new SlidingWindow(1000));
    return window;
  }
}
