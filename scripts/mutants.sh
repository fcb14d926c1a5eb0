#!/usr/bin/env bash
# The mutants check: proves the pgTAP suites can fail. On a throwaway database built from the migrations it
# applies each deliberate fault of tests/mutants/catalog.ts to the current definition of its object, runs the
# suites the mutant names, expects at least one failure, and restores the object. Ends with `N caught, N survived`.
# Usage: bash scripts/mutants.sh [--reuse] [--keep] [--only <id>[,<id>…]]
#   --reuse  keep an already running, clean `mutants` instance (migrations are applied on top) instead of a fresh one
#   --keep   leave the instance running afterwards
set -uo pipefail
source "$(dirname "$0")/lib.sh"

# A fresh database from the migrations, with pgTAP and the test helpers loaded as the test command loads them.
mutants_instance_up() {
  local reuse="$1"
  use_instance mutants
  # A run that died with a mutant applied leaves this marker: such a database is never reused.
  if [ "$reuse" = 1 ] && db_running && [ ! -f "$STATE_DIR/mutant-applied" ]; then
    log "reusing the mutants instance (Postgres :$DB_PORT)"
  else
    log "fresh mutants instance (Postgres :$DB_PORT)"
    tear_down >/dev/null 2>&1
    rm -rf "$STATE_DIR"
    mkdir -p "$STATE_DIR"
    init_cluster && start_db && bootstrap_platform || return 1
  fi
  apply_migrations || return 1
  psql_db -c "create extension if not exists pgtap with schema extensions" >/dev/null &&
    psql_db -f "$ROOT/supabase/tests/helpers/test_helpers.sql" >/dev/null
}

main() {
  cd "$ROOT"
  local reuse=0 keep=0 args=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --reuse) reuse=1 ;;
      --keep) keep=1 ;;
      *) args+=("$1") ;;
    esac
    shift
  done
  local t0=$SECONDS
  ensure_toolchain
  ensure_apt_packages
  ensure_local_extensions
  mutants_instance_up "$reuse" || die "the mutants instance did not come up"
  log "instance ready in $((SECONDS - t0)) s"

  MUTANT_MARKER="$STATE_DIR/mutant-applied" NO_COLOR=1 \
    "$DENO" run --allow-all --no-prompt "$ROOT/tests/mutants/run.ts" --db-url "$DB_URL" \
    --tests-dir "$ROOT/supabase/tests/database" ${args[@]+"${args[@]}"}
  local rc=$?

  if [ "$keep" = 0 ]; then
    tear_down >/dev/null 2>&1
    rm -rf "$STATE_DIR"
  fi
  log "mutants check finished in $((SECONDS - t0)) s"
  return $rc
}

main "$@"
