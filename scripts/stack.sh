#!/usr/bin/env bash
# The local stack: `start` (foreground, Ctrl-C stops it), `stop`, `status`, `reset`.
# Usage: bash scripts/stack.sh <start|stop|status|reset> [--no-demo]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
use_instance dev

print_where() {
  cat <<EOF

  Postgres        $DB_URL
                  psql "$DB_URL"
  Functions       $API_URL/functions/v1/<name>   (health: $API_URL/functions/v1/health)
  amoCRM sim      $SIM_URL
  Logs            ${STATE_DIR#$ROOT/}/*.log
  anon key        $(cat "$STATE_DIR/anon.key" 2>/dev/null || echo '-')
  service key     $(cat "$STATE_DIR/service_role.key" 2>/dev/null || echo '-')

EOF
}

cmd_start() {
  local t0=$SECONDS
  bring_up
  log "starting the functions host and the amoCRM simulator"
  # Both start fresh: the host discovers functions at start, the simulator keeps its accounts in memory.
  stop_bg functions-host
  stop_bg amocrm-simulator
  start_simulator
  start_functions_host
  log "stack is up in $((SECONDS - t0)) s"
  print_where
  local interactive=0
  [ -t 0 ] && interactive=1
  trap 'echo; log "stopping"; tear_down; exit 0' INT TERM
  if [[ " $* " != *" --no-demo "* ]]; then
    # Without a terminal (scripts, CI) the demo prints the table once and returns, leaving the stack up.
    "$DENO" run --allow-all --no-prompt "$ROOT/local/demo/main.ts" --db-url "$DB_URL" --api-url "$API_URL" \
      --sim-url "$SIM_URL" --state-dir "$STATE_DIR" $([ $interactive = 1 ] || echo --once) || true
  fi
  if [ $interactive = 1 ]; then
    log "running; press Ctrl-C to stop (or: npm run stop)"
    tail -n 0 -F "$STATE_DIR/functions-host.log" "$STATE_DIR/amocrm-simulator.log" 2>/dev/null &
    wait
  fi
  trap - INT TERM
}

cmd_status() {
  local ok=0
  if db_running; then echo "postgres        up    $DB_URL"; else echo "postgres        down"; ok=1; fi
  if curl -fsS -o /dev/null "$API_URL/functions/v1/health" 2>/dev/null; then
    echo "functions host  up    $API_URL/functions/v1/"
  else
    echo "functions host  down"
    ok=1
  fi
  if curl -fsS -o /dev/null "$SIM_URL/_sim/health" 2>/dev/null; then echo "amoCRM sim      up    $SIM_URL"; else echo "amoCRM sim      down"; fi
  if db_running; then
    psql_db -At -c "select 'migrations      ' || count(*) || ' applied, last ' || max(version) from supabase_migrations.schema_migrations" 2>/dev/null || true
    psql_db -At -f "$ROOT/local/platform/status.sql" 2>/dev/null || true
  fi
  return $ok
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) tear_down; log "stopped" ;;
  status) cmd_status ;;
  reset)
    tear_down
    rm -rf "$STATE_DIR"
    log "removed ${STATE_DIR#$ROOT/}; the next start creates a fresh database"
    ;;
  *) echo "usage: bash scripts/stack.sh <start|stop|status|reset>" >&2; exit 2 ;;
esac
