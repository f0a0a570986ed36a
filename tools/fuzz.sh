#!/usr/bin/env bash
# Hostile input against `chatlog serve`: schemathesis generates requests from /openapi.json
# (property-based, every operation, with both a JWT and an API key holding every scope), then
# tools/fuzz-ws.py throws random control frames, junk and binary frames at /v1/ws and mangled
# requests at the HTTP/1 parser. Fails on any 5xx, any response that breaks the spec, a server
# that stops answering, or a log that no longer verifies.
# Usage: tools/fuzz.sh [--short | EXAMPLES_PER_OPERATION [WS_FRAMES]]
#   --short: the quick run tools/test.sh does on the debug build (25 examples, 2,000 frames);
#   otherwise 500 examples and 20,000 frames on a release build. CHATLOG_BIN overrides the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh
source tools/serve-lib.sh
if [ "${1:-}" = "--short" ]; then
    examples=25
    frames=2000
    chatlog_binary debug
else
    examples=${1:-500}
    frames=${2:-20000}
    chatlog_binary release
fi
# The fuzzers live in a virtual environment of their own under .build.
venv=.build/fuzz-venv
tools/python-venv.sh "$venv" "import schemathesis, websockets" 'schemathesis==4.32.5' 'websockets>=12'
data=$(mktemp -d)
cleanup() {
    kill "${server:-}" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$data"
}
trap cleanup EXIT
# The fuzzer's own request rate is not what is under test here.
export CHATLOG_RATE_LIMIT_ENABLED=false
start_server "$data" "$data"
token=$("$bin" token --data-dir "$data" --user fuzzer --ttl 86400 | tail -1)
key=$("$bin" apikey create --data-dir "$data" --name fuzz --scope events --scope admin --scope streams:read | tail -1)
# Every check but the two about request-schema strictness (an opaque cursor or a business rule is
# "schema-valid" yet refused, by design) and the stateful resource check, whose inferred links
# pair unrelated ids; /v1/ws is exercised by the frame fuzzer below, and /ddbstreams (AWS's
# protocol: SigV4, 400 for every client error, application/x-amz-json-1.0) by
# tests/ddbstreams, hostile requests included.
"$venv/bin/schemathesis" run "http://$address/openapi.json" \
    --checks all --exclude-checks positive_data_acceptance,negative_data_rejection,ensure_resource_availability \
    --exclude-path /v1/ws --exclude-path /ddbstreams --max-examples "$examples" --workers 2 --seed 20261205 \
    -H "Authorization: Bearer $token" -H "X-API-Key: $key"
# The server's own count of what it answered, by status class.
curl -sf "http://$address/metrics" | awk '/^chatlog_http_requests_total/ {
    total += $NF; if ($0 ~ /status="5/) errors += $NF } END {
    printf "HTTP requests answered: %d, of which 5xx: %d\n", total, errors; exit errors > 0 }'
"$venv/bin/python" tools/fuzz-ws.py "$address" "$token" "$frames"
kill -0 "$server" || { echo "the server died" >&2; exit 1; }
if grep -E "Fatal error|internal error" "$data/server.log"; then exit 1; fi
"$bin" log verify --data-dir "$data" >/dev/null
echo "fuzzing found no server error; the log verifies"
