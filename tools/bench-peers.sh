#!/usr/bin/env bash
# Durable ingest beside the systems a user would weigh it against, in one run:
#   - `chatlog bench log` at 1, 16 and 256 appenders, each level followed at once by raw LMDB
#     committing as many records per synced commit as chatlog did;
#   - Redis Streams (`redis-server`, AOF with `appendfsync always`, on loopback) taking XADD
#     with 200-byte values from `redis-benchmark` at the same concurrencies, alternating with
#     chatlog level by level;
#   - batch ingest: `POST /v1/events/batch` with 100 events per request on 16 connections
#     (wrk) against a release `chatlog serve`, beside XADD pipelined 16 deep (`-P 16`) from 16
#     clients, and beside a bare Hummingbird route that parses the same body with chatlog's
#     parser and answers every entry but stores nothing (`chatlog debug echo-server`): the
#     ceiling of HTTP and JSON on this machine.
# Prints every figure and ratio; --json prints one JSON object on standard output instead;
# --write-docs also rewrites the table in docs/benchmarks.md from that object.
# Usage: tools/bench-peers.sh [--seconds S] [--rounds R] [--json] [--write-docs]
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh
seconds=3
rounds=2
json=false
write_docs=false
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --json) json=true; shift ;;
    --write-docs) write_docs=true; shift ;;
    *) echo "usage: tools/bench-peers.sh [--seconds S] [--rounds R] [--json] [--write-docs]" >&2; exit 2 ;;
    esac
done
tools/install-deps.sh --bench >&2
source tools/serve-lib.sh
chatlog_binary release
out=$(mktemp -d)
redis_port=16390
echo_port=18391
cleanup() {
    redis-cli -p $redis_port shutdown nosave >/dev/null 2>&1 || true
    kill "${server:-}" "${echo_server:-}" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$out"
}
trap cleanup EXIT
mkdir "$out/redis"
redis-server --port $redis_port --bind 127.0.0.1 --dir "$out/redis" --appendonly yes \
    --appendfsync always --save '' --daemonize yes --logfile "$out/redis/log" >/dev/null
for _ in $(seq 100); do redis-cli -p $redis_port ping >/dev/null 2>&1 && break; sleep 0.1; done
value=$(printf 'x%.0s' $(seq 200))

# XADD at a concurrency for about `seconds`: redis-benchmark counts requests, not time, so a
# short probe sizes the run.
redis_xadd() { # clients pipeline name
    local clients=$1 pipeline=$2 name=$3 probe rate requests
    probe=$(redis-benchmark -p $redis_port -c "$clients" -P "$pipeline" -n $((clients * pipeline * 20)) --csv \
        XADD bench '*' f "$value" | tail -1 | cut -d, -f2 | tr -d '"')
    rate=${probe%.*}
    requests=$(( rate * ${seconds%.*} ))
    [ "$requests" -ge $((clients * pipeline * 4)) ] || requests=$((clients * pipeline * 4))
    redis-benchmark -p $redis_port -c "$clients" -P "$pipeline" -n "$requests" --csv XADD bench '*' f "$value" \
        | tail -1 >"$out/$name.csv"
    redis-cli -p $redis_port del bench >/dev/null
}

for round in $(seq "$rounds"); do
    for level in 1 16 256; do
        echo "== round $round, $level appenders: chatlog bench log, then redis XADD" >&2
        "$bin" bench log --appenders $level --seconds "$seconds" --open-records 0 --json \
            >"$out/log-$level-$round.json" 2>>"$out/log.txt"
        redis_xadd $level 1 "redis-$level-$round"
    done
done

echo "== batch ingest: POST /v1/events/batch, 100 events per request, 16 connections" >&2
mkdir "$out/data" "$out/logs"
export CHATLOG_RATE_LIMIT_ENABLED=false
start_server "$out/data" "$out/logs"
"$bin" debug echo-server --port $echo_port >/dev/null 2>&1 &
echo_server=$!
for _ in $(seq 100); do curl -s -o /dev/null "localhost:$echo_port/" && break; sleep 0.1; done
apikey=$("$bin" apikey create --data-dir "$out/data" --name bench | tail -1)
python3 - "$out/batch.lua" "$apikey" <<'PY'
import json, sys
events = [{"source": "billing", "eventType": "invoice.paid",
           "payload": {"invoice": f"in_{i:04}", "amount": 1299}} for i in range(100)]
