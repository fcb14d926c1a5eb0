// A throwaway database for benchmark data, on the same server as DATABASE_URL, with every migration applied
// exactly as on a real project (Supabase CLI `migration up`).
//
// Why the database is called contrib_regression: the first migration runs `create extension pg_cron`, and
// pg_cron only allows that in the database named by cron.database_name (a server setting: `postgres` here) or in
// one named contrib_regression (its own test database). Using that name lets every migration apply unchanged;
// as a bonus the cron jobs the migrations schedule never run there (the pg_cron worker only reads `postgres`),
// so nothing in the background disturbs the timings. The dev database itself is never written.
import postgres from "postgres";

export const BENCH_DB_NAME = "contrib_regression";

const ROOT = new URL("../../", import.meta.url).pathname;

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function benchDatabaseExists(adminUrl: string): Promise<boolean> {
  const admin = postgres(adminUrl, { max: 1, prepare: false, onnotice: () => {} });
  try {
    const rows = await admin`select 1 from pg_database where datname = ${BENCH_DB_NAME}`;
    return rows.length > 0;
  } finally {
    await admin.end();
  }
}

export async function dropBenchDatabase(adminUrl: string): Promise<void> {
  const admin = postgres(adminUrl, { max: 1, prepare: false, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists ${BENCH_DB_NAME} with (force)`);
  } finally {
    await admin.end();
  }
}

/** Fresh database: platform stand-ins (roles, auth, vault, pg_net) then every migration. */
export async function createBenchDatabase(adminUrl: string, log: (msg: string) => void): Promise<string> {
  await dropBenchDatabase(adminUrl);
  const admin = postgres(adminUrl, { max: 1, prepare: false, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${BENCH_DB_NAME}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, BENCH_DB_NAME);

  log("bootstrap: local/platform/bootstrap.sql");
  const db = postgres(url, { max: 1, prepare: false, onnotice: () => {} });
  try {
    await db.unsafe(await Deno.readTextFile(`${ROOT}local/platform/bootstrap.sql`));
  } finally {
    await db.end();
  }

  log("migrations: supabase migration up --include-all");
  const out = await new Deno.Command(`${ROOT}toolchain/node_modules/.bin/supabase`, {
    args: ["migration", "up", `--remote=${url}`, "--include-all", "--yes"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    throw new Error(`supabase migration up failed:\n${text}`);
  }
  return url;
}
