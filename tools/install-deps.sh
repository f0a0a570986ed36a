#!/usr/bin/env bash
# Installs what building and testing chatlog needs on Debian: LMDB's and the NATS C client's
# headers and libraries, nats-server for the JetStream backend's tests and tools/cluster.sh, and
# chromium with its driver for the console's browser tests.
# Swift itself is expected at /opt/swift or on PATH.
set -euo pipefail

missing=()
for package in liblmdb-dev libnats-dev nats-server chromium chromium-driver; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
