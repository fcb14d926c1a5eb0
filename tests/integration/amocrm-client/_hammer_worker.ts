// A second OS process for the shared rate-limit test: hammers one connection with concurrent calls and prints
// a JSON summary. Usage: deno run -A _hammer_worker.ts <connectionId> <calls> <concurrency> [startAtEpochMs]
// (DATABASE_URL set). startAt lets the parent line both processes up on the same instant.
import postgres from "postgres";
import { AmoCrmClient } from "../../../supabase/functions/_shared/amocrm/mod.ts";

const [connectionId, callsArg, concurrencyArg, startAtArg] = Deno.args;
const calls = Number(callsArg);
const concurrency = Number(concurrencyArg);
const sql = postgres(Deno.env.get("DATABASE_URL")!, {
  prepare: false,
  max: concurrency + 2,
  onnotice: () => {},
});
const client = new AmoCrmClient({ connectionId, deps: { sql, log: () => {} } });

const startAt = Number(startAtArg ?? 0);
if (startAt > Date.now()) await new Promise((resolve) => setTimeout(resolve, startAt - Date.now()));

let next = 0;
let ok = 0;
const errors: string[] = [];
async function worker() {
  while (next < calls) {
    next++;
    try {
      await client.getPipelines();
      ok++;
    } catch (error) {
      errors.push(String(error));
    }
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
await sql.end();
console.log(JSON.stringify({ ok, errors }));
