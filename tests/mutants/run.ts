// The mutants check (see catalog.ts): for each mutant, read the current definition of its object from the
// database catalog, apply the textual fault, run the tests it names, expect at least one failure, and
// restore the original definition (verified by reading it back). Prints a table and `N caught, N survived`.
// Run it through `npm run mutants` (scripts/mutants.sh), which builds the throwaway database first.
// Usage: deno run -A tests/mutants/run.ts --db-url <url> --tests-dir <supabase/tests/database> [--only id,id]
import postgres from "postgres";
import { type Mutant, mutants, type Target } from "./catalog.ts";

type Sql = postgres.Sql;

interface Options {
  dbUrl: string;
  testsDir: string;
  only: Set<string> | null;
  marker: string | null;
}

type Outcome = "caught" | "survived" | "stale" | "error";

interface Row {
  mutant: Mutant;
  outcome: Outcome;
  evidence: string;
  seconds: number;
}

function parseArgs(args: string[]): Options {
  const value = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const dbUrl = value("--db-url") ?? Deno.env.get("DATABASE_URL");
  const testsDir = value("--tests-dir") ?? new URL("../../supabase/tests/database", import.meta.url).pathname;
  if (!dbUrl) throw new Error("--db-url (or DATABASE_URL) is required");
  const only = value("--only");
  return {
    dbUrl,
    testsDir,
    only: only ? new Set(only.split(",").map((s) => s.trim()).filter(Boolean)) : null,
    marker: Deno.env.get("MUTANT_MARKER") ?? null,
  };
}

export function describeTarget(target: Target): string {
  switch (target.kind) {
    case "function":
      return `function ${target.signature}`;
    case "policy":
      return `policy "${target.name}" on ${target.table}`;
    case "trigger":
      return `trigger ${target.name} on ${target.table}`;
    case "view":
      return `view ${target.name}`;
  }
}

// The definition as Postgres renders it now; the connection's search_path is empty, so every name in it is
// schema-qualified and the text does not depend on who runs the check. Null when the object does not exist.
async function definitionOf(sql: Sql, target: Target): Promise<string | null> {
  switch (target.kind) {
    case "function": {
      const rows = await sql`
        select pg_get_functiondef(p.oid) as def from pg_proc p
        where p.oid = to_regprocedure(${target.signature})`;
      return rows[0]?.def ?? null;
    }
    case "policy": {
      const rows = await sql`
        select format('create policy %I on %s as %s for %s to %s', p.policyname, ${target.table}::regclass,
            p.permissive, p.cmd, array_to_string(array(select quote_ident(r) from unnest(p.roles) r), ', '))
          || coalesce(E'\n  using (' || p.qual || ')', '')
          || coalesce(E'\n  with check (' || p.with_check || ')', '') as def
        from pg_policies p
        join pg_class c on c.relname = p.tablename
        join pg_namespace n on n.oid = c.relnamespace and n.nspname = p.schemaname
        where c.oid = to_regclass(${target.table}) and p.policyname = ${target.name}`;
      return rows[0]?.def ?? null;
    }
    case "trigger": {
      const rows = await sql`
        select pg_get_triggerdef(t.oid) as def from pg_trigger t
        where t.tgrelid = to_regclass(${target.table}) and t.tgname = ${target.name} and not t.tgisinternal`;
      return rows[0]?.def ?? null;
    }
    case "view": {
      const rows = await sql`
        select format('create or replace view %s%s as ', c.oid::regclass,
            case when c.reloptions is null then '' else ' with (' || array_to_string(c.reloptions, ', ') || ')' end)
          || pg_get_viewdef(c.oid) as def
        from pg_class c where c.oid = to_regclass(${target.name}) and c.relkind = 'v'`;
      return rows[0]?.def ?? null;
    }
  }
}

