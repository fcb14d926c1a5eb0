// Performs the requests the pg_net stand-in queues (net.http_request_queue) and records each answer in
// net._http_response, as pg_net's background worker does on Supabase. Woken by NOTIFY, polls as a backstop.
import postgres from "postgres";

interface QueuedRequest {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: Uint8Array<ArrayBuffer> | null;
  timeout_milliseconds: number;
}

export function startPgNetWorker(dbUrl: string, log: (msg: string) => void): { stop(): Promise<void> } {
  const sql = postgres(dbUrl, { max: 4, prepare: false, onnotice: () => {} });
  let stopped = false;
  let draining: Promise<void> | null = null;

  const drain = () => {
    if (draining || stopped) return;
    draining = (async () => {
      try {
        while (!stopped) {
          // Take a batch off the queue; a crash after this loses the requests, exactly like pg_net.
          const batch = await sql<QueuedRequest[]>`
            delete from net.http_request_queue
            where id in (select id from net.http_request_queue order by id limit 20 for update skip locked)
            returning id, method, url, headers, body, timeout_milliseconds`;
          if (batch.length === 0) break;
          await Promise.all(batch.map((r) => perform(sql, r, log)));
        }
      } catch (error) {
        if (!stopped) log(`[pg_net] drain failed: ${error instanceof Error ? error.message : error}`);
      } finally {
        draining = null;
      }
    })();
  };

  const listening = sql.listen("net_http_request", () => drain()).catch((error) => {
    log(`[pg_net] listen failed (${error.message}); polling only`);
  });
  const timer = setInterval(drain, 1000);
  drain();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await listening;
      await draining;
      await sql.end({ timeout: 2 });
    },
  };
}

async function perform(sql: postgres.Sql, request: QueuedRequest, log: (msg: string) => void): Promise<void> {
  const started = performance.now();
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body ? new Uint8Array(request.body) : undefined,
      signal: AbortSignal.timeout(request.timeout_milliseconds),
    });
    const content = await response.text();
    await sql`
      insert into net._http_response (id, status_code, content_type, headers, content, timed_out)
      values (${request.id}, ${response.status}, ${response.headers.get("content-type")},
              ${sql.json(Object.fromEntries(response.headers))}, ${content}, false)`;
    log(
      `[pg_net] ${request.method} ${request.url} → ${response.status} in ${
        Math.round(performance.now() - started)
      } ms`,
    );
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === "TimeoutError";
    const message = error instanceof Error ? error.message : String(error);
    await sql`
      insert into net._http_response (id, timed_out, error_msg)
      values (${request.id}, ${timedOut}, ${message})`;
    log(`[pg_net] ${request.method} ${request.url} failed: ${message}`);
  }
}
