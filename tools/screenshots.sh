#!/usr/bin/env bash
# Refreshes the README's console screenshots from the browser tests: runs the chat and the
# operator tests against a debug build, then copies their screenshots to docs/images/.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh
tools/install-deps.sh --tests
swift build --product chatlog >&2
tools/test-python.sh tests/console -k "alice_and_bob or operator"
mkdir -p docs/images
cp .build/test-output/console/alice-chat.png docs/images/console-chat.png
cp .build/test-output/console/operator-operate.png docs/images/console-operate.png
echo "updated docs/images/console-chat.png and docs/images/console-operate.png"