body = json.dumps({"events": events})
with open(sys.argv[1], "w") as script:
    script.write('wrk.method = "POST"\n')
    script.write("wrk.body = " + json.dumps(body) + "\n")
    script.write('wrk.headers["Content-Type"] = "application/json"\n')
    script.write(f'wrk.headers["X-API-Key"] = "{sys.argv[2]}"\n')
PY
check=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$address/v1/events/batch" \
    -H "X-API-Key: $apikey" -H 'content-type: application/json' --data-binary @<(python3 -c "
import json; print(json.dumps({'events': [{'source': 's', 'eventType': 't', 'payload': {}}]}))"))
[ "$check" = 200 ] || { echo "the batch route answered $check" >&2; exit 1; }
for round in $(seq "$rounds"); do
    wrk -t2 -c16 -d"${seconds}s" --latency -s "$out/batch.lua" "http://$address/v1/events/batch" \
        >"$out/batch-$round.txt"
    redis_xadd 16 16 "redis-pipelined-$round"
    wrk -t2 -c16 -d"${seconds}s" --latency -s "$out/batch.lua" "http://localhost:$echo_port/echo-batch" \
        >"$out/echo-batch-$round.txt"
done
grep -c '"event.created"' /dev/null >/dev/null || true

python3 - "$out" "$rounds" "$json" "$write_docs" <<'PY'
import datetime, json, re, statistics, subprocess, sys
out, rounds, as_json, write_docs = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "true", sys.argv[4] == "true"
median = statistics.median

def redis(name):
    fields = open(f"{out}/{name}.csv").read().strip().split('","')
    return {"perSecond": float(fields[1]), "p50Milliseconds": float(fields[4]), "p99Milliseconds": float(fields[6])}

def wrk(path):
    text = open(path).read()
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", text).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return rate, int(errors.group(1)) if errors else 0

levels = []
for level in (1, 16, 256):
    logs = [json.load(open(f"{out}/log-{level}-{r}.json"))["append"][0] for r in range(1, rounds + 1)]
    redises = [redis(f"redis-{level}-{r}") for r in range(1, rounds + 1)]
    chatlog = median(l["recordsPerSecond"] for l in logs)
    raw = median(l["rawLMDBSameRecordsPerCommit"]["recordsPerSecond"] for l in logs)
    xadd = median(r["perSecond"] for r in redises)
    levels.append({
        "appenders": level,
        "chatlogPerSecond": round(chatlog),
        "chatlogP99Microseconds": median(l["p99Microseconds"] for l in logs),
        "recordsPerCommit": median(l["recordsPerCommit"] for l in logs),
        "syncsPerCommit": median(l["syncsPerCommit"] for l in logs),
        "rawLMDBPerSecond": round(raw),
        "rawLMDBRecordsPerCommit": median(l["rawLMDBSameRecordsPerCommit"]["recordsPerCommit"] for l in logs),
        "rawLMDBCommitP99Microseconds": median(
            l["rawLMDBSameRecordsPerCommit"]["commitP99Microseconds"] for l in logs),
        "redisPerSecond": round(xadd),
        "ofRawLMDB": round(median(l["ofRawLMDB"] for l in logs), 3),
        "rawLMDBSameWritesPerSecond": round(median(l["rawLMDBSameWrites"]["recordsPerSecond"] for l in logs)),
        "ofRawLMDBSameWrites": round(median(l["ofRawLMDBSameWrites"] for l in logs), 3),
        "ofRedis": round(chatlog / xadd, 3),
        "perRound": {"chatlog": [l["recordsPerSecond"] for l in logs], "redis": [r["perSecond"] for r in redises]},
    })
batches = [wrk(f"{out}/batch-{r}.txt") for r in range(1, rounds + 1)]
pipelined = [redis(f"redis-pipelined-{r}")["perSecond"] for r in range(1, rounds + 1)]
batch_events = median(rate for rate, _ in batches) * 100
echo_events = median(wrk(f"{out}/echo-batch-{r}.txt")[0] for r in range(1, rounds + 1)) * 100
batch = {
    "eventsPerSecond": round(batch_events),
    "requestsPerSecond": round(median(rate for rate, _ in batches)),
    "failedRequests": sum(errors for _, errors in batches),
    "redisPipelinedPerSecond": round(median(pipelined)),
    "ofRedisPipelined": round(batch_events / median(pipelined), 3),
    "bareRouteEventsPerSecond": round(echo_events),
    "bareRouteOfRedisPipelined": round(echo_events / median(pipelined), 3),
    "ofBareRoute": round(batch_events / echo_events, 3),
}
machine = {
    "date": datetime.date.today().isoformat(),
    "cores": int(subprocess.run(["nproc"], capture_output=True, text=True).stdout),
    "redis": subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()[2].removeprefix("v="),
    "rounds": rounds,
}
report = {"machine": machine, "append": levels, "batch": batch}

