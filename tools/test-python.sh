#!/usr/bin/env bash
# The Python suites against a real `chatlog serve`: tests/ddbstreams drives an unmodified
# boto3, tests/console a headless Chromium (Debian's chromium and chromium-driver),
# tests/examples the example clients; tests/docs validates /openapi.json and checks the links
# of README and docs/.
# Their tools live in a virtual environment of their own under .build; CHATLOG_BIN overrides
# the binary (default: the debug build). Usage: tools/test-python.sh [pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build/test-venv
tools/python-venv.sh "$venv" "import boto3, openapi_spec_validator, pytest, requests, selenium, websockets" \
    'boto3==1.43.11' 'openapi-spec-validator==0.9.0' 'pytest==9.0.3' 'requests==2.34.2' 'selenium==4.50.0' \
    'websockets==17.4'
export CHATLOG_BIN=${CHATLOG_BIN:-$PWD/.build/debug/chatlog}
# Every call in the tests has its own time limit; this one bounds the whole run.
timeout 900 "$venv/bin/pytest" -q tests "$@"
