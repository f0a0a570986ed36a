#!/usr/bin/env bash
# Runs the benches of two chatlog binaries alternately, ROUNDS times each, and prints every
# figure's median for both and their ratio (new / old): for comparing a change with what came
# before it on the same machine in one run.
# Usage: tools/bench-compare.sh OLD_BINARY NEW_BINARY [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
old=$(realpath "$1")
new=$(realpath "$2")
rounds=${3:-3}
out=$(mktemp -d)
echo "raw output in $out" >&2
for round in $(seq "$rounds"); do
    for side in old new; do
        bin=$old
        [ "$side" = new ] && bin=$new
        echo "== round $round: $side" >&2
        "$bin" bench log --seconds 3 --open-records 1000000 --json >"$out/log-$side-$round.json" 2>/dev/null
        "$bin" bench ws --rates 1000 --seconds 5 --subscribers 2000 --messages 100 --json \
            >"$out/ws-$side-$round.json" 2>/dev/null
        CHATLOG_BIN=$bin tools/bench-http.sh 5 64 >"$out/http-$side-$round.txt" 2>/dev/null
    done
done
python3 - "$out" "$rounds" <<'PY'
import json, re, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])

def leaves(value, prefix=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, f"{prefix}[{index}]")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield prefix, float(value)

def http(path):
    figures, section = {}, None
    for line in open(path):
        if line.startswith("== "):
            section = line[3:].strip()
        elif section and "Requests/sec" in line:
            figures[f"http: {section}: req/s"] = float(line.split()[-1])
        elif section and line.strip().startswith("99%"):
            value = line.split()[-1]
            scale = {"us": 0.001, "ms": 1, "s": 1000}[re.sub(r"[0-9.]", "", value)]
            figures[f"http: {section}: p99 ms"] = float(re.sub(r"[a-z]", "", value)) * scale
    return figures

runs = {"old": [], "new": []}
for side in runs:
    for round in range(1, rounds + 1):
        figures = {}
        for bench in ("log", "ws"):
            with open(f"{out}/{bench}-{side}-{round}.json") as file:
                figures.update({f"{bench}: {k}": v for k, v in leaves(json.load(file))})
        figures.update(http(f"{out}/http-{side}-{round}.txt"))
        runs[side].append(figures)
names = [n for n in runs["old"][0] if all(n in r for r in runs["old"] + runs["new"])]
print(f"{'figure':<90} {'old median':>12} {'new median':>12} {'new/old':>8}")
for name in names:
    old = statistics.median(r[name] for r in runs["old"])
    new = statistics.median(r[name] for r in runs["new"])
    ratio = f"{new / old:.3f}" if old else "-"
    print(f"{name[:90]:<90} {old:>12.4g} {new:>12.4g} {ratio:>8}")
PY
