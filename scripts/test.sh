#!/usr/bin/env bash
# The test command: builds its own throwaway stack (never the dev one), runs every suite and check,
# and ends with one line `N passed, N failed`. Exit code is non-zero on any failure.
# Usage: bash scripts/test.sh [--keep]   (--keep leaves the test stack running for debugging)
set -uo pipefail
source "$(dirname "$0")/lib.sh"

source "$(dirname "$0")/test_harness.sh"

REPORT_DIR="$ROOT/.local/test-reports"

# --- the product's tables already exist: migrations must fill in only what is missing ---------------------
legacy_migration_check() {
  use_instance legacy
  tear_down >/dev/null 2>&1
  rm -rf "$STATE_DIR"
  mkdir -p "$STATE_DIR"
  # In a subshell, so that a step that dies still leaves this instance torn down.
  (init_cluster && start_db && bootstrap_platform &&
    psql_db -f "$ROOT/tests/fixtures/sql/existing_product_tables.sql" &&
    psql_db -f "$(baseline_migration)" && psql_db -f "$(baseline_migration)" &&
    apply_migrations &&
    psql_db -f "$ROOT/tests/fixtures/sql/existing_product_tables_check.sql")
  local rc=$?
  # The instance folder goes away below: keep what its Postgres said in the check's report.
  [ "$rc" -ne 0 ] && [ -f "$STATE_DIR/postgres.log" ] && tail -n 20 "$STATE_DIR/postgres.log"
  tear_down >/dev/null 2>&1
  rm -rf "$STATE_DIR"
  use_instance test
  return $rc
}

# The hand-written baseline (extensions + the product's tables) must be safe to run again on a database that
# has everything: it is what runs first against production, where the tables already exist.
baseline_migration() { ls "$ROOT"/supabase/migrations/*_product_tables_baseline.sql; }

# summarize <deno|pgtap> <log> <exit code> [expected files]: counts a suite's output strictly (a test that did
# not run is a failure; see scripts/summarize_test_output.ts) and reports them.
summarize() {
  local label="$1" kind="$2"
  shift 2
  local tally
  tally=$("$DENO" run --allow-read "$ROOT/scripts/summarize_test_output.ts" "$kind" "$@" 2>"$REPORT_DIR/$kind-summary.log")
  local rc=$?
  sed "s/^/[$label] /" "$REPORT_DIR/$kind-summary.log" >&2
  local passed failed
  read -r passed failed <<<"$(tail -n1 <<<"$tally")"
  if [ "$rc" -ne 0 ] || ! [[ "$passed" =~ ^[0-9]+$ && "$failed" =~ ^[0-9]+$ ]]; then
    passed=0 failed=1
    log "$label: the output could not be summarized"
  fi
  log "$label: $passed passed, $failed failed"
  count "$passed" "$failed" "$label"
  [ "$failed" -eq 0 ]
}

run_pgtap() {
  psql_db -c "create extension if not exists pgtap with schema extensions" >/dev/null &&
    psql_db -f "$ROOT/supabase/tests/helpers/test_helpers.sql" >/dev/null || return 1
  local out="$REPORT_DIR/pgtap.log" dir="$ROOT/supabase/tests/database"
  PGOPTIONS='-c search_path=public,extensions' pg_prove --ext .sql -r --directives -d "$DB_URL" "$dir" >"$out" 2>&1
  local rc=$?
  summarize pgTAP pgtap "$out" "$rc" "$(find "$dir" -name '*.sql' | wc -l)" ||
    grep -E '^(not ok|ok .*# (SKIP|TODO)|#|Failed|Dubious|No subtests|.*\.sql \.\.|.*\(Wstat|  )' "$out" | grep -vE '\.\. ok$' | head -n 80 >&2
  # The catalog-derived attack suite and the advisor lints report their figures (NOTICEs in the pg_prove output).
  grep -hoE '(attack suite|advisor lints): .*' "$out" | while IFS= read -r line; do log "  $line"; done
  return 0
}

run_deno_tests() {
  local out="$REPORT_DIR/deno-test.log"
  DATABASE_URL="$DB_URL" SUPABASE_DB_URL="$DB_URL" SUPABASE_URL="$API_URL" FUNCTIONS_URL="$API_URL/functions/v1" \
    SUPABASE_ANON_KEY="$(cat "$STATE_DIR/anon.key")" SUPABASE_SERVICE_ROLE_KEY="$(cat "$STATE_DIR/service_role.key")" \
    NO_COLOR=1 "$DENO" test --allow-all --no-prompt tests/ >"$out" 2>&1
  local rc=$?
  summarize "Deno tests" deno "$out" "$rc" ||
    grep -vE '\.\.\. ok|^running|^$' "$out" | tail -n 120 >&2
  return 0
}

# --- the suites can fail: every deliberate fault in tests/mutants/catalog.ts must make a pgTAP suite fail ---
# Runs on its own throwaway instance (scripts/mutants.sh); caught mutants count as passed, the rest as failed.
run_mutants() {
  local out="$REPORT_DIR/mutants.log"
  bash "$ROOT/scripts/mutants.sh" >"$out" 2>&1
  local rc=$?
  local line caught survived stale broken
  line=$(grep -E '^[0-9]+ caught, [0-9]+ survived' "$out" | tail -1)
  caught=$(grep -oE '^[0-9]+' <<<"$line")
  survived=$(grep -oE '[0-9]+ survived' <<<"$line" | cut -d' ' -f1)
  stale=$(grep -oE '[0-9]+ stale' <<<"$line" | cut -d' ' -f1)
  broken=$(grep -oE '[0-9]+ broken' <<<"$line" | cut -d' ' -f1)
  local failed=$((${survived:-0} + ${stale:-0} + ${broken:-0}))
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi # died before its summary
  log "mutants: ${caught:-0} caught, $failed survived or stale"
  [ "$failed" -gt 0 ] && grep -vE '^\[mutants\]' "$out" | tail -n 80 >&2
  count "${caught:-0}" "$failed" mutants
}

# The deploy path, as far as it can be checked without a hosted project: `supabase db push --dry-run` against a
# fresh database lists every migration, and each function type-checks with only the import map deploy uses.
deploy_dry_run() {
  psql_db -c "drop database if exists deploy_check" -c "create database deploy_check" >/dev/null || return 1
  local out
  out=$("$SUPABASE" db push --dry-run --yes \
    --remote="postgresql://postgres:postgres@127.0.0.1:$DB_PORT/deploy_check?sslmode=disable" 2>&1)
  psql_db -c "drop database deploy_check" >/dev/null
  echo "$out"
  local f
  for f in "$ROOT"/supabase/migrations/*.sql; do
    grep -q "$(basename "$f")" <<<"$out" || { echo "db push --dry-run does not list $(basename "$f")"; return 1; }
  done
}

functions_check_with_deploy_import_map() {
  "$DENO" check --no-config --import-map "$ROOT/supabase/functions/import_map.json" "$ROOT"/supabase/functions/*/index.ts
}

