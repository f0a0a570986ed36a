#!/usr/bin/env bash
# Fuzzes a running chatlog: schemathesis over /openapi.json (every operation, valid and invalid
# inputs; the check is that nothing answers 5xx), then tools/ws-fuzz.py over the WebSocket and
# raw HTTP/1. Fails on any 5xx, on an `internal` error frame, or if the server dies.
# Usage: tools/fuzz.sh [--short]   (--short: the quick run CI does; default: a long run)
# CHATLOG_BIN picks the binary (default: the debug build, built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh
examples=400
frames=20000
if [ "${1:-}" = "--short" ]; then
    examples=25
    frames=2000
fi
# The fuzzers live in a virtual environment of their own under .build.
venv=.build/fuzz-venv
if [ ! -x "$venv/bin/st" ]; then
    if ! python3 -m venv "$venv" 2>/dev/null; then
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv
        python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install -q 'schemathesis==4.32.5' 'websockets>=12'
fi
export PATH="$PWD/$venv/bin:$PATH"
bin=${CHATLOG_BIN:-.build/debug/chatlog}
[ -x "$bin" ] || swift build --product chatlog
data=$(mktemp -d)
cleanup() {
    kill "${server:-}" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$data"
}
trap cleanup EXIT
# The fuzzer's own request rate is not what is under test here.
export CHATLOG_RATE_LIMIT_ENABLED=false
"$bin" serve --data-dir "$data" --port 0 >"$data/out.log" 2>"$data/server.log" &
server=$!
for _ in $(seq 300); do grep -q "http://" "$data/out.log" 2>/dev/null && break; sleep 0.1; done
base=$(grep -o 'http://[0-9.:]*' "$data/out.log" | head -1)
[ -n "$base" ] || { echo "the server did not start" >&2; cat "$data/server.log" >&2; exit 1; }
token=$("$bin" token --data-dir "$data" --user fuzzer --ttl 86400 | tail -1)
key=$("$bin" apikey create --data-dir "$data" --name fuzz --scope events --scope admin | tail -1)
echo "== schemathesis over $base/openapi.json ($examples examples per operation)"
st run "$base/openapi.json" --checks not_a_server_error --max-examples "$examples" --workers 1 \
    --seed 20261205 -H "Authorization: Bearer $token" -H "X-API-Key: $key" \
    --suppress-health-check all --request-timeout 30
echo "== WebSocket and raw HTTP/1 fuzzing ($frames frames)"
python3 tools/ws-fuzz.py "$base" "$token" "$frames"
kill -0 "$server" || { echo "the server died" >&2; exit 1; }
curl -sf "$base/v1/health" >/dev/null || { echo "the server stopped answering" >&2; exit 1; }
"$bin" log verify --data-dir "$data" >/dev/null
echo "fuzz: no 5xx, no internal error frame, the server is up and its log verifies"