for level in levels:
    print(f"appenders={level['appenders']:<4} chatlog {level['chatlogPerSecond']:>8}/s "
          f"({level['recordsPerCommit']} records/commit, {level['syncsPerCommit']} syncs/commit)  "
          f"raw LMDB at {level['rawLMDBRecordsPerCommit']}/commit {level['rawLMDBPerSecond']:>8}/s  "
          f"Redis XADD always-fsync {level['redisPerSecond']:>8}/s  "
          f"(with the log's write set {level['rawLMDBSameWritesPerSecond']:>8}/s)  "
          f"-> {level['ofRawLMDB']:.2f} of raw LMDB ({level['ofRawLMDBSameWrites']:.2f} of it with the same "
          f"writes), {level['ofRedis']:.2f} of Redis", file=sys.stderr)
print(f"batch: {batch['eventsPerSecond']} events/s ({batch['requestsPerSecond']} requests/s of 100, "
      f"{batch['failedRequests']} failed)  Redis XADD -P 16 -c 16 {batch['redisPipelinedPerSecond']}/s "
      f"-> {batch['ofRedisPipelined']:.2f} of Redis; the bare route parsing the same batches "
      f"{batch['bareRouteEventsPerSecond']} events/s ({batch['bareRouteOfRedisPipelined']:.2f} of Redis; "
      f"chatlog {batch['ofBareRoute']:.2f} of it)", file=sys.stderr)
if as_json:
    print(json.dumps(report, indent=2))

if write_docs:
    rows = "\n".join(
        f"| {l['appenders']} | {l['chatlogPerSecond']:,}/s ({l['recordsPerCommit']} records, "
        f"{l['syncsPerCommit']} syncs per commit; p99 {l['chatlogP99Microseconds'] / 1000:.1f} ms) "
        f"| {l['rawLMDBPerSecond']:,}/s at {l['rawLMDBRecordsPerCommit']} per commit "
        f"| {l['rawLMDBSameWritesPerSecond']:,}/s "
        f"| {l['redisPerSecond']:,}/s | **{l['ofRawLMDB']:.2f}** | {l['ofRawLMDBSameWrites']:.2f} "
        f"| **{l['ofRedis']:.2f}** |"
        for l in levels)
    table = f"""<!-- bench-peers: begin (written by tools/bench-peers.sh --write-docs; do not edit) -->
Measured {machine['date']} on {machine['cores']} cores, medians of {machine['rounds']} alternating rounds, Redis {machine['redis']}:

| appenders | chatlog `bench log` (strict) | raw LMDB, same records per commit | raw LMDB, same commits making the log's writes | Redis XADD, `appendfsync always` | of raw LMDB | of raw LMDB with the log's writes | of Redis |
|---|---|---|---|---|---|---|---|
{rows}

"The log's writes": each record also puts a 16-byte link under its key and its channel's head
(one of 1,000 channels, at random), and each touched shard's counters once per commit; the
records go to four shards. That is the page footprint of a chatlog commit without chatlog's
code: the gap between the two raw columns is what the layout (channel sequence numbers,
resumable per-channel reads) costs in LMDB.

Batch ingest, `POST /v1/events/batch` with 100 events per request on 16 connections, durable:
{batch['eventsPerSecond']:,} events/s ({batch['failedRequests']} failed requests), against Redis XADD
pipelined `-P 16` from 16 clients at {batch['redisPipelinedPerSecond']:,}/s: **{batch['ofRedisPipelined']:.2f}** of it. A bare
Hummingbird route that parses the same batches with chatlog's parser and answers every entry,
storing nothing, took {batch['bareRouteEventsPerSecond']:,} events/s ({batch['bareRouteOfRedisPipelined']:.2f} of Redis): chatlog reached
{batch['ofBareRoute']:.2f} of that ceiling.
<!-- bench-peers: end -->"""
    path = "docs/benchmarks.md"
    text = open(path).read()
    pattern = re.compile(r"<!-- bench-peers: begin.*?<!-- bench-peers: end -->", re.S)
    if not pattern.search(text):
        sys.exit("docs/benchmarks.md has no bench-peers markers")
    open(path, "w").write(pattern.sub(lambda _: table, text))
    print("wrote the table in docs/benchmarks.md", file=sys.stderr)
PY
