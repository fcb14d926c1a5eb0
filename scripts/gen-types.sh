#!/usr/bin/env bash
# Regenerate supabase/functions/_shared/database.types.ts from a fresh throwaway database with every migration,
# so the file never depends on what the dev database happens to contain.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
use_instance test
tear_down >/dev/null 2>&1 || true
rm -rf "$STATE_DIR"
bring_up
"$SUPABASE" gen types --remote="$CLI_DB_URL" --schema public >"$ROOT/supabase/functions/_shared/database.types.ts" 2>/dev/null
tear_down
log "wrote supabase/functions/_shared/database.types.ts"
