#!/usr/bin/env bash
# Installs what the tests need, then builds and runs the whole test suite; the Python suites
# (boto3 against the DynamoDB Streams API, the console in Chromium, the example clients, the
# OpenAPI document and the docs' links); the Debian package, installed into a clean tree; then
# a short fuzz run against the server (tools/fuzz.sh; its long run is tools/fuzz.sh with no
# argument).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh
tools/install-deps.sh --tests --package
swift build --build-tests
swift test --skip-build
swift build --product chatlog
tools/test-python.sh
tools/test-package.sh
tools/fuzz.sh --short
