#!/usr/bin/env bash
# The test command: builds its own throwaway stack (never the dev one), runs every suite and check,
# and ends with one line `N passed, N failed`. Exit code is non-zero on any failure.
# Usage: bash scripts/test.sh [--keep]   (--keep leaves the test stack running for debugging)
set -uo pipefail
source "$(dirname "$0")/lib.sh"

PASSED=0
FAILED=0
FAILURES=()
REPORT_DIR="$ROOT/.local/test-reports"

count() { # count <passed> <failed> <label>
  PASSED=$((PASSED + $1))
  FAILED=$((FAILED + $2))
  [ "$2" -gt 0 ] && FAILURES+=("$3: $2 failed")
  return 0
}

# A check is one test: it passes when the command exits 0. Output goes to a report file, shown on failure.
check() {
  local label="$1"
  shift
  local out="$REPORT_DIR/${label//[^a-zA-Z0-9]/_}.log"
  if "$@" >"$out" 2>&1; then
    log "ok    $label"
    count 1 0 "$label"
  else
    log "FAIL  $label (output below, also in ${out#$ROOT/})"
    tail -n 60 "$out" >&2
    count 0 1 "$label"
  fi
}

# --- the product's tables already exist: migrations must fill in only what is missing ---------------------
legacy_migration_check() {
  use_instance legacy
  tear_down >/dev/null 2>&1
  rm -rf "$STATE_DIR"
  mkdir -p "$STATE_DIR"
  init_cluster && start_db && bootstrap_platform &&
    psql_db -f "$ROOT/tests/fixtures/sql/existing_product_tables.sql" &&
    apply_migrations && apply_migrations &&
    psql_db -f "$ROOT/tests/fixtures/sql/existing_product_tables_check.sql"
  local rc=$?
  tear_down >/dev/null 2>&1
  rm -rf "$STATE_DIR"
  use_instance test
  return $rc
}

run_pgtap() {
  psql_db -c "create extension if not exists pgtap with schema extensions" >/dev/null &&
    psql_db -f "$ROOT/supabase/tests/helpers/test_helpers.sql" >/dev/null || return 1
  local out="$REPORT_DIR/pgtap.log"
  PGOPTIONS='-c search_path=public,extensions' pg_prove --ext .sql -r -d "$DB_URL" "$ROOT/supabase/tests/database" \
    >"$out" 2>&1
  local rc=$?
  local total failed
  total=$(grep -oE 'Tests=[0-9]+' "$out" | tail -1 | cut -d= -f2)
  failed=$(grep -oE 'Failed [0-9]+/[0-9]+ subtests' "$out" | awk '{split($2,a,"/"); s+=a[1]} END {print s+0}')
  total=${total:-0}
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi # a file that died before its plan
  log "pgTAP: $((total - failed)) passed, $failed failed"
  [ "$failed" -gt 0 ] && grep -E '^(not ok|#|Failed|.*\.sql \.\.)' "$out" | grep -vE '\.\. ok$' | head -n 80 >&2
  count $((total - failed)) "$failed" pgTAP
}

run_deno_tests() {
  local out="$REPORT_DIR/deno-test.log"
  DATABASE_URL="$DB_URL" SUPABASE_DB_URL="$DB_URL" SUPABASE_URL="$API_URL" FUNCTIONS_URL="$API_URL/functions/v1" \
    SUPABASE_ANON_KEY="$(cat "$STATE_DIR/anon.key")" SUPABASE_SERVICE_ROLE_KEY="$(cat "$STATE_DIR/service_role.key")" \
    NO_COLOR=1 "$DENO" test --allow-all --no-prompt tests/ >"$out" 2>&1
  local rc=$?
  local summary passed failed
  summary=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$out" | tail -1)
  passed=$(echo "$summary" | grep -oE '[0-9]+ passed' | cut -d' ' -f1)
  failed=$(echo "$summary" | grep -oE '[0-9]+ failed' | cut -d' ' -f1)
  passed=${passed:-0}
  failed=${failed:-0}
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi # did not even reach a summary
  log "Deno tests: $passed passed, $failed failed"
  [ "$rc" -ne 0 ] && grep -vE '\.\.\. ok|^running|^$' "$out" | tail -n 120 >&2
  count "$passed" "$failed" "Deno tests"
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
  local t0=$SECONDS keep=0
  [ "${1:-}" = --keep ] && keep=1
  mkdir -p "$REPORT_DIR"
  rm -f "$REPORT_DIR"/*
  ensure_toolchain
  ensure_apt_packages
  ensure_local_extensions

  use_instance test
  log "fresh test stack (Postgres :$DB_PORT, functions :$API_PORT)"
  tear_down >/dev/null 2>&1
  rm -rf "$STATE_DIR"
  bring_up
  start_functions_host

  check "migrations apply to existing product tables" legacy_migration_check
  check "migrations are idempotent" apply_migrations
  run_pgtap
  run_deno_tests
  run_mutants
  check "deno fmt --check" "$DENO" fmt --check
  check "deno lint" "$DENO" lint
  check "deno check" "$DENO" check supabase/functions local tests bench examples
  check "supabase db lint" "$SUPABASE" db lint --remote="$CLI_DB_URL" --schema public,private,amocrm --fail-on error
  check "generated types match the schema" types_up_to_date
  check "supabase db push --dry-run on a fresh database" deploy_dry_run
  check "functions type-check with the deploy import map" functions_check_with_deploy_import_map

  [ "$keep" = 1 ] || tear_down
  log "finished in $((SECONDS - t0)) s"
  for f in "${FAILURES[@]}"; do log "failed: $f"; done
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}

main "$@"
