/**
 * Runs the simulator as its own process:
 *   deno run -A local/amocrm-simulator/main.ts --port 54330 [--seed N] [--time-scale X] [--rate-limit 7]
 *     [--clock-days-ago D]   (sim time starts D days in the past: room for compressed scenarios)
 * Drive it through the JSON control API under /_sim (see README.md).
 */
import { startSimulator } from "./simulator.ts";

function flag(name: string): string | undefined {
  const index = Deno.args.indexOf(`--${name}`);
  if (index !== -1) return Deno.args[index + 1];
  const inline = Deno.args.find((arg) => arg.startsWith(`--${name}=`));
  return inline?.slice(name.length + 3);
}

function numberFlag(name: string): number | undefined {
  const raw = flag(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`--${name} must be a number, got ${raw}`);
  return value;
}

const sim = await startSimulator({
  port: numberFlag("port") ?? 54330,
  seed: numberFlag("seed"),
  timeScale: numberFlag("time-scale"),
  rateLimitPerSecond: numberFlag("rate-limit"),
  clockStartMs: numberFlag("clock-days-ago") === undefined
    ? undefined
    : Date.now() - numberFlag("clock-days-ago")! * 86_400_000,
});
console.log(`amoCRM simulator listening on ${sim.url} (seed ${sim.seed}, timeScale ${sim.timeScale})`);
console.log(`control API: ${sim.url}/_sim/health · account base URL: ${sim.url}/<subdomain>`);

const shutdown = async () => {
  await sim.stop();
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", shutdown);
Deno.addSignalListener("SIGTERM", shutdown);
