// Retry timing: exponential backoff with "full jitter" (a random delay between 0 and the exponential ceiling),
// so that many instances retrying after the same 429/5xx do not come back in lockstep.

export interface RetryPolicy {
  /** Total attempts including the first one. */
  maxAttempts: number;
  /** Ceiling of the first retry's delay. */
  baseDelayMs: number;
  /** Upper bound for any single delay. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 7, baseDelayMs: 300, maxDelayMs: 10_000 };

/** Delay before retry number `retry` (0 = first retry): uniform in [0, min(max, base·2^retry)). */
export function fullJitterDelayMs(retry: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry));
  return Math.floor(random() * ceiling);
}

/** HTTP statuses worth retrying: rate limited, and server-side failures (500, 502, 503, 504 …). */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}
