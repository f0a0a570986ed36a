#!/usr/bin/env bash
# Installs what building and testing chatlog needs on Debian: LMDB's headers and library.
# Swift itself is expected at /opt/swift or on PATH.
set -euo pipefail

missing=()
dpkg -s liblmdb-dev >/dev/null 2>&1 || missing+=(liblmdb-dev)
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
