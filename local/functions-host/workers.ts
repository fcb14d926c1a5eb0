// One Deno process per function, like the edge runtime's isolated workers: each runs the function's own
// index.ts (`Deno.serve(handler)`) with DENO_SERVE_ADDRESS set to loopback port 0, so the OS picks a free
// port (a fixed range would collide with outgoing connections' ephemeral ports); Deno prints which one.
import type { FunctionSpec } from "./config.ts";

interface Worker {
  spec: FunctionSpec;
  process: Deno.ChildProcess;
  /** Resolves to the loopback port once the function printed "Listening on …". */
  port: Promise<number>;
  exited: boolean;
}

export class WorkerPool {
  #workers = new Map<string, Worker>();

  constructor(
    private specs: FunctionSpec[],
    private env: Record<string, string>,
    private denoPath: string,
  ) {}

  get names(): string[] {
    return this.specs.map((s) => s.name);
  }

  spec(name: string): FunctionSpec | undefined {
    return this.specs.find((s) => s.name === name);
  }

  /** Start every function now so a broken one shows up at startup, not at its first request. */
  async startAll(): Promise<void> {
    await Promise.all(this.specs.map((s) => this.#ensure(s).port));
  }

  /** The loopback origin of a running worker for the function, (re)starting it if needed. */
  async origin(name: string): Promise<string | undefined> {
    const spec = this.spec(name);
    if (!spec) return undefined;
    return `http://127.0.0.1:${await this.#ensure(spec).port}`;
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
    const process = new Deno.Command(this.denoPath, {
      args: ["run", "--allow-all", "--no-prompt", spec.entrypoint],
      env: { ...this.env, DENO_SERVE_ADDRESS: "tcp:127.0.0.1:0", SB_FUNCTION_NAME: spec.name },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let announce: (port: number) => void = () => {};
    const port = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`function ${spec.name} did not listen within 30 s`)),
        30_000,
      );
      announce = (p) => {
        clearTimeout(timer);
        resolve(p);
      };
      process.status.then(() => {
        clearTimeout(timer);
        reject(new Error(`function ${spec.name} exited before listening`));
      });
    });
    port.catch(() => {});
    const worker: Worker = { spec, process, port, exited: false };
    const watchForPort = (line: string) => {
      const listening = line.match(/Listening on https?:\/\/[^/]+:(\d+)\//);
      if (listening) announce(Number(listening[1]));
    };
    prefixLines(process.stdout, spec.name, Deno.stdout, watchForPort);
    prefixLines(process.stderr, spec.name, Deno.stderr, watchForPort);
    process.status.then((status) => {
      worker.exited = true;
      console.error(`[host] function ${spec.name} exited with code ${status.code}; restarts on next request`);
    });
    this.#workers.set(spec.name, worker);
    return worker;
  }
}

async function prefixLines(
  stream: ReadableStream<Uint8Array>,
  name: string,
  out: typeof Deno.stdout,
  onLine: (line: string) => void = () => {},
) {
  const encoder = new TextEncoder();
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      onLine(line);
      await out.write(encoder.encode(`[${name}] ${line}\n`));
    }
  }
  if (buffered) await out.write(encoder.encode(`[${name}] ${buffered}\n`));
}
