#!/usr/bin/env bash
# Builds chatlog (release) and runs it; with no arguments, `chatlog serve` on ./data.
# Any arguments are passed to chatlog instead: tools/run.sh log stats, tools/run.sh bench log.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh
tools/install-deps.sh
swift build -c release --product chatlog >&2
if [ $# -eq 0 ]; then set -- serve; fi
exec .build/release/chatlog "$@"