// Puts a definition in place. Functions and views are replaced in place (comments and grants stay); a policy
// or trigger is dropped and created again in one transaction (its comment is carried over).
async function install(sql: Sql, target: Target, definition: string): Promise<void> {
  switch (target.kind) {
    case "function":
    case "view":
      await sql.unsafe(definition);
      return;
    case "policy":
      await sql.begin(async (tx) => {
        const [{ comment }] = await tx`
          select obj_description(p.oid, 'pg_policy') as comment from pg_policy p
          where p.polrelid = to_regclass(${target.table}) and p.polname = ${target.name}`;
        await tx.unsafe(`drop policy ${quoteIdent(target.name)} on ${target.table}`);
        await tx.unsafe(definition);
        if (comment !== null) {
          await tx.unsafe(
            `comment on policy ${quoteIdent(target.name)} on ${target.table} is ${quoteLiteral(comment)}`,
          );
        }
      });
      return;
    case "trigger":
      await sql.begin(async (tx) => {
        const [{ comment }] = await tx`
          select obj_description(t.oid, 'pg_trigger') as comment from pg_trigger t
          where t.tgrelid = to_regclass(${target.table}) and t.tgname = ${target.name}`;
        await tx.unsafe(`drop trigger ${quoteIdent(target.name)} on ${target.table}`);
        await tx.unsafe(definition);
        if (comment !== null) {
          await tx.unsafe(
            `comment on trigger ${quoteIdent(target.name)} on ${target.table} is ${quoteLiteral(comment)}`,
          );
        }
      });
      return;
  }
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function occurrences(text: string, find: string): number {
  if (find === "") return 0;
  let n = 0;
  for (let i = text.indexOf(find); i >= 0; i = text.indexOf(find, i + 1)) n++;
  return n;
}

interface ProveResult {
  passed: boolean;
  evidence: string;
}

const REPO_ROOT = new URL("../..", import.meta.url).pathname;

// Runs the suites: pgTAP files with pg_prove the way the test command does, then Deno test files against the
// same database. The evidence is the first failing test.
async function prove(opts: Options, files: string[], denoFiles: string[] = []): Promise<ProveResult> {
  if (files.length === 0 && denoFiles.length === 0) throw new Error("prove: no tests to run");
  if (files.length > 0) {
    const out = await run("pg_prove", [
      "--ext",
      ".sql",
      "-d",
      opts.dbUrl,
      ...files.map((f) => `${opts.testsDir}/${f}`),
    ], {
      PGOPTIONS: "-c search_path=public,extensions -c statement_timeout=60s -c client_min_messages=warning",
    });
    if (!out.success) return { passed: false, evidence: firstFailure(out.text) };
  }
  if (denoFiles.length > 0) {
    const out = await run(
      Deno.execPath(),
      ["test", "--allow-all", "--no-prompt", "--no-check", ...denoFiles],
      {
        DATABASE_URL: opts.dbUrl,
        SUPABASE_DB_URL: opts.dbUrl,
        NO_COLOR: "1",
      },
    );
    if (!out.success) return { passed: false, evidence: firstDenoFailure(out.text) };
  }
  return { passed: true, evidence: "" };
}

async function run(cmd: string, args: string[], env: Record<string, string>) {
  try {
    const out = await new Deno.Command(cmd, {
      args,
      env,
      cwd: REPO_ROOT,
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(300_000),
    }).output();
    const text = new TextDecoder().decode(out.stdout) + "\n" + new TextDecoder().decode(out.stderr);
    return { success: out.success, text };
  } catch (e) {
    return { success: false, text: `ERROR: ${cmd} did not finish: ${(e as Error).message}` };
  }
}

function firstDenoFailure(output: string): string {
  const lines = output.split("\n");
  const i = lines.findIndex((l) => /^error: /.test(l));
  if (i < 0) return "deno test failed";
  const name = lines.slice(0, i).reverse().find((l) => / => /.test(l));
  return `${name ? name.split(" => ")[0].trim() + ": " : ""}${lines[i].replace(/^error: /, "")}`;
}

function firstFailure(tap: string): string {
  let file = "";
  for (const line of tap.split("\n")) {
    const header = line.match(/([\w.-]+)\.test\.sql \.+/);
    if (header) file = header[1];
    const failed = line.match(/Failed test (\d+): "(.*)"/);
    if (failed) return `${file} #${failed[1]}: ${failed[2]}`;
    const error = line.match(/(?:psql:[^:]*:\d+: )?ERROR:\s+(.*)/);
    if (error) return `${file} died: ${error[1]}`;
  }
  const plan = tap.match(/Bad plan.*|Dubious.*|No plan found.*/);
  return `${file} ${plan ? plan[0] : "failed"}`.trim();
}

async function runMutant(sql: Sql, opts: Options, mutant: Mutant, original: string): Promise<Row> {
  const started = performance.now();
  const row = (outcome: Outcome, evidence: string): Row => ({
    mutant,
    outcome,
    evidence,
    seconds: (performance.now() - started) / 1000,
  });
  // A replacer function: a replacement string would read `$&`, `$1`, … (and `$$` in SQL bodies) as patterns.
  const mutated = original.replace(mutant.find, () => mutant.replace);
  if (opts.marker) await Deno.writeTextFile(opts.marker, `${mutant.id}\n`);
  let result: ProveResult;
  try {
    try {
      await install(sql, mutant.target, mutated);
    } catch (e) {
      return row("error", `the mutated definition does not install: ${(e as Error).message}`);
    }
    // A fault that Postgres normalised away (or that did not land) would make "caught" a lie.
    const now = await definitionOf(sql, mutant.target);
    if (now === original || now === null) {
      return row("error", "the mutated definition reads back unchanged: the fault did not take effect");
    }
    result = await prove(opts, mutant.tests, mutant.denoTests);
  } finally {
    await restore(sql, mutant, original);
    if (opts.marker) await Deno.remove(opts.marker).catch(() => {});
  }
  return result.passed ? row("survived", "every test passed: add a test that fails for this fault") : row(
    "caught",
    result.evidence,
  );
}

async function restore(sql: Sql, mutant: Mutant, original: string): Promise<void> {
  await install(sql, mutant.target, original);
  const back = await definitionOf(sql, mutant.target);
  if (back !== original) {
    // Leaves the marker in place: the wrapper never reuses this database.
    throw new Error(
      `restoring ${describeTarget(mutant.target)} after mutant ${mutant.id} did not give the original back`,
    );
  }
}

function pad(text: string, width: number): string {
  return text.length > width ? text.slice(0, width - 1) + "…" : text.padEnd(width);
}

function printTable(rows: Row[]) {
  const head = `${pad("mutant", 42)} ${pad("result", 9)} ${pad("time", 6)} tests run`;
  console.log(head);
  console.log("-".repeat(110));
  for (const r of rows) {
    const tests = [...r.mutant.tests, ...(r.mutant.denoTests ?? [])]
      .map((t) => t.replace(/\.test\.(sql|ts)$/, "")).join(", ");
    console.log(
      `${pad(r.mutant.id, 42)} ${pad(r.outcome, 9)} ${pad(`${r.seconds.toFixed(1)}s`, 6)} ${tests}`,
    );
    console.log(`${"".padEnd(42)} ↳ ${r.evidence}`);
  }
}

async function main() {
  const opts = parseArgs(Deno.args);
  const selected = mutants.filter((m) => !opts.only || opts.only.has(m.id));
  const ids = new Set<string>();
  for (const m of mutants) {
    if (ids.has(m.id)) throw new Error(`duplicate mutant id ${m.id} in tests/mutants/catalog.ts`);
    ids.add(m.id);
  }
  if (opts.only) {
    for (const id of opts.only) if (!ids.has(id)) throw new Error(`--only: no mutant ${id}`);
  }
  for (const m of selected) {
    if (m.tests.length + (m.denoTests?.length ?? 0) === 0) throw new Error(`mutant ${m.id} names no tests`);
  }
  for (const f of new Set(selected.flatMap((m) => m.denoTests ?? []))) {
    await Deno.stat(`${REPO_ROOT}${f}`).catch(() => {
      throw new Error(`a mutant names ${f}, which is not in the repository`);
    });
  }
  for (const f of new Set(selected.flatMap((m) => m.tests))) {
    await Deno.stat(`${opts.testsDir}/${f}`).catch(() => {
      throw new Error(`a mutant names ${f}, which is not in ${opts.testsDir}`);
    });
  }

  const sql = postgres(opts.dbUrl, {
    max: 1,
    prepare: false,
    onnotice: () => {},
    connection: { search_path: "", application_name: "amo-roi mutants" },
  });
  const t0 = performance.now();
  try {
    // The suites must pass before any fault is applied, or "caught" would mean nothing.
    const suites = [...new Set(selected.flatMap((m) => m.tests))].sort();
    const denoSuites = [...new Set(selected.flatMap((m) => m.denoTests ?? []))].sort();
    const baseline = await prove(opts, suites, denoSuites);
    console.log(
      `baseline: ${suites.length + denoSuites.length} suites ${
        baseline.passed ? "pass" : `FAIL (${baseline.evidence})`
      } without mutants (${((performance.now() - t0) / 1000).toFixed(1)}s)`,
    );
    if (!baseline.passed) {
      console.log("the suites must pass on the unmutated code first");
      console.log(`0 caught, 0 survived, ${selected.length} broken`);
      Deno.exit(1);
    }

    const rows: Row[] = [];
    for (const mutant of selected) {
      const original = await definitionOf(sql, mutant.target);
      const where = describeTarget(mutant.target);
      if (original === null) {
        rows.push({
          mutant,
          outcome: "stale",
          evidence:
            `stale mutant: ${where} does not exist; update or remove mutant ${mutant.id} in tests/mutants/catalog.ts`,
          seconds: 0,
        });
        continue;
      }
      const n = occurrences(original, mutant.find);
      if (n !== 1) {
        rows.push({
          mutant,
          outcome: "stale",
          evidence: `stale mutant: find text ${JSON.stringify(mutant.find)} occurs ${n} times in ${where} ` +
            `(must be once); update mutant ${mutant.id} in tests/mutants/catalog.ts to the current definition`,
          seconds: 0,
        });
        continue;
      }
      const r = await runMutant(sql, opts, mutant, original);
      rows.push(r);
      console.error(`[mutants] ${r.outcome.padEnd(8)} ${mutant.id} (${r.seconds.toFixed(1)}s)`);
    }

    // Every object is back as it was: the suites pass again.
    const after = await prove(opts, suites, denoSuites);
    if (!after.passed) throw new Error(`the suites fail after every mutant was restored: ${after.evidence}`);

    console.log("");
    printTable(rows);
    const count = (o: Outcome) => rows.filter((r) => r.outcome === o).length;
    const extra = [
      count("stale") ? `, ${count("stale")} stale` : "",
      count("error") ? `, ${count("error")} broken` : "",
    ].join("");
    console.log("");
    console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)}s for ${rows.length} mutants`);
    console.log(`${count("caught")} caught, ${count("survived")} survived${extra}`);
    if (rows.some((r) => r.outcome !== "caught")) Deno.exitCode = 1;
  } finally {
    await sql.end();
  }
}

if (import.meta.main) await main();
