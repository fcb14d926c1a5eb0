import type { DeliveryRecord } from "./account_stats.ts";
import type { SimClock } from "./clock.ts";
import type { Webhook } from "./types.ts";
import type { WebhookRegistry } from "./webhook_registry.ts";

export const WEBHOOK_USER_AGENT = "amoCRM-WebHook-client/1.0";

/** Retry schedule after a failed attempt: +5 min, +15 min; then +15 min and +1 h only after 499/5xx. */
const RETRY_DELAYS_MS = [5 * 60_000, 15 * 60_000, 15 * 60_000, 60 * 60_000];

export function retryDelayMs(failedAttempt: number, status: number): number | null {
  if (failedAttempt < 2) return RETRY_DELAYS_MS[failedAttempt];
  if (failedAttempt < RETRY_DELAYS_MS.length && (status === 499 || status >= 500)) {
    return RETRY_DELAYS_MS[failedAttempt];
  }
  return null;
}

/** amoCRM counts any status 100–299 answered in time as success. */
export function isSuccess(status: number): boolean {
  return status >= 100 && status < 300;
}

export interface DeliveryJob {
  subdomain: string;
  webhookId: number;
  destination: string;
  body: string;
  /** 0 = first attempt. */
  attempt: number;
  /** Sim ms. */
  dueAt: number;
  /** Reorder fault: let the next POST to the same webhook overtake this one. */
  holdForReorder: boolean;
}

interface QueuedJob extends DeliveryJob {
  seq: number;
}

export interface DispatcherDeps {
  clock: SimClock;
  /** Sim-time waits (retries, delayed webhooks) take wait/timeScale real time; the sim clock then jumps. */
  timeScale: number;
  /** Real ms amoCRM waits for an answer (2000). */
  timeoutMs: number;
  findWebhook(
    subdomain: string,
    webhookId: number,
  ): { webhook: Webhook; registry: WebhookRegistry } | undefined;
  onAttempt(subdomain: string, record: DeliveryRecord): void;
}

/**
 * Delivers webhook POSTs: one sequential queue per webhook, timed retries, the 2-second rule and auto-disable.
 */
export class WebhookDispatcher {
  readonly #scheduled: QueuedJob[] = [];
  readonly #ready = new Map<string, QueuedJob[]>();
  readonly #held = new Map<string, QueuedJob>();
  readonly #workers = new Map<string, Promise<void>>();
  readonly #inFlight = new Set<AbortController>();
  #waiters: (() => void)[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #seq = 0;
  #releaseHeld = 0;
  #stopped = false;
  #fireWhenIdle = false;
  readonly #unsubscribe: () => void;

  constructor(private readonly deps: DispatcherDeps) {
    this.#unsubscribe = deps.clock.onAdvance(() => this.#arm());
  }

