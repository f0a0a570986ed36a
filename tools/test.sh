#!/usr/bin/env bash
# Installs what the tests need, then builds and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh
tools/install-deps.sh
swift build --build-tests
swift test --skip-build
