// The load shapes the intake benchmarks drive: a closed loop (`concurrency` senders, each sending as soon as its
// last answer came) or an open loop at a fixed `rate` (each request at its scheduled time, so a stall counts
// against every request it delays). `send(scheduledAt)` performs one request; the promise ends with the load.

export interface LoadShape {
  mode: "closed" | "open";
  durationS: number;
  concurrency: number;
  rate: number;
}

/** Runs the load; resolves, when the last request has answered, with the time (performance.now) it began. */
export async function runLoad(
  shape: LoadShape,
  send: (scheduledAt: number) => Promise<void>,
): Promise<number> {
  const started = performance.now();
  const endAt = started + shape.durationS * 1000;
  if (shape.mode === "closed") {
    await Promise.all(Array.from({ length: shape.concurrency }, async () => {
      while (performance.now() < endAt) await send(performance.now());
    }));
  } else {
    const inFlight = new Set<Promise<void>>();
    for (let i = 0;; i++) {
      const due = started + (i * 1000) / shape.rate;
      if (due >= endAt) break;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const p = send(due).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await Promise.all(inFlight);
  }
  return started;
}
