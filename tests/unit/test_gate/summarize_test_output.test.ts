// The strict reading of `deno test` and `pg_prove` output: a test that did not run is a failure. The fixtures are
// verbatim outputs of deno 2 and pg_prove 3 runs (paths shortened).
import assert from "node:assert/strict";
import { summarizeDenoTest, summarizePgProve } from "../../../scripts/summarize_test_output.ts";

const DENO_GREEN = `running 2 tests from ./tests/unit/a.test.ts
passes ... ok (1ms)
also passes ... ok (1ms)

ok | 188 passed | 0 failed (1m8s)
`;

const DENO_IGNORED = `running 3 tests from ./tests/integration/jobs/enqueue_claim_race.test.ts
needs env ... ignored (0ms)
passes ... ok (1ms)
with steps ...
  s1 ... ok (0ms)
  s2 ... ignored (0ms)
with steps ... ok (2ms)

ok | 2 passed (1 step) | 0 failed | 1 ignored (1 step) (19ms)
`;

const DENO_ONLY = `running 3 tests from ./a.test.ts
needs env ... ignored (0ms)
passes ... ok (505µs)
running 1 test from ./b.test.ts
only one ... ok (379µs)

ok | 3 passed (1 step) | 0 failed | 1 ignored (1 step) | 1 filtered out (93ms)

error: Test failed because the "only" option was used
`;

const DENO_FILTER = `running 1 test from ./a.test.ts
passes ... ok (609µs)

ok | 1 passed | 0 failed | 2 filtered out (5ms)
`;

const DENO_FAILED = `running 1 test from ./c.test.ts
fails ... FAILED (896µs)

 ERRORS 

fails => ./c.test.ts:1:6
error: Error: x

FAILED | 2 passed (1 step) | 1 failed | 0 ignored (19ms)

error: Test failed
`;

Deno.test("deno: a green run counts its passed tests", () => {
  const t = summarizeDenoTest(DENO_GREEN, 0);
  assert.deepEqual([t.passed, t.failed], [188, 0]);
  assert.match(t.messages[0], /^188 ran \(188 passed, 0 failed\), 0 ignored, 0 filtered out$/);
});

Deno.test("deno: ignored tests and steps are failures, named with their file", () => {
  const t = summarizeDenoTest(DENO_IGNORED, 0);
  assert.deepEqual([t.passed, t.failed], [2, 2]);
  assert.ok(t.messages.includes("  ignored: ./tests/integration/jobs/enqueue_claim_race.test.ts: needs env"));
  assert.ok(t.messages.includes("  ignored: ./tests/integration/jobs/enqueue_claim_race.test.ts: step s2"));
});

Deno.test("deno: a run narrowed by `only` or --filter is a failure", () => {
  const only = summarizeDenoTest(DENO_ONLY, 1);
  assert.deepEqual([only.passed, only.failed], [3, 3]); // 2 ignored + 1 for the filtered run
  assert.ok(only.messages.some((m) => m.includes('"only" option')));
  const filtered = summarizeDenoTest(DENO_FILTER, 0);
  assert.deepEqual([filtered.passed, filtered.failed], [1, 1]);
  assert.ok(filtered.messages.some((m) => m.includes("2 test(s) filtered out")));
});

Deno.test("deno: failures count as reported; no summary or a bare non-zero exit is one failure", () => {
  assert.deepEqual(summarizeDenoTest(DENO_FAILED, 1).failed, 1);
  const crashed = summarizeDenoTest('error: Module not found "file:///x.ts".\n', 1);
  assert.deepEqual([crashed.passed, crashed.failed], [0, 1]);
  assert.deepEqual(summarizeDenoTest(DENO_GREEN, 1).failed, 1);
});

Deno.test("deno: colour codes do not hide the summary", () => {
  const t = summarizeDenoTest("\x1b[0m\x1b[32mok\x1b[0m | 3 passed | 0 failed | 1 ignored (2ms)\n", 0);
  assert.deepEqual([t.passed, t.failed], [3, 1]);
});

const PG_GREEN = `/r/supabase/tests/database/a.test.sql ... ok
/r/supabase/tests/database/b.test.sql ... ok
All tests successful.
Files=2, Tests=373,  3 wallclock secs ( 0.10 usr  0.03 sys +  0.54 cusr  0.17 csys =  0.84 CPU)
Result: PASS
`;

