import type { Random } from "./random.ts";

/**
 * A fault lets `after` opportunities pass untouched, fires for the next `next` ones, then with probability
 * `rate` (seeded, so reproducible). `after` picks one POST of several, e.g. the update of a split stage move.
 */
export interface FaultRule {
  rate?: number;
  next?: number;
  after?: number;
}

export interface FaultKnobs {
  /** The webhook POST is never sent. */
  webhookDrop?: FaultRule;
  /** The webhook POST is sent twice. */
  webhookDuplicate?: FaultRule;
  /** The webhook POST is held back and sent after the next one to the same destination. */
  webhookReorder?: FaultRule;
  /** The webhook POST is sent `delaySeconds` (sim time) late. */
  webhookDelay?: FaultRule & { delaySeconds?: number };
  /** The API answers with `status` (default 500; 502/503/504 get nginx HTML bodies). */
  apiServerError?: FaultRule & { status?: number };
  /** The API never answers (until the client gives up or `hangMs` passes, then 504). */
  apiHang?: FaultRule & { hangMs?: number };
  /** The API answers normally after `delayMs` (real ms). */
  apiSlow?: FaultRule & { delayMs?: number };
  /** The token endpoint performs the refresh/exchange but the answer is lost (504): the classic burned refresh token. */
  oauthLoseResponse?: FaultRule;
}

export type FaultName = keyof FaultKnobs;

/** Per-account fault switchboard. */
export class FaultInjector {
  #knobs: FaultKnobs = {};

  constructor(private readonly random: Random) {}

  /** Replaces all knobs (pass {} to clear). Counters of `next` start over. */
  set(knobs: FaultKnobs): FaultKnobs {
    this.#knobs = structuredClone(knobs);
    return this.get();
  }

  get(): FaultKnobs {
    return structuredClone(this.#knobs);
  }

  /** Decides whether the fault fires for this opportunity; returns the rule when it does. */
  roll<N extends FaultName>(name: N): FaultKnobs[N] | null {
    const rule = this.#knobs[name];
    if (!rule) return null;
    if (rule.after !== undefined && rule.after > 0) {
      rule.after--;
      return null;
    }
    if (rule.next !== undefined && rule.next > 0) {
      rule.next--;
      return rule;
    }
    if (rule.rate !== undefined && rule.rate > 0 && this.random.next() < rule.rate) return rule;
    return null;
  }
}
