#!/usr/bin/env bash
# Makes the virtual environment VENV with the pinned PyPI packages given, unless its CHECK
# (a command run with its python) already passes; installs python3-venv when Debian lacks it.
# Usage: tools/python-venv.sh VENV CHECK PACKAGE...
set -euo pipefail
venv=$1
check=$2
shift 2
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$check" 2>/dev/null; then exit 0; fi
if ! python3 -m venv "$venv" 2>/dev/null; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet "$@"
