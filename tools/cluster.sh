#!/usr/bin/env bash
# A chatlog cluster on this machine's loopback: three nats-server processes forming one
# JetStream cluster, and two chatlog nodes over it, each with its own data directory and port.
#
#   tools/cluster.sh up       build chatlog (release), start everything, wait until both nodes
#                             answer /v1/ready, and print where they listen
#   tools/cluster.sh status   which processes run, each node's readiness, JetStream's streams
#   tools/cluster.sh down     stop everything (SIGTERM); the data stays in CLUSTER_DIR
#
# CHATLOG_BINARY runs that chatlog instead of building a release one.
# CLUSTER_DIR (default ./cluster) holds each server's store, each node's data directory,
# logs and pid files. Ports: NATS clients 4222-4224, routes 6222-6224, monitoring 8222-8224;
# chatlog nodes 8081 and 8082. Tokens: CHATLOG_JWT_SECRET=$(cat CLUSTER_DIR/jwt-secret)
# .build/release/chatlog token --user alice
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${CLUSTER_DIR:-./cluster}
servers=(0 1 2)
nodes=(1 2)
nats_urls="nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

nats_server() {
    for candidate in /usr/sbin/nats-server /usr/bin/nats-server "$(command -v nats-server || true)"; do
        if [ -x "$candidate" ]; then
            echo "$candidate"
            return
        fi
    done
    echo "nats-server is not installed: tools/install-deps.sh installs it" >&2
    exit 1
}

wait_for() { # what, command...
    local what=$1
    shift
    for _ in $(seq 1 300); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    echo "timed out waiting for $what" >&2
    return 1
}

up() {
    tools/install-deps.sh
    local chatlog=${CHATLOG_BINARY:-}
    if [ -z "$chatlog" ]; then
        source tools/env.sh
        swift build -c release --product chatlog >&2
        chatlog=.build/release/chatlog
    fi
    local binary
    binary=$(nats_server)
    mkdir -p "$dir"
    [ -f "$dir/jwt-secret" ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/jwt-secret"
    chmod 600 "$dir/jwt-secret"
    for i in "${servers[@]}"; do
        local name="nats$i"
        alive "$dir/$name.pid" && continue
        mkdir -p "$dir/$name"
        cat >"$dir/$name.conf" <<EOF
server_name: $name
listen: 127.0.0.1:$((4222 + i))
http: 127.0.0.1:$((8222 + i))
jetstream { store_dir: "$dir/$name" }
cluster {
  name: chatlog
  listen: 127.0.0.1:$((6222 + i))
  routes: [nats-route://127.0.0.1:6222, nats-route://127.0.0.1:6223, nats-route://127.0.0.1:6224]
}
EOF
        "$binary" -c "$dir/$name.conf" >"$dir/$name.log" 2>&1 &
        echo $! >"$dir/$name.pid"
    done
    for i in "${servers[@]}"; do
        wait_for "nats$i's JetStream" curl -sf "http://127.0.0.1:$((8222 + i))/healthz?js-enabled-only=true"
    done
    # The servers answer before they have elected JetStream's meta leader: retry until then.
    local applied attempt
    for attempt in $(seq 1 100); do
        if applied=$(CHATLOG_JWT_SECRET=$(cat "$dir/jwt-secret") "$chatlog" cluster apply \
            --storage jetstream --nats "$nats_urls" 2>&1); then
            echo "$applied"
            break
        fi
        if [ "$attempt" = 100 ]; then
            echo "$applied" >&2
            return 1
        fi
        sleep 0.2
    done
    for n in "${nodes[@]}"; do
        local name="node$n"
        alive "$dir/$name.pid" && continue
        CHATLOG_JWT_SECRET=$(cat "$dir/jwt-secret") "$chatlog" serve \
            --data-dir "$dir/$name" --port $((8080 + n)) --storage jetstream --nats "$nats_urls" \
            >"$dir/$name.log" 2>&1 &
        echo $! >"$dir/$name.pid"
    done
    for n in "${nodes[@]}"; do
        wait_for "node$n to be ready" curl -sf "http://127.0.0.1:$((8080 + n))/v1/ready"
    done
    status
}

status() {
    for i in "${servers[@]}"; do
        if alive "$dir/nats$i.pid"; then
            echo "nats$i   running  nats://127.0.0.1:$((4222 + i))  (monitoring http://127.0.0.1:$((8222 + i)))"
        else
            echo "nats$i   stopped"
        fi
    done
    for n in "${nodes[@]}"; do
        local state=stopped
        if alive "$dir/node$n.pid"; then
            state=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((8080 + n))/v1/ready" || true)
            [ "$state" = 200 ] && state="ready   " || state="not ready ($state)"
        fi
        echo "node$n   $state http://127.0.0.1:$((8080 + n))  (data $dir/node$n)"
    done
    for i in "${servers[@]}"; do
        if alive "$dir/nats$i.pid"; then
            curl -s "http://127.0.0.1:$((8222 + i))/jsz" | python3 -c '
import json, sys
info = json.load(sys.stdin)
leader = info.get("meta_cluster", {}).get("leader", "?")
print("jetstream: %s streams, %s messages, %s bytes; meta leader %s"
      % (info.get("streams", 0), info.get("messages", 0), info.get("bytes", 0), leader))
' || true
            break
        fi
    done
}

down() {
    for pidfile in "$dir"/node*.pid "$dir"/nats*.pid; do
        [ -f "$pidfile" ] || continue
        if alive "$pidfile"; then
            local pid
            pid=$(cat "$pidfile")
            kill "$pid"
            for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        fi
        rm -f "$pidfile"
    done
    echo "stopped; the data is still in $dir (remove it to start afresh)"
}

case "${1:-}" in
    up) up ;;
    status) status ;;
    down) down ;;
    *)
        echo "usage: tools/cluster.sh up | status | down" >&2
        exit 2
        ;;
esac
