#!/usr/bin/env bash
# The DynamoDB Streams API's read speed beside the log's own reader, on one log in one run.
# RECORDS messages are appended, then every chat_events shard is read from TRIM_HORIZON with
# Limit=1000 by (1) `chatlog log get-records --to-end --json` (the log read in process, no HTTP),
# (2) an unmodified boto3 `dynamodbstreams` client against `chatlog serve` (SigV4, HTTP,
# DynamoDB JSON, parsed by botocore), and (3) the same signed requests sent bare, their answers
# not parsed (the server's share of (2)). Prints records/s of each, the ratios to (1), and
# GetRecords p50/p99 for full 1000-record pages.
# Usage: tools/bench-ddbstreams.sh [RECORDS]   (default 1000000; CHATLOG_BIN overrides the
# release build)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh
source tools/serve-lib.sh
records=${1:-1000000}
chatlog_binary release
venv=.build/test-venv
tools/python-venv.sh "$venv" "import boto3" 'boto3==1.43.11' 'pytest==9.0.3'
work=$(mktemp -d)
data=$work/data
cleanup() {
    kill "${server:-}" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
appenders=16
echo "appending $records messages ..." >&2
"$bin" debug append-load --data-dir "$data" --appenders $appenders --count $((records / appenders)) \
    --channels 64 >/dev/null 2>&1
shards=$("$bin" log streams --data-dir "$data" --json | "$venv/bin/python" -c '
import json, sys
print(next(s["shards"] for s in json.load(sys.stdin)["streams"] if s["name"] == "chat_events"))')
echo "reading $shards shards with chatlog log get-records ..." >&2
start=$(date +%s.%N)
for shard in $(seq 0 $((shards - 1))); do
    "$bin" log get-records --data-dir "$data" --shard "$shard" --to-end --limit 1000 --json >"$work/cli-$shard.jsonl"
done
end=$(date +%s.%N)
cli_records=$(cat "$work"/cli-*.jsonl | "$venv/bin/python" -c '
import json, sys
print(sum(len(json.loads(line)["records"]) for line in sys.stdin))')
rm -f "$work"/cli-*.jsonl
CHATLOG_RATE_LIMIT_ENABLED=false start_server "$data" "$work"
base=http://$address
# The server's consumer groups first read the whole log; the drain starts once they are done.
for _ in $(seq 600); do
    "$bin" consumers list --data-dir "$data" --json | "$venv/bin/python" -c '
import json, sys
groups = json.load(sys.stdin)["groups"]
sys.exit(0 if groups and all(s["lag"] == 0 for g in groups for s in g["shards"]) else 1)' && break
    sleep 1
done
key=$("$bin" apikey create --data-dir "$data" --scope streams:read --json)
echo "reading the same shards with boto3 through $base/ddbstreams ..." >&2
"$venv/bin/python" - "$base" "$key" "$cli_records" "$start" "$end" <<'PY'
import http.client, json, re, statistics, sys, time, urllib.parse
import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

base, key, cli_records = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
cli_seconds = float(sys.argv[5]) - float(sys.argv[4])
client = boto3.client(
    "dynamodbstreams", endpoint_url=base + "/ddbstreams", region_name="us-east-1",
    aws_access_key_id=key["accessKeyId"], aws_secret_access_key=key["secretAccessKey"],
    config=Config(read_timeout=60, retries={"max_attempts": 1}))
arn = next(s["StreamArn"] for s in client.list_streams()["Streams"] if s["TableName"] == "chat_events")
shards = client.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
credentials = Credentials(key["accessKeyId"], key["secretAccessKey"])
address = urllib.parse.urlparse(base)
connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)


def bare_get_records(iterator):
    """GetRecords signed as botocore signs it, sent bare: (records, next iterator)."""
    body = json.dumps({"ShardIterator": iterator, "Limit": 1000}).encode()
    request = AWSRequest(method="POST", url=base + "/ddbstreams", data=body, headers={
        "X-Amz-Target": "DynamoDBStreams_20120810.GetRecords", "Content-Type": "application/x-amz-json-1.0"})
    SigV4Auth(credentials, "dynamodb", "us-east-1").add_auth(request)
    connection.request("POST", "/ddbstreams", body=body, headers=dict(request.headers))
    answer = connection.getresponse().read()
    return answer.count(b'"eventID":'), re.search(rb'"NextShardIterator":"([^"]+)"', answer).group(1).decode()


def boto3_get_records(iterator):
    page = client.get_records(ShardIterator=iterator, Limit=1000)
    return len(page["Records"]), page["NextShardIterator"]


def drain(get_records):
    """Every shard from TRIM_HORIZON: (records, seconds, seconds of each full page)."""
    count, full_pages = 0, []
    started = time.perf_counter()
    for shard in shards:
        iterator = client.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while True:
            call = time.perf_counter()
            got, iterator = get_records(iterator)
            if got == 1000:
                full_pages.append(time.perf_counter() - call)
            count += got
            if got == 0:
                break
    return count, time.perf_counter() - started, sorted(full_pages)


cli_rate = cli_records / cli_seconds
print(f"records                              {cli_records} in {len(shards)} shards")
print(f"chatlog log get-records --to-end     {cli_rate:10,.0f} records/s  ({cli_seconds:.1f} s)")
for name, reader in (("boto3 GetRecords, Limit=1000", boto3_get_records),
                     ("signed GetRecords, not parsed", bare_get_records)):
    count, seconds, pages = drain(reader)
    if count != cli_records:
        sys.exit(f"{name} read {count} records, chatlog log get-records {cli_records}")
    p99 = pages[min(len(pages) - 1, int(len(pages) * 0.99))]
    print(f"{name:36} {count / seconds:10,.0f} records/s  ({seconds:.1f} s), "
          f"{(count / seconds) / cli_rate:.2f} of get-records; "
          f"1000-record page p50 {statistics.median(pages) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
PY