  enqueue(job: DeliveryJob): void {
    if (this.#stopped) return;
    const queued: QueuedJob = { ...job, seq: ++this.#seq };
    if (queued.dueAt <= this.deps.clock.nowMs()) {
      this.#makeReady(queued);
      return;
    }
    const index = this.#scheduled.findIndex((other) =>
      other.dueAt > queued.dueAt || (other.dueAt === queued.dueAt && other.seq > queued.seq)
    );
    this.#scheduled.splice(index === -1 ? this.#scheduled.length : index, 0, queued);
    this.#arm();
  }

  /** Jobs not yet answered: scheduled, queued, held back or in flight. */
  pending(): number {
    let count = this.#scheduled.length + this.#held.size + this.#workers.size;
    for (const queue of this.#ready.values()) count += queue.length;
    return count;
  }

  /**
   * Resolves when nothing is pending. Held (reordered) jobs are released. Future retries are awaited in
   * accelerated real time, or with `fastForward` the sim clock jumps straight to each one.
   */
  async flush(opts: { fastForward?: boolean } = {}): Promise<void> {
    this.#releaseHeld++;
    try {
      for (const [key, job] of this.#held) {
        this.#held.delete(key);
        this.#makeReady(job);
      }
      while (!this.#stopped && this.pending() > 0) {
        if (opts.fastForward && this.#workers.size === 0 && this.#scheduled.length > 0) {
          this.deps.clock.advanceTo(this.#scheduled[0].dueAt);
          this.#fire();
          continue;
        }
        await new Promise<void>((resolve) => this.#waiters.push(resolve));
      }
    } finally {
      this.#releaseHeld--;
    }
  }

  /** Drops everything queued for a webhook (it was disabled or deleted). */
  cancel(subdomain: string, webhookId: number): void {
    const key = `${subdomain}#${webhookId}`;
    this.#ready.delete(key);
    this.#held.delete(key);
    for (let index = this.#scheduled.length - 1; index >= 0; index--) {
      const job = this.#scheduled[index];
      if (job.subdomain === subdomain && job.webhookId === webhookId) this.#scheduled.splice(index, 1);
    }
    this.#notify();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe();
    clearTimeout(this.#timer);
    this.#scheduled.length = 0;
    this.#ready.clear();
    this.#held.clear();
    for (const controller of this.#inFlight) controller.abort();
    await Promise.allSettled([...this.#workers.values()]);
    this.#notify();
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#stopped || this.#scheduled.length === 0) return;
    const waitSimMs = this.#scheduled[0].dueAt - this.deps.clock.nowMs();
    const waitRealMs = Math.min(Math.max(0, waitSimMs / this.deps.timeScale), 2 ** 31 - 1);
    this.#timer = setTimeout(() => this.#fire(), waitRealMs);
  }

  /** The earliest scheduled job is due: jump the sim clock to it and release everything due by then. */
  #fire(): void {
    this.#timer = undefined;
    if (this.#stopped || this.#scheduled.length === 0) return;
    // Accelerated time only jumps while no delivery is in flight, so a run is the same however slow
    // the receivers are. At timeScale 1 the jump is only timer jitter.
    if (this.deps.timeScale !== 1 && this.#workers.size > 0) {
      this.#fireWhenIdle = true;
      return;
    }
    this.deps.clock.advanceTo(this.#scheduled[0].dueAt);
    const now = this.deps.clock.nowMs();
    while (this.#scheduled.length > 0 && this.#scheduled[0].dueAt <= now) {
      this.#makeReady(this.#scheduled.shift()!);
    }
    this.#arm();
    this.#notify();
  }

  #makeReady(job: QueuedJob): void {
    const key = `${job.subdomain}#${job.webhookId}`;
    let queue = this.#ready.get(key);
    if (!queue) this.#ready.set(key, queue = []);
    queue.push(job);
    const held = this.#held.get(key);
    if (held && held !== job) {
      this.#held.delete(key);
      queue.push(held);
    }
    this.#kick(key);
  }

  #kick(key: string): void {
    if (this.#workers.has(key) || this.#stopped) return;
    const worker = this.#work(key).finally(() => {
      this.#workers.delete(key);
      // A job may have become ready between the loop's last check and this cleanup.
      if (this.#ready.get(key)?.length) this.#kick(key);
      if (this.#workers.size === 0 && this.#fireWhenIdle) {
        this.#fireWhenIdle = false;
        this.#fire();
      }
      this.#notify();
    });
    this.#workers.set(key, worker);
  }

  async #work(key: string): Promise<void> {
    // Start on a fresh task so enqueue() stays synchronous for callers that batch several changes.
    await Promise.resolve();
    while (!this.#stopped) {
      const queue = this.#ready.get(key);
      const job = queue?.shift();
      if (!queue || !job) break;
      if (queue.length === 0) this.#ready.delete(key);
      if (job.holdForReorder && this.#releaseHeld === 0) {
        job.holdForReorder = false;
        if (queue.length > 0) queue.splice(1, 0, job);
        else this.#held.set(key, job);
        continue;
      }
      await this.#deliver(job);
      this.#notify();
    }
  }

  async #deliver(job: QueuedJob): Promise<void> {
    const found = this.deps.findWebhook(job.subdomain, job.webhookId);
    if (!found || found.webhook.disabled || found.webhook.destination !== job.destination) return;
    const controller = new AbortController();
    this.#inFlight.add(controller);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.deps.timeoutMs);
    let status = 0;
    let error: string | undefined;
    try {
      const response = await fetch(job.destination, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "user-agent": WEBHOOK_USER_AGENT },
        body: job.body,
        redirect: "manual",
        signal: controller.signal,
      });
      status = response.status;
      await response.body?.cancel();
    } catch (caught) {
      error = timedOut ? "timeout" : caught instanceof Error ? caught.message : String(caught);
      status = 0;
    } finally {
      clearTimeout(timer);
      this.#inFlight.delete(controller);
    }
    if (this.#stopped) return;
    const ok = status !== 0 && isSuccess(status) && !timedOut;
    const now = this.deps.clock.nowMs();
    this.deps.onAttempt(job.subdomain, {
      time: now,
      webhookId: job.webhookId,
      destination: job.destination,
      attempt: job.attempt,
      status,
      ok,
      ...(error ? { error } : {}),
    });
    if (found.registry.recordAnswer(found.webhook, ok, now)) {
      this.cancel(job.subdomain, job.webhookId);
      return;
    }
    if (ok) return;
    const delay = retryDelayMs(job.attempt, status);
    if (delay !== null) {
      this.enqueue({ ...job, attempt: job.attempt + 1, dueAt: now + delay, holdForReorder: false });
    }
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}
