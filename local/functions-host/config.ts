// What the host needs from supabase/config.toml and supabase/functions/: the functions and their verify_jwt.
import { parse } from "smol-toml";

export interface FunctionSpec {
  name: string;
  entrypoint: string;
  verifyJwt: boolean;
}

/** Every folder of supabase/functions with an index.ts is a function; `_shared` and friends are not. */
export async function discoverFunctions(supabaseDir: string): Promise<FunctionSpec[]> {
  const config = parse(await Deno.readTextFile(`${supabaseDir}/config.toml`)) as {
    functions?: Record<string, { verify_jwt?: boolean }>;
  };
  const specs: FunctionSpec[] = [];
  for await (const entry of Deno.readDir(`${supabaseDir}/functions`)) {
    if (!entry.isDirectory || entry.name.startsWith("_") || entry.name.startsWith(".")) continue;
    const entrypoint = `${supabaseDir}/functions/${entry.name}/index.ts`;
    try {
      await Deno.stat(entrypoint);
    } catch {
      continue;
    }
    // Supabase's default is verify_jwt = true unless config.toml says otherwise.
    const verifyJwt = config.functions?.[entry.name]?.verify_jwt ?? true;
    specs.push({ name: entry.name, entrypoint, verifyJwt });
  }
  return specs.sort((a, b) => a.name.localeCompare(b.name));
}

/** Parse a dotenv file (KEY=value lines, # comments, optional quotes). Missing file → {}. */
export async function readDotEnv(path: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return {};
  }
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = line.match(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/);
    if (!match) continue;
    env[match[1]] = match[2].replace(/^(['"])(.*)\1$/, "$2");
  }
  return env;
}
