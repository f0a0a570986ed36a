#!/usr/bin/env bash
# Cross-node delivery and failover on a fresh loopback cluster: builds chatlog (release),
# starts three nats-servers and two nodes (tools/cluster.sh) in a temporary directory, runs
# `chatlog bench cluster --failover` against them, and stops everything. Arguments go to the
# bench (--rates, --seconds, --json).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh
swift build -c release --product chatlog >&2
dir=$(mktemp -d)
trap 'CLUSTER_DIR=$dir tools/cluster.sh down >/dev/null; rm -rf "$dir"' EXIT
# One client address sends every request: no rate or connection limits for it.
export CHATLOG_RATE_LIMIT_ENABLED=false CHATLOG_HTTP_MAX_CONNECTIONS_PER_ADDRESS=1000000
CLUSTER_DIR=$dir CHATLOG_BINARY=.build/release/chatlog tools/cluster.sh up >&2
.build/release/chatlog bench cluster --cluster-dir "$dir" --failover "$@"
