import { SlidingWindow } from "./sliding_window.ts";

export interface RequestRecord {
  /** Sim time, ms. */
  time: number;
  method: string;
  /** Path below the account prefix, with the query string (e.g. "/api/v4/leads?page=2"). */
  path: string;
  status: number;
  clientId: string | null;
}

export interface DeliveryRecord {
  /** Sim time, ms. */
  time: number;
  webhookId: number;
  destination: string;
  /** 0 = first attempt, 1.. = retries. */
  attempt: number;
  /** HTTP status, or 0 for a timeout / connection failure. */
  status: number;
  ok: boolean;
  error?: string;
}

export interface AccountStatsSnapshot {
  subdomain: string;
  requests: RequestRecord[];
  totalRequests: number;
  tooManyRequests: number;
  forbiddenWhileBlocked: number;
  refreshes: number;
  revokedTokenReuses: number;
  blocked: boolean;
  blockedAt: number | null;
  /** Max requests that arrived within any 1-second window (wall clock), all integrations together. */
  maxRequestsPerSecond: number;
  maxRequestsPerSecondByIntegration: Record<string, number>;
  injectedFaults: number;
  webhookDeliveries: DeliveryRecord[];
  webhooksDropped: number;
}

const MAX_RECORDS = 200_000;

/** Everything the simulator observed for one account: what tests and benchmarks assert on. */
export class AccountStats {
  requests: RequestRecord[] = [];
  totalRequests = 0;
  tooManyRequests = 0;
  forbiddenWhileBlocked = 0;
  refreshes = 0;
  revokedTokenReuses = 0;
  blocked = false;
  blockedAt: number | null = null;
  maxRequestsPerSecond = 0;
  injectedFaults = 0;
  webhookDeliveries: DeliveryRecord[] = [];
  webhooksDropped = 0;
  #arrivals = new SlidingWindow(1000);
  #integrationArrivals = new Map<string, SlidingWindow>();
  #maxByIntegration: Record<string, number> = {};
  #violations: SlidingWindow;

  constructor(readonly subdomain: string, violationWindowMs: number) {
    this.#violations = new SlidingWindow(violationWindowMs);
  }

  arrival(wallMs: number, clientId: string | null): void {
    this.maxRequestsPerSecond = Math.max(this.maxRequestsPerSecond, this.#arrivals.add(wallMs));
    if (clientId === null) return;
    let window = this.#integrationArrivals.get(clientId);
    if (!window) this.#integrationArrivals.set(clientId, window = new SlidingWindow(1000));
    this.#maxByIntegration[clientId] = Math.max(this.#maxByIntegration[clientId] ?? 0, window.add(wallMs));
  }

  /** Counts a 429 and returns how many happened within the violation window. */
  violation(wallMs: number): number {
    this.tooManyRequests++;
    return this.#violations.add(wallMs);
  }

  unblock(): void {
    this.blocked = false;
    this.blockedAt = null;
    this.#violations.clear();
  }

  request(record: RequestRecord): void {
    this.totalRequests++;
    if (this.requests.length < MAX_RECORDS) this.requests.push(record);
  }

  delivery(record: DeliveryRecord): void {
    if (this.webhookDeliveries.length < MAX_RECORDS) this.webhookDeliveries.push(record);
  }

  snapshot(): AccountStatsSnapshot {
    return {
      subdomain: this.subdomain,
      requests: [...this.requests],
      totalRequests: this.totalRequests,
      tooManyRequests: this.tooManyRequests,
      forbiddenWhileBlocked: this.forbiddenWhileBlocked,
      refreshes: this.refreshes,
      revokedTokenReuses: this.revokedTokenReuses,
      blocked: this.blocked,
      blockedAt: this.blockedAt,
      maxRequestsPerSecond: this.maxRequestsPerSecond,
      maxRequestsPerSecondByIntegration: { ...this.#maxByIntegration },
      injectedFaults: this.injectedFaults,
      webhookDeliveries: [...this.webhookDeliveries],
      webhooksDropped: this.webhooksDropped,
    };
  }
}
