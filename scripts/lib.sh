# Shared helpers for the local stack and the test command. Sourced, never run.
# Everything here is local-only: nothing in scripts/ or local/ is deployed to Supabase.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLCHAIN="$ROOT/toolchain/node_modules/.bin"
DENO="$TOOLCHAIN/deno"
SUPABASE="$TOOLCHAIN/supabase"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
APT_PACKAGES=(postgresql-15 postgresql-15-cron postgresql-15-pgtap postgresql-15-plpgsql-check libtap-parser-sourcehandler-pgtap-perl)

# The local JWT secret, the same value `supabase start` uses; keys are derived from it at start.
export JWT_SECRET="${JWT_SECRET:-super-secret-jwt-token-with-at-least-32-characters-long}"

log() { printf '\033[1;34m[amo-roi]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[amo-roi] error:\033[0m %s\n' "$*" >&2; exit 1; }

# An instance = one Postgres cluster + functions host + simulator, on its own ports and folder.
# The dev stack uses Supabase's local ports; the test command uses a throwaway instance beside it.
use_instance() {
  INSTANCE="$1"
  # AMO_ROI_PORT_OFFSET shifts the throwaway instances, so two checkouts can run their tests side by side.
  local offset="${AMO_ROI_PORT_OFFSET:-0}"
  case "$INSTANCE" in
    dev) DB_PORT=54322 API_PORT=54321 SIM_PORT=54330 offset=0 ;;
    test) DB_PORT=54332 API_PORT=54331 SIM_PORT=54340 ;;
    legacy) DB_PORT=54342 API_PORT=54341 SIM_PORT=54350 ;;
    scratch) DB_PORT=54362 API_PORT=54361 SIM_PORT=54370 ;;
    shadow) DB_PORT=54372 API_PORT=54371 SIM_PORT=54380 ;;
    mutants) DB_PORT=54382 API_PORT=54381 SIM_PORT=54390 ;;
    *) die "unknown instance $INSTANCE" ;;
  esac
  DB_PORT=$((DB_PORT + offset)) API_PORT=$((API_PORT + offset)) SIM_PORT=$((SIM_PORT + offset))
  STATE_DIR="$ROOT/.local/$INSTANCE"
  # The cluster runs as `postgres` when we are root; if that user cannot reach the repository (a checkout
  # under a private home or a mktemp -d folder), the instance lives in a folder of its own under /tmp.
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -r "$ROOT/package.json" 2>/dev/null; then
    STATE_DIR="/tmp/amo-roi-$(printf '%s' "$ROOT" | md5sum | cut -c1-8)/$INSTANCE"
    mkdir -p "$STATE_DIR" && chmod 755 "$(dirname "$STATE_DIR")"
  fi
  PGDATA="$STATE_DIR/db"
  PG_SOCKET_DIR="$STATE_DIR/socket"
  DB_URL="postgresql://postgres:postgres@127.0.0.1:$DB_PORT/postgres"
  # The Supabase CLI prints a TLS warning into its output unless told the local server has no TLS.
  CLI_DB_URL="$DB_URL?sslmode=disable"
  API_URL="http://127.0.0.1:$API_PORT"
  SIM_URL="http://127.0.0.1:$SIM_PORT"
  export DB_PORT API_PORT SIM_PORT STATE_DIR PGDATA DB_URL CLI_DB_URL API_URL SIM_URL
}

# Postgres refuses to run as root: when we are root, the cluster runs as the `postgres` user.
as_db_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

ensure_toolchain() {
  if [ ! -x "$DENO" ] || [ ! -x "$SUPABASE" ]; then
    log "installing the pinned toolchain (Deno, Supabase CLI) from npm"
    # `npm install` honours package-lock.json like `npm ci`, but tolerates the lockfile this npm writes
    # (it records only this platform's optional binary packages, which `npm ci` rejects).
    (cd "$ROOT/toolchain" && npm install --no-fund --no-audit --loglevel=error) || die "npm install in toolchain/ failed"
  fi
}

ensure_apt_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing Debian packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
  else
    die "missing Debian packages. Install them with:  sudo apt-get install -y ${missing[*]}"
  fi
}

