# The counting part of the test command, sourced by scripts/test.sh (after lib.sh, for `log`).
# Every check and suite runs in a subshell, so a `die` or `exit` inside one ends only that one and counts as a
# failure. The run always ends the same way, whether it finished, a setup step died or it was interrupted:
# teardown, the list of failures, and the last line `N passed, N failed` (exit status 0 only when nothing failed).

unset HARNESS_COUNTS_FILE # set only inside a suite's subshell (a harness run by a test starts clean)
PASSED=0
FAILED=0
FAILURES=()
HARNESS_STAGE="setup"   # what the run is doing, named in the failure when it is cut short
HARNESS_FINISHED=0
HARNESS_TEARDOWN=(:)

count() { # count <passed> <failed> <label>
  if [ -n "${HARNESS_COUNTS_FILE:-}" ]; then # inside a suite's subshell: the parent shell does the counting
    echo "$1 $2 $3" >>"$HARNESS_COUNTS_FILE"
    return 0
  fi
  PASSED=$((PASSED + $1))
  FAILED=$((FAILED + $2))
  [ "$2" -gt 0 ] && FAILURES+=("$3: $2 failed")
  return 0
}

# harness_run <output file|-> <cmd...>: runs the command in a subshell (its output to the file, or inherited)
# and returns its status. A command that ends the shell (`die`, `exit 0` halfway through) instead of
# returning never reaches the marker, and fails; HARNESS_RETURNED says which way it went. The redirection is
# made inside the subshell: a trap that fires meanwhile must print to the terminal, not into the file.
harness_run() {
  local out="$1" marker rc
  shift
  marker="$(mktemp)"
  rm -f "$marker"
  (
    [ "$out" = - ] || exec >"$out" 2>&1
    "$@"
    rc=$?
    echo "$rc" >"$marker"
    exit "$rc"
  )
  rc=$?
  HARNESS_RETURNED=1
  if [ ! -f "$marker" ]; then
    HARNESS_RETURNED=0
    local note="(ended the shell with exit status $rc instead of returning: counted as failed)"
    if [ "$out" = - ]; then echo "$note" >&2; else echo "$note" >>"$out"; fi
    [ "$rc" -eq 0 ] && rc=1
  fi
  rm -f "$marker"
  return "$rc"
}

# A check is one test: it passes when the command returns 0. Output goes to a report file, shown on failure.
check() {
  local label="$1"
  shift
  local out="$REPORT_DIR/${label//[^a-zA-Z0-9]/_}.log"
  HARNESS_STAGE="check: $label"
  if harness_run "$out" "$@"; then
    log "ok    $label"
    count 1 0 "$label"
  else
    log "FAIL  $label (output below, also in ${out#$ROOT/})"
    tail -n 60 "$out" >&2
    count 0 1 "$label"
  fi
}

# A suite reports many tests through `count`; it runs in a subshell too. A suite that dies keeps the counts it
# reported and adds one failure; one that reports nothing is one failure.
suite() {
  local label="$1"
  shift
  HARNESS_STAGE="suite: $label"
  local counts
  counts="$(mktemp)"
  harness_run - harness_in_suite "$counts" "$@"
  local rc=$? reported=0 p f l
  while read -r p f l; do
    count "$p" "$f" "$l"
    reported=1
  done <"$counts"
  rm -f "$counts"
  if [ "$HARNESS_RETURNED" = 0 ]; then
    log "FAIL  $label ended the shell (exit status $rc) instead of finishing"
    count 0 1 "$label (ended early)"
  elif [ "$reported" = 0 ]; then
    log "FAIL  $label reported no results"
    count 0 1 "$label (no results)"
  fi
}

# Not `HARNESS_COUNTS_FILE=… cmd`: that would export it to every program the suite runs.
harness_in_suite() {
  HARNESS_COUNTS_FILE="$1"
  shift
  "$@"
}

# harness_start <teardown command...>: from here on every way out of the shell ends with teardown and summary.
harness_start() {
  HARNESS_TEARDOWN=("$@")
  trap harness_exit EXIT
  trap 'harness_interrupted INT' INT
  trap 'harness_interrupted TERM' TERM
  trap 'harness_interrupted HUP' HUP
}

harness_interrupted() {
  log "interrupted (SIG$1) during $HARNESS_STAGE"
  count 0 1 "run interrupted by SIG$1 during $HARNESS_STAGE"
  HARNESS_FINISHED=interrupted
  exit 130
}

# The normal end of a run: the summary comes from the exit trap like every other end.
harness_finish() {
  HARNESS_FINISHED=1
  exit 0
}

harness_exit() {
  local rc=$?
  trap - EXIT TERM HUP
  trap '' INT # a second Ctrl-C must not cut the teardown short (children inherit the ignore)
  if [ "$HARNESS_FINISHED" = 0 ]; then
    log "the run ended (exit status $rc) during $HARNESS_STAGE"
    count 0 1 "run ended early (exit status $rc) during $HARNESS_STAGE"
  fi
  HARNESS_STAGE="teardown"
  harness_run - "${HARNESS_TEARDOWN[@]}" || log "teardown did not complete cleanly"
  local f
  for f in "${FAILURES[@]}"; do log "failed: $f"; done
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ] && exit 0
  exit 1
}
