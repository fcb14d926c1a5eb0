#!/usr/bin/env bash
# Call an operator function the way an admin does: POST with the service role key, print the JSON answer.
#   npm run admin -- <function> ['<json body>']
#   npm run admin -- amocrm-sync-pipelines '{"userAccountId":"…"}'
#   npm run admin -- amocrm-reconcile '{"userAccountId":"…","mode":"full"}'
#   npm run admin -- 'amocrm-qualification-stats?userAccountId=…&directionId=…'
# Local stack (default): http://127.0.0.1:54321 and the service role key the stack wrote when it started.
# Hosted project: SUPABASE_URL=https://<ref>.supabase.co SUPABASE_SERVICE_ROLE_KEY=… npm run admin -- …
# (The Supabase CLI 3.1.0 has no `functions invoke`; this is the replacement.) Exit code 1 on a non-2xx answer.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
use_instance dev

if [ $# -lt 1 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
fn="$1"
body="${2:-}"
[ -n "$body" ] || body='{}'

url="${SUPABASE_URL:-http://127.0.0.1:54321}"
key="${SUPABASE_SERVICE_ROLE_KEY:-}"
if [ -z "$key" ] && [ -f "$STATE_DIR/service_role.key" ]; then key="$(cat "$STATE_DIR/service_role.key")"; fi
if [ -z "$key" ]; then
  echo "no service role key: set SUPABASE_SERVICE_ROLE_KEY (or start the local stack: npm start)" >&2
  exit 2
fi

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
status="$(curl -sS -o "$out" -w '%{http_code}' -X POST "${url%/}/functions/v1/${fn}" \
  -H "Authorization: Bearer ${key}" -H 'Content-Type: application/json' --data "$body")" || {
  echo "could not reach ${url%/}/functions/v1/${fn}" >&2
  exit 1
}
# Pretty-print when node is around (it is wherever npm is); raw otherwise.
node -e 'const t=require("fs").readFileSync(process.argv[1],"utf8");try{console.log(JSON.stringify(JSON.parse(t),null,2))}catch{console.log(t)}' "$out" 2>/dev/null || cat "$out"
echo "HTTP $status" >&2
[ "${status:0:1}" = 2 ]