// Five files: died before its plan, planned 3 ran 2, one failed of 2, green (1), died after 1 of 3.
const PG_BROKEN = `/tmp/pgt/a_die.test.sql .......
Dubious, test returned 3 (wstat 768, 0x300)
No subtests run
/tmp/pgt/b_mismatch.test.sql ..
# Looks like you planned 3 tests but ran 2
Failed 1/3 subtests
/tmp/pgt/c_fail.test.sql ......
# Failed test 1: "bad"
# Looks like you failed 1 test of 2
Failed 1/2 subtests
/tmp/pgt/d_ok.test.sql ........ ok
/tmp/pgt/e_diemid.test.sql ....
Dubious, test returned 3 (wstat 768, 0x300)
Failed 2/3 subtests

Test Summary Report
-------------------
/tmp/pgt/a_die.test.sql     (Wstat: 768 (exited 3) Tests: 0 Failed: 0)
  Non-zero exit status: 3
  Parse errors: No plan found in TAP output
/tmp/pgt/b_mismatch.test.sql (Wstat: 0 Tests: 2 Failed: 0)
  Parse errors: Bad plan.  You planned 3 tests but ran 2.
/tmp/pgt/c_fail.test.sql    (Wstat: 0 Tests: 2 Failed: 1)
  Failed test:  1
/tmp/pgt/e_diemid.test.sql  (Wstat: 768 (exited 3) Tests: 1 Failed: 0)
  Non-zero exit status: 3
  Parse errors: Bad plan.  You planned 3 tests but ran 1.
Files=5, Tests=6,  1 wallclock secs ( 0.02 usr  0.01 sys +  0.14 cusr  0.05 csys =  0.22 CPU)
Result: FAIL
`;

Deno.test("pgTAP: a green run counts its tests when every file ran", () => {
  const t = summarizePgProve(PG_GREEN, 0, 2);
  assert.deepEqual([t.passed, t.failed], [373, 0]);
});

Deno.test("pgTAP: died before the plan is one failure, each test missing from a plan is one", () => {
  const t = summarizePgProve(PG_BROKEN, 1, 5);
  // passed: b 2, c 1, d 1, e 1; failed: a 1 (no plan), b 1 missing, c 1, e 2 missing.
  assert.deepEqual([t.passed, t.failed], [5, 5]);
  assert.ok(
    t.messages.some((m) =>
      m.startsWith("/tmp/pgt/a_die.test.sql: Non-zero exit status: 3; Parse errors: No plan")
    ),
  );
});

Deno.test("pgTAP: a file that dies alone (the rest green) still fails the run", () => {
  const alone = `/r/a.test.sql .. ok
/r/b.test.sql ..
Dubious, test returned 3 (wstat 768, 0x300)
No subtests run

Test Summary Report
-------------------
/r/b.test.sql (Wstat: 768 (exited 3) Tests: 0 Failed: 0)
  Non-zero exit status: 3
  Parse errors: No plan found in TAP output
Files=2, Tests=4,  0 wallclock secs
Result: FAIL
`;
  assert.deepEqual(summarizePgProve(alone, 1, 2).failed, 1);
});

Deno.test("pgTAP: no test files, fewer files than found, or no final report is a failure", () => {
  const none = "Files=0, Tests=0,  0 wallclock secs ( 0.00 usr +  0.00 sys =  0.00 CPU)\nResult: NOTESTS\n";
  assert.deepEqual(summarizePgProve(none, 0, 0).failed, 1);
  assert.deepEqual(summarizePgProve(PG_GREEN, 0, 3).failed, 1);
  assert.deepEqual(summarizePgProve("could not connect to server\n", 1, 2).failed, 1);
  assert.deepEqual(summarizePgProve(PG_GREEN.replace("Result: PASS", "Result: FAIL"), 1, 2).failed, 1);
});

Deno.test("pgTAP: SKIP and TODO results and a skipped file are failures (pg_prove --directives lists them)", () => {
  const skips = `/r/a_skipall.test.sql .. skipped: (no reason given)
/r/b_skipone.test.sql ..
ok 2 # SKIP not today
ok
/r/c_todo.test.sql .....
not ok 2 - todo fail # TODO later
# Failed (TODO) test 2: "todo fail"
ok
/r/d_ok.test.sql ........ ok
All tests successful.
Files=4, Tests=5,  1 wallclock secs ( 0.03 usr  0.00 sys +  0.15 cusr  0.02 csys =  0.20 CPU)
Result: PASS
`;
  const t = summarizePgProve(skips, 0, 4);
  // Tests=5: b 2 (one skipped), c 2 (one todo), d 1. Passed: b's first, c's first, d. Failed: skip, todo, file a.
  assert.deepEqual([t.passed, t.failed], [3, 3]);
  assert.ok(t.messages.includes("  ok 2 # SKIP not today"));
});
