// One Deno process per function, like the edge runtime's isolated workers: each runs the function's own
// index.ts (`Deno.serve(handler)`) with DENO_SERVE_ADDRESS pointing it at a private loopback port.
import type { FunctionSpec } from "./config.ts";

interface Worker {
  spec: FunctionSpec;
  port: number;
  process: Deno.ChildProcess;
  ready: Promise<void>;
  exited: boolean;
}

export class WorkerPool {
  #workers = new Map<string, Worker>();
  #nextPort: number;

  constructor(
    private specs: FunctionSpec[],
    private env: Record<string, string>,
    private denoPath: string,
    firstPort: number,
  ) {
    this.#nextPort = firstPort;
  }

  get names(): string[] {
    return this.specs.map((s) => s.name);
  }

  spec(name: string): FunctionSpec | undefined {
    return this.specs.find((s) => s.name === name);
  }

  /** Start every function now so a broken one shows up at startup, not at its first request. */
  async startAll(): Promise<void> {
    await Promise.all(this.specs.map((s) => this.#ensure(s).ready));
  }

  /** The loopback origin of a running worker for the function, (re)starting it if needed. */
  async origin(name: string): Promise<string | undefined> {
    const spec = this.spec(name);
    if (!spec) return undefined;
    const worker = this.#ensure(spec);
    await worker.ready;
    return `http://127.0.0.1:${worker.port}`;
  }

  async stopAll(): Promise<void> {
    for (const worker of this.#workers.values()) {
      if (!worker.exited) {
        try {
          worker.process.kill("SIGTERM");
        } catch { /* already gone */ }
      }
    }
    await Promise.allSettled([...this.#workers.values()].map((w) => w.process.status));
  }

  #ensure(spec: FunctionSpec): Worker {
    const existing = this.#workers.get(spec.name);
    if (existing && !existing.exited) return existing;
    const port = this.#nextPort++;
    const process = new Deno.Command(this.denoPath, {
      args: ["run", "--allow-all", "--no-prompt", spec.entrypoint],
      env: { ...this.env, DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`, SB_FUNCTION_NAME: spec.name },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const worker: Worker = { spec, port, process, exited: false, ready: Promise.resolve() };
    worker.ready = waitForPort(port, process);
    prefixLines(process.stdout, spec.name, Deno.stdout);
    prefixLines(process.stderr, spec.name, Deno.stderr);
    process.status.then((status) => {
      worker.exited = true;
      console.error(`[host] function ${spec.name} exited with code ${status.code}; restarts on next request`);
    });
    this.#workers.set(spec.name, worker);
    return worker;
  }
}

async function waitForPort(port: number, process: Deno.ChildProcess): Promise<void> {
  let exited = false;
  process.status.then(() => (exited = true));
  for (let i = 0; i < 300; i++) {
    if (exited) throw new Error(`worker on port ${port} exited before listening`);
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`worker on port ${port} did not listen within 30 s`);
}

async function prefixLines(stream: ReadableStream<Uint8Array>, name: string, out: typeof Deno.stdout) {
  const encoder = new TextEncoder();
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) await out.write(encoder.encode(`[${name}] ${line}\n`));
  }
  if (buffered) await out.write(encoder.encode(`[${name}] ${buffered}\n`));
}
