#!/usr/bin/env bash
# Installs what building and testing chatlog needs on Debian: LMDB's and the NATS C client's
# headers and libraries, and nats-server for the JetStream backend's tests and tools/cluster.sh;
# with --tests also chromium and its driver for the console's browser tests; with --bench also
# redis-server, redis-tools and wrk for tools/bench-peers.sh; with --package patchelf and
# fakeroot for tools/package.sh and tools/test-package.sh.
# Swift itself is expected at /opt/swift or on PATH.
set -euo pipefail

missing=()
packages=(liblmdb-dev libnats-dev nats-server)
for option in "$@"; do
    case "$option" in
    --tests) packages+=(chromium chromium-driver) ;;
    --bench) packages+=(redis-server redis-tools wrk) ;;
    --package) packages+=(patchelf fakeroot) ;;
    *) echo "usage: tools/install-deps.sh [--tests] [--bench] [--package]" >&2; exit 2 ;;
    esac
done
for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
