#!/usr/bin/env bash
# Checks formatting with the repository's .swift-format.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh
swift format lint --strict --recursive Package.swift Sources Tests examples/swift
