// Local stand-in for Supabase's API gateway + edge runtime: serves supabase/functions/<name> at
// /functions/v1/<name>, enforcing verify_jwt from config.toml, with the env vars Supabase gives functions.
// Also runs the pg_net stand-in's worker so pg_cron jobs really call functions. Local only, never deployed.
// Usage: deno run -A local/functions-host/main.ts --port 54321 --db-url postgresql://…
import { parseArgs } from "node:util";
import { discoverFunctions, readDotEnv } from "./config.ts";
import { signRoleKey, verifyBearer } from "./keys.ts";
import { startPgNetWorker } from "./pg-net-worker.ts";
import { WorkerPool } from "./workers.ts";

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: "54321" },
    "db-url": { type: "string", default: "postgresql://postgres:postgres@127.0.0.1:54322/postgres" },
    "state-dir": { type: "string" },
    // The project's function secrets; `supabase secrets set --env-file` takes the same file on deploy.
    "env-file": { type: "string" },
  },
});
const port = Number(args.port);
const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const supabaseDir = `${root}/supabase`;
const jwtSecret = Deno.env.get("JWT_SECRET") ?? "super-secret-jwt-token-with-at-least-32-characters-long";
const apiUrl = `http://127.0.0.1:${port}`;

const anonKey = await signRoleKey(jwtSecret, "anon");
const serviceRoleKey = await signRoleKey(jwtSecret, "service_role");
if (args["state-dir"]) {
  await Deno.writeTextFile(`${args["state-dir"]}/anon.key`, anonKey);
  await Deno.writeTextFile(`${args["state-dir"]}/service_role.key`, serviceRoleKey);
}

// What a deployed function sees: the platform's variables plus the project's secrets (an env file).
const functionEnv: Record<string, string> = {
  ...(await readDotEnv(args["env-file"] ?? `${supabaseDir}/functions/.env`)),
  SUPABASE_URL: apiUrl,
  SUPABASE_DB_URL: args["db-url"]!,
  SUPABASE_ANON_KEY: anonKey,
  SUPABASE_SERVICE_ROLE_KEY: serviceRoleKey,
  PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
  HOME: Deno.env.get("HOME") ?? "/tmp",
  DENO_DIR: Deno.env.get("DENO_DIR") ?? "",
};
if (!functionEnv.DENO_DIR) delete functionEnv.DENO_DIR;

const specs = await discoverFunctions(supabaseDir);
const pool = new WorkerPool(specs, functionEnv, Deno.execPath());
await pool.startAll();

const WALL_CLOCK_LIMIT_MS = 150_000;

async function handle(req: Request): Promise<Response> {
  const url = new URL(req.url);
  const match = url.pathname.match(/^\/functions\/v1\/([^/]+)(\/.*)?$/);
  if (!match) return Response.json({ message: "not found", functions: pool.names }, { status: 404 });
  const [, name, rest = ""] = match;
  const spec = pool.spec(name);
  if (!spec) {
    return Response.json({ code: "NOT_FOUND", message: `function ${name} not found` }, { status: 404 });
  }
  if (spec.verifyJwt && !(await verifyBearer(jwtSecret, req.headers.get("authorization")))) {
    return Response.json({ code: 401, message: "Invalid JWT" }, { status: 401 });
  }
  try {
    const origin = await pool.origin(name);
    const response = await fetch(`${origin}/${name}${rest}${url.search}`, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      redirect: "manual",
      signal: AbortSignal.timeout(WALL_CLOCK_LIMIT_MS),
    });
    return new Response(response.body, { status: response.status, headers: response.headers });
  } catch (error) {
    console.error(`[host] ${name}: ${error instanceof Error ? error.message : error}`);
    return Response.json({ code: "BOOT_ERROR", message: `function ${name} failed` }, { status: 503 });
  }
}

const pgNet = startPgNetWorker(args["db-url"]!, (msg) => console.log(msg));
const server = Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, handle);
console.log(`[host] serving ${specs.map((s) => s.name).join(", ")} at ${apiUrl}/functions/v1/<name>`);

const shutdown = async () => {
  await server.shutdown();
  await pgNet.stop();
  await pool.stopAll();
  Deno.exit(0);
};
Deno.addSignalListener("SIGTERM", shutdown);
Deno.addSignalListener("SIGINT", shutdown);
