// Turns the output of `deno test` and `pg_prove` into the test command's counts, strictly: a test that did not
// run is a failure. Deno: ignored tests and steps (an env var was missing) and filtered runs (`only`, --filter)
// fail. pg_prove: a file that died before its plan, a plan mismatch (each missing test), SKIP and TODO results
// and skipped files (pg_prove runs with --directives to list them), a run with no test files or with fewer
// files than expected fail.
// CLI: deno run --allow-read scripts/summarize_test_output.ts deno|pgtap <log> <exit code> [expected files]
// prints the explanation on stderr and `<passed> <failed>` as the last line of stdout.

export interface Tally {
  passed: number;
  failed: number;
  /** What ran, and every reason a failure was added beyond the runner's own failed count. */
  messages: string[];
}

// deno colours its output unless NO_COLOR is set; the parser does not rely on that.
// deno-lint-ignore no-control-regex -- matching the escape character is the point
const ANSI = /\x1b\[[0-9;]*m/g;

function lines(output: string): string[] {
  return output.replace(ANSI, "").split(/\r?\n/);
}

/** `ok | 3 passed (1 step) | 0 failed | 1 ignored (1 step) | 1 filtered out (309ms)` → counts by kind. */
function denoSummary(line: string): Map<string, { n: number; steps: number }> {
  const parts = new Map<string, { n: number; steps: number }>();
  for (const part of line.split(" | ").slice(1)) {
    const m = part.match(/^(\d+) (passed|failed|ignored|measured|filtered out)(?: \((\d+) steps?\))?/);
    if (m) parts.set(m[2], { n: Number(m[1]), steps: Number(m[3] ?? 0) });
  }
  return parts;
}

export function summarizeDenoTest(output: string, exitCode: number): Tally {
  const messages: string[] = [];
  const all = lines(output);
  const summaryLine = all.findLast((l) => /^(ok|FAILED) \| \d+ passed/.test(l));
  if (!summaryLine) {
    return { passed: 0, failed: 1, messages: [`deno test printed no summary (exit status ${exitCode})`] };
  }
  const s = denoSummary(summaryLine);
  const get = (kind: string) => s.get(kind) ?? { n: 0, steps: 0 };
  const passed = get("passed").n;
  let failed = get("failed").n;

  // Names of ignored tests and steps, with their file: `running 3 tests from ./tests/x.test.ts`, `name ... ignored`.
  const ignoredNames: string[] = [];
  let file = "?";
  for (const l of all) {
    const running = l.match(/^running \d+ tests? from (.+)$/);
    if (running) file = running[1];
    const ignored = l.match(/^(\s*)(.+) \.\.\. ignored \(/);
    if (ignored) ignoredNames.push(`${file}: ${ignored[1] ? "step " : ""}${ignored[2]}`);
  }
  const ignored = Math.max(get("ignored").n + get("ignored").steps, ignoredNames.length);
  messages.push(
    `${passed + get("failed").n} ran (${passed} passed, ${get("failed").n} failed), ${ignored} ignored, ` +
      `${get("filtered out").n} filtered out`,
  );
  if (ignored > 0) {
    failed += ignored;
    messages.push(
      `${ignored} ignored test(s) counted as failed (an ignored test did not run; usually an env var is missing):`,
      ...ignoredNames.map((n) => `  ignored: ${n}`),
    );
  }
  const onlyUsed = all.some((l) => l.includes('Test failed because the "only" option was used'));
  if (get("filtered out").n > 0 || onlyUsed) {
    failed += 1;
    messages.push(
      `a filtered run counts as one failure: ${get("filtered out").n} test(s) filtered out` +
        (onlyUsed ? ' (a test uses the "only" option)' : " (--filter)"),
    );
  }
  if (exitCode !== 0 && failed === 0) {
    failed = 1;
    messages.push(`deno test exited with status ${exitCode} although its summary shows no failure`);
  }
  return { passed, failed, messages };
}

export function summarizePgProve(output: string, exitCode: number, expectedFiles: number): Tally {
  const messages: string[] = [];
  const all = lines(output);
  const totals = all.findLast((l) => /^Files=\d+, Tests=\d+/.test(l))?.match(/^Files=(\d+), Tests=(\d+)/);
  const result = all.findLast((l) => l.startsWith("Result: "))?.slice("Result: ".length).trim();
  if (!totals || !result) {
    return {
      passed: 0,
      failed: 1,
      messages: [`pg_prove did not finish its report (exit status ${exitCode})`],
    };
  }
  const files = Number(totals[1]);
  const tests = Number(totals[2]);

  // The Test Summary Report: one `<file> (Wstat: W Tests: T Failed: F)` line per bad file, details indented.
  let failedTests = 0;
  let extra = 0;
  const entry = /^(\S.*?)\s+\(Wstat: (\d+)(?: \([^)]*\))? Tests: (\d+) Failed: (\d+)\)$/;
  for (let i = 0; i < all.length; i++) {
    const m = all[i].match(entry);
    if (!m) continue;
    const [, file, wstat, , failedHere] = m;
    const details: string[] = [];
    for (let j = i + 1; j < all.length && /^\s+\S/.test(all[j]); j++) details.push(all[j].trim());
    const f = Number(failedHere);
    failedTests += f;
    const badPlan = details.join(" ").match(/planned (\d+) tests? but ran (\d+)/);
    const broken = Number(wstat) !== 0 || details.some((d) => d.startsWith("Parse errors:"));
    let missing = 0;
    if (badPlan) missing = Math.max(1, Number(badPlan[1]) - Number(badPlan[2]));
    else if (broken && f === 0) missing = 1;
    if (missing > 0) {
      extra += missing;
      messages.push(`${file}: ${details.join("; ")} → ${missing} more failed`);
    }
  }
  // With --directives pg_prove prints every SKIP and TODO result, and `<file> .. skipped:` for a skip_all file.
  const directives = all.filter((l) => /^(not )?ok \d+.*#\s*(SKIP|TODO)\b/i.test(l));
  const skippedFiles = all.filter((l) => /^\S.*\.\.+ skipped:/.test(l));
  if (directives.length > 0) {
    messages.push(`${directives.length} SKIP/TODO result(s) counted as failed (they did not test anything):`);
    messages.push(...directives.map((d) => `  ${d}`));
  }
  for (const f of skippedFiles) messages.push(`a whole file skipped, counted as one failure: ${f}`);
  let failed = failedTests + extra + directives.length + skippedFiles.length;
  const passed = tests - failedTests - directives.length; // TAP counts SKIP and TODO among the passed
  messages.unshift(`${files} file(s), ${tests} test(s) ran, result ${result}`);

  if (files === 0 || expectedFiles === 0) {
    failed += 1;
    messages.push("no pgTAP test files ran: counted as one failure");
  } else if (files !== expectedFiles) {
    failed += 1;
    messages.push(`pg_prove ran ${files} file(s) but ${expectedFiles} were found: counted as one failure`);
  }
  if ((result !== "PASS" || exitCode !== 0) && failed === 0) {
    failed = 1;
    messages.push(`pg_prove reported ${result} (exit status ${exitCode}) with no failed test it could name`);
  }
  return { passed, failed, messages };
}

if (import.meta.main) {
  const [kind, log, exitCode, expectedFiles] = Deno.args;
  const output = await Deno.readTextFile(log);
  const tally = kind === "deno"
    ? summarizeDenoTest(output, Number(exitCode))
    : kind === "pgtap"
    ? summarizePgProve(output, Number(exitCode), Number(expectedFiles))
    : (() => {
      throw new Error(`unknown kind ${kind}: deno or pgtap`);
    })();
  for (const m of tally.messages) console.error(m);
  console.log(`${tally.passed} ${tally.failed}`);
}
