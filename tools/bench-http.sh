#!/usr/bin/env bash
# Measures the HTTP API with wrk (apt-get install wrk): durable message posts, event ingest and history reads
# against a release `chatlog serve`, beside a bare Hummingbird route that decodes and encodes
# the same JSON, and the same route storing its answer in raw LMDB with a synced group commit
# before it answers (the least a durable POST does). Prints each rate's ratio to the bare routes.
# Usage: [CHATLOG_BIN=path] tools/bench-http.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh
seconds=${1:-10}
connections=${2:-64}
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 1; }
# CHATLOG_BIN runs a binary built elsewhere (to compare two builds side by side).
bin=${CHATLOG_BIN:-}
if [ -z "$bin" ]; then
    swift build -c release --product chatlog >&2
    bin=.build/release/chatlog
fi
data=$(mktemp -d)
port=18380
echo_port=18381
cleanup() {
    kill "${server:-}" "${echo_server:-}" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$data" "${scripts:-}"
}
trap cleanup EXIT
export CHATLOG_RATE_LIMIT_ENABLED=false
"$bin" serve --data-dir "$data" --port $port >"$data/server.log" 2>&1 &
server=$!
"$bin" debug echo-server --port $echo_port --data-dir "$data/raw-lmdb" >/dev/null 2>&1 &
echo_server=$!
for _ in $(seq 100); do curl -sf "localhost:$port/v1/health" >/dev/null && curl -sf -o /dev/null -X POST "localhost:$echo_port/echo" -H 'content-type: application/json' -d '{"text":"x"}' && break; sleep 0.1; done
token=$("$bin" token --data-dir "$data" --user bench | tail -1)
channel=$(curl -sf -X POST "localhost:$port/v1/channels" -H "Authorization: Bearer $token" \
    -H 'content-type: application/json' -d '{"name":"bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["channel"]["id"])')
for i in $(seq 100); do
    curl -sf -o /dev/null -X POST "localhost:$port/v1/channels/$channel/messages" -H "Authorization: Bearer $token" \
        -H 'content-type: application/json' -d "{\"text\":\"seed $i\"}"
done
apikey=$("$bin" apikey create --data-dir "$data" --name bench | tail -1)
scripts=$(mktemp -d)
cat >"$scripts/event.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"source":"billing","eventType":"invoice.paid","payload":{"invoice":"in_123","amount":1299},"metadata":{"priority":"normal"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = "$apikey"
LUA
cat >"$scripts/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"text":"hello from wrk, a message of about this size"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
LUA
cat >"$scripts/get.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $token"
LUA
cat >"$scripts/echo.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"text":"hello from wrk, a message of about this size"}'
wrk.headers["Content-Type"] = "application/json"
LUA
declare -A rates
run() {
    local name=$1
    echo "== $2"
    shift 2
    wrk -t2 -c"$connections" -d"${seconds}s" --latency "$@" >"$scripts/out.txt"
    grep -E "Requests/sec|Latency  |  50%|  99%|Non-2xx|Socket errors" "$scripts/out.txt"
    rates[$name]=$(awk '/Requests\/sec/ {print $2}' "$scripts/out.txt")
}
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
run echo "bare Hummingbird: POST /echo (decode + encode)" -s "$scripts/echo.lua" "http://127.0.0.1:$echo_port/echo"
run durable "bare Hummingbird + raw LMDB: POST /echo-durable (the answer put in a synced group commit, 201 after it)" \
    -s "$scripts/echo.lua" "http://127.0.0.1:$echo_port/echo-durable"
run post "chatlog: POST /v1/channels/{id}/messages (durable, 201 after commit)" -s "$scripts/post.lua" \
    "http://127.0.0.1:$port/v1/channels/$channel/messages"
echo "    message POSTs: $(ratio "${rates[post]}" "${rates[echo]}") of the bare echo, $(ratio "${rates[post]}" "${rates[durable]}") of the durable echo (which is $(ratio "${rates[durable]}" "${rates[echo]}") of the bare echo)"
run event "chatlog: POST /v1/events (durable ingest, 201 after commit)" -s "$scripts/event.lua" \
    "http://127.0.0.1:$port/v1/events"
run history "chatlog: GET /v1/channels/{id}/messages?limit=50, alone" -s "$scripts/get.lua" \
    "http://127.0.0.1:$port/v1/channels/$channel/messages?limit=50"
# History latency while writes continue: with 4 readers (the 2 cores have room) and with 16
# (the cores are saturated and the percentiles are mostly queueing). The writers' rate follows.
for readers in 4 16; do
    echo "== chatlog: GET ?limit=50 on $readers connections while 16 connections keep posting"
    wrk -t1 -c16 -d"${seconds}s" -s "$scripts/post.lua" "http://127.0.0.1:$port/v1/channels/$channel/messages" \
        >"$scripts/writers.txt" &
    writer=$!
    wrk -t1 -c"$readers" -d"${seconds}s" --latency -s "$scripts/get.lua" \
        "http://127.0.0.1:$port/v1/channels/$channel/messages?limit=50" \
        | grep -E "Requests/sec|Latency  |  50%|  99%|Non-2xx"
    wait $writer
    echo "    posts meanwhile: $(grep -E 'Requests/sec' "$scripts/writers.txt")"
done
