// Bulk traffic from another account while the freshness bench measures: update_lead POSTs of many events
// (new deals every time, so none is deduplicated away), either at a steady event rate (open loop: each POST at
// its scheduled time) or, with rate 0, as fast as `senders` connections get answers (closed loop).
import {
  type ChangeRecord,
  formBody,
  leadEntity,
  postWebhook,
  type WebhookAccount,
} from "./lead_webhooks.ts";

export interface BulkLoadPlan {
  url: string;
  account: WebhookAccount;
  eventsPerPost: number;
  /** Events per second; 0 = closed loop. */
  eventsPerSecond: number;
  senders: number;
}

export interface BulkLoadResult {
  posts: number;
  events: number;
  seconds: number;
  statuses: Record<string, number>;
}

export function startBulkLoad(plan: BulkLoadPlan): { stop(): Promise<BulkLoadResult> } {
  let running = true;
  let nextId = 90_000_000;
  const result: BulkLoadResult = { posts: 0, events: 0, seconds: 0, statuses: {} };
  const started = performance.now();
  const body = () => {
    const ts = Math.floor(Date.now() / 1000);
    const changes: ChangeRecord[] = Array.from({ length: plan.eventsPerPost }, () => ({
      group: "leads" as const,
      action: "update" as const,
      entity: leadEntity(plan.account, {
        id: nextId++,
        status: 101,
        pipeline: 1,
        created: ts - 60,
        updated: ts,
      }),
    }));
    return formBody(plan.account, changes);
  };
  const send = async () => {
    const status = await postWebhook(plan.url, body());
    result.statuses[status] = (result.statuses[status] ?? 0) + 1;
    result.posts++;
    result.events += plan.eventsPerPost;
  };

  const loops: Promise<void>[] = [];
  if (plan.eventsPerSecond > 0) {
    const intervalMs = (1000 * plan.eventsPerPost) / plan.eventsPerSecond;
    loops.push((async () => {
      const inFlight = new Set<Promise<void>>();
      for (let i = 0; running; i++) {
        const wait = started + i * intervalMs - performance.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
        if (!running) break;
        const p = send().finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
      await Promise.all(inFlight);
    })());
  } else {
    for (let s = 0; s < plan.senders; s++) {
      loops.push((async () => {
        while (running) await send();
      })());
    }
  }
  return {
    async stop() {
      running = false;
      result.seconds = (performance.now() - started) / 1000;
      await Promise.all(loops);
      return result;
    },
  };
}