# The pg_net and Vault stand-ins are packaged as Postgres extensions with Supabase's names, so the
# migrations say `create extension pg_net` exactly as they do on Supabase.
ensure_local_extensions() {
  local sharedir src
  sharedir="$("$PG_BIN/pg_config" --sharedir)/extension"
  for src in "$ROOT"/local/platform/extensions/*; do
    local dest="$sharedir/$(basename "$src")"
    cmp -s "$src" "$dest" && continue
    if [ -f "$dest" ] && ! grep -q 'amo-roi local stand-in' "$dest"; then
      die "$dest exists and is not ours (a real extension?); refusing to overwrite it"
    fi
    if [ -w "$sharedir" ]; then cp "$src" "$dest"; else
      die "cannot write $sharedir. Run:  sudo cp $ROOT/local/platform/extensions/* $sharedir/"
    fi
  done
}

db_running() { as_db_owner "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }

init_cluster() {
  [ -f "$PGDATA/PG_VERSION" ] && return 0
  log "creating Postgres 15 cluster in ${PGDATA#$ROOT/}"
  mkdir -p "$PGDATA" "$PG_SOCKET_DIR"
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$STATE_DIR"
  as_db_owner test -w "$PGDATA" || die "user postgres cannot write $PGDATA (check the permissions of its parent folders)"
  local pwfile="$STATE_DIR/.pw"
  echo postgres >"$pwfile"
  [ "$(id -u)" = 0 ] && chown postgres "$pwfile"
  as_db_owner "$PG_BIN/initdb" -D "$PGDATA" -U postgres --pwfile="$pwfile" --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null || die "initdb failed"
  rm -f "$pwfile"
  cat >>"$PGDATA/postgresql.conf" <<EOF
# amo-roi local stack
listen_addresses = '127.0.0.1'
port = $DB_PORT
unix_socket_directories = '$PG_SOCKET_DIR'
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 20
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
log_min_messages = warning
EOF
}

start_db() {
  db_running && return 0
  local try
  for try in 1 2 3 4 5; do
    as_db_owner "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$STATE_DIR/postgres.log" -w -t 60 start >/dev/null && return 0
    # The ports sit in Linux's ephemeral range: a passing client socket can hold one for a moment.
    tail -n 5 "$STATE_DIR/postgres.log" 2>/dev/null | grep -q "Address already in use" || break
    log "port $DB_PORT is busy (try $try of 5); retrying"
    sleep 2
  done
  die "Postgres did not start; see ${STATE_DIR#$ROOT/}/postgres.log"
}

stop_db() {
  db_running || return 0
  as_db_owner "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
}

psql_db() { PGCONNECT_TIMEOUT=5 PGOPTIONS='-c client_min_messages=warning' psql "$DB_URL" -v ON_ERROR_STOP=1 -q -X "$@"; }

# Supabase platform pieces (roles, auth, extensions, Vault, pg_net): what a hosted project already has.
bootstrap_platform() {
  psql_db -f "$ROOT/local/platform/bootstrap.sql" >/dev/null || die "platform bootstrap failed"
}

apply_migrations() {
  (cd "$ROOT" && "$SUPABASE" migration up --remote="$CLI_DB_URL" --include-all --yes) >"$STATE_DIR/migrations.log" 2>&1 || {
    cat "$STATE_DIR/migrations.log" >&2
    die "supabase migration up failed (a local database out of step with supabase/migrations: npm run reset)"
  }
}

# Local-only data: Vault secrets for the functions URL and cron secret, a demo user.
apply_seed() {
  psql_db -f "$ROOT/supabase/seed.sql" >/dev/null || die "seed failed"
  # The seed names the dev functions URL; another instance points its cron calls at its own host.
  psql_db -c "update vault.secrets set secret = '$API_URL/functions/v1' where name = 'amo_roi_functions_url'" >/dev/null
}

# Background processes are tracked by pid files in the instance's state folder.
start_bg() {
  local name="$1"
  shift
  local pidfile="$STATE_DIR/$name.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then return 0; fi
  setsid "$@" >>"$STATE_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

stop_bg() {
  local pidfile="$STATE_DIR/$1.pid"
  [ -f "$pidfile" ] || return 0
  local pid
  pid="$(cat "$pidfile")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

wait_http() {
  local url="$1" tries="${2:-100}"
  for _ in $(seq 1 "$tries"); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

# Function secrets: the dev stack reads supabase/functions/.env (created from .env.example on first start,
# yours to edit); the test stack always uses .env.example so runs are reproducible.
functions_env_file() {
  local example="$ROOT/supabase/functions/.env.example" own="$ROOT/supabase/functions/.env"
  if [ "$INSTANCE" = dev ]; then
    [ -f "$own" ] || cp "$example" "$own"
    echo "$own"
  else
    echo "$example"
  fi
}

start_functions_host() {
  start_bg functions-host "$DENO" run --allow-all --no-prompt "$ROOT/local/functions-host/main.ts" \
    --port "$API_PORT" --db-url "$DB_URL" --state-dir "$STATE_DIR" --env-file "$(functions_env_file)"
  wait_http "$API_URL/functions/v1/health" 150 ||
    die "functions host did not answer; see ${STATE_DIR#$ROOT/}/functions-host.log"
}

start_simulator() {
  # The demo compresses two weeks into seconds: the simulated account's clock starts 15 days back, so its
  # webhooks are stamped in the past like amoCRM's, never ahead of their delivery.
  start_bg amocrm-simulator "$DENO" run --allow-all --no-prompt "$ROOT/local/amocrm-simulator/main.ts" \
    --port "$SIM_PORT" --clock-days-ago 15
}

# Everything an instance needs to run, in order; idempotent, so a second start is quick.
bring_up() {
  ensure_toolchain
  ensure_apt_packages
  ensure_local_extensions
  mkdir -p "$STATE_DIR"
  init_cluster
  start_db
  bootstrap_platform
  apply_migrations
  apply_seed
}

tear_down() {
  stop_bg functions-host
  stop_bg amocrm-simulator
  stop_db
}
