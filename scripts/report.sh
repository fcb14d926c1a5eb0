#!/usr/bin/env bash
# `npm run report -- [--user-account <uuid>] [--user <email>]`: the funnel/ROI table as a member sees it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
use_instance dev
ensure_toolchain
exec "$DENO" run --allow-all --no-prompt "$ROOT/local/demo/report.ts" --db-url "$DB_URL" "$@"