types_up_to_date() {
  "$SUPABASE" gen types --remote="$CLI_DB_URL" --schema public >"$REPORT_DIR/database.types.ts" 2>/dev/null &&
    diff -u "$ROOT/supabase/functions/_shared/database.types.ts" "$REPORT_DIR/database.types.ts" ||
    { echo "types are stale: run  npm run gen:types"; return 1; }
}

main() {
  cd "$ROOT"
  T0=$SECONDS KEEP=0
  [ "${1:-}" = --keep ] && KEEP=1
  harness_start finish_stacks
  mkdir -p "$REPORT_DIR"
  rm -f "$REPORT_DIR"/*
  ensure_toolchain
  ensure_apt_packages
  ensure_local_extensions

  use_instance test
  log "fresh test stack (Postgres :$DB_PORT, functions :$API_PORT)"
  tear_down >/dev/null 2>&1
  rm -rf "$STATE_DIR"
  HARNESS_STAGE="starting the test stack"
  bring_up
  start_functions_host

  check "migrations apply to existing product tables" legacy_migration_check
  check "the baseline migration re-applies on a migrated database" psql_db -1 -f "$(baseline_migration)"
  check "migrations build exactly what supabase/schemas declares" bash "$ROOT/scripts/schema.sh" check
  suite pgTAP run_pgtap
  suite "Deno tests" run_deno_tests
  suite mutants run_mutants
  check "deno fmt --check" "$DENO" fmt --check
  check "deno lint" "$DENO" lint
  check "deno check" "$DENO" check supabase/functions local tests bench examples
  check "supabase db lint" "$SUPABASE" db lint --remote="$CLI_DB_URL" --schema public,private,amocrm --fail-on error
  check "generated types match the schema" types_up_to_date
  check "supabase db push --dry-run on a fresh database" deploy_dry_run
  check "functions type-check with the deploy import map" functions_check_with_deploy_import_map
  [ -d supabase/schemas ] || log "supabase/schemas/ does not exist: the single-definition check passes with nothing to check"
  check "no SQL function is defined twice in supabase/schemas" \
    "$DENO" run --allow-read scripts/check_single_definitions.ts supabase/schemas

  harness_finish
}

# Runs on every way out (see scripts/test_harness.sh): a check cut short may have left the legacy instance up.
# --keep leaves the test stack running, unless the run was interrupted.
finish_stacks() {
  (use_instance legacy && tear_down) >/dev/null 2>&1
  use_instance test
  if [ "$KEEP" = 1 ] && [ "$HARNESS_FINISHED" != interrupted ]; then
    log "the test stack is left running (--keep)"
  else
    tear_down
  fi
  log "finished in $((SECONDS - T0)) s"
}

main "$@"
