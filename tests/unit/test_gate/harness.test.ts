// The test command's harness (scripts/test_harness.sh): a check that dies or exits counts as one failure and the
// run goes on; a run that dies outside a check or is interrupted still tears down and ends with the summary.
// Each case runs a small bash script against the real harness and reads what it printed.
import assert from "node:assert/strict";

const HARNESS = new URL("../../../scripts/test_harness.sh", import.meta.url).pathname;
const LIB = new URL("../../../scripts/lib.sh", import.meta.url).pathname;

async function runHarness(body: string, signalAfterMs?: number, env: Record<string, string> = {}) {
  const dir = await Deno.makeTempDir();
  const script = `set -uo pipefail
source ${JSON.stringify(LIB)}
source ${JSON.stringify(HARNESS)}
REPORT_DIR=${JSON.stringify(dir)}
fake_teardown() { echo "TEARDOWN ran" >&2; }
harness_start fake_teardown
${body}
`;
  const child = new Deno.Command("bash", { args: ["-c", script], env, stdout: "piped", stderr: "piped" })
    .spawn();
  if (signalAfterMs !== undefined) setTimeout(() => child.kill("SIGINT"), signalAfterMs);
  const { code, stdout, stderr } = await child.output();
  await Deno.remove(dir, { recursive: true });
  const out = new TextDecoder().decode(stdout);
  const err = new TextDecoder().decode(stderr);
  return { code, out, err, lastLine: out.trimEnd().split("\n").at(-1) };
}

Deno.test("a check that dies or exits halfway is one failure, and the checks after it still run", async () => {
  const r = await runHarness(`
dies() { die "broken on purpose"; echo "never printed"; }
exits_early() { exit 0; }
check "passes" true
check "dies" dies
check "exits with 0 halfway" exits_early
check "fails" false
check "runs after the others" true
harness_finish
`);
  assert.equal(r.lastLine, "2 passed, 3 failed", r.err);
  assert.equal(r.code, 1);
  assert.match(r.err, /ok {4}runs after the others/);
  assert.match(r.err, /failed: dies: 1 failed/);
  assert.match(r.err, /failed: exits with 0 halfway: 1 failed/);
  assert.equal(r.err.match(/TEARDOWN ran/g)?.length, 1);
});

Deno.test("a suite keeps the counts it reported; dying or reporting nothing adds exactly one failure", async () => {
  const r = await runHarness(`
reports() { count 4 1 "reports"; }
reports_then_dies() { count 3 0 "partial"; die "gone"; }
reports_nothing() { :; }
suite reports reports
suite "reports then dies" reports_then_dies
suite "reports nothing" reports_nothing
harness_finish
`);
  assert.equal(r.lastLine, "7 passed, 3 failed", r.err);
  assert.equal(r.code, 1);
});

Deno.test("all green: exit status 0 and the summary is the last line", async () => {
  const r = await runHarness(`
reports() { count 5 0 "five"; }
check one true
suite two reports
harness_finish
`);
  assert.equal(r.lastLine, "6 passed, 0 failed", r.err);
  assert.equal(r.code, 0);
  assert.equal(r.err.match(/TEARDOWN ran/g)?.length, 1);
});

Deno.test("a die outside any check still tears down and prints the summary", async () => {
  const r = await runHarness(`
check "before setup broke" true
HARNESS_STAGE="bringing the stack up"
die "Postgres did not start"
check "never reached" true
harness_finish
`);
  assert.equal(r.lastLine, "1 passed, 1 failed", r.err);
  assert.equal(r.code, 1);
  assert.match(r.err, /run ended early \(exit status 1\) during bringing the stack up/);
  assert.doesNotMatch(r.err, /never reached/);
  assert.equal(r.err.match(/TEARDOWN ran/g)?.length, 1);
});

Deno.test("Ctrl-C during a check: teardown, one failure for the interruption, summary last", async () => {
  const r = await runHarness(
    `
check "first" true
check "slow" sleep 1
check "never reached" true
harness_finish
`,
    300,
  );
  assert.equal(r.lastLine?.match(/^\d+ passed, [1-9]\d* failed$/)?.[0], r.lastLine, r.err);
  assert.match(r.err, /run interrupted by SIGINT during check: slow/);
  assert.doesNotMatch(r.err, /never reached/);
  assert.equal(r.err.match(/TEARDOWN ran/g)?.length, 1);
  assert.notEqual(r.code, 0);
});

Deno.test("a harness run inside another harness's suite counts on its own, not into the outer one", async () => {
  const outer = await Deno.makeTempFile();
  try {
    const r = await runHarness(
      `
reports() { count 2 0 "two"; }
suite inner reports
check "child programs do not see the outer counts file" bash -c '[ -z "\${HARNESS_COUNTS_FILE:-}" ]'
harness_finish
`,
      undefined,
      { HARNESS_COUNTS_FILE: outer },
    );
    assert.equal(r.lastLine, "3 passed, 0 failed", r.err);
    assert.equal(await Deno.readTextFile(outer), "");
  } finally {
    await Deno.remove(outer);
  }
});
