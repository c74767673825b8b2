#!/usr/bin/env bash
# cortex4py 2.1.0, from PyPI in its own virtual environment, drives the Cortex API of a real
# Waggle (`/cortex/api`, a temporary embedded database) with the real analyzers of
# tests/cortex-analyzers in their own venv: definitions, enabling and changing analyzers, runs on
# values and on a file (EmlParser on an e-mail), reports waited for, artifacts, the cache,
# failures, job search and deletion, roles.
# Usage: clients/cortex4py/run.sh [path/to/waggle] [pytest args...]   (default: target/debug/waggle)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../../scripts/lib.sh"
bin="$(realpath "${1:-$ROOT/target/debug/waggle}")"
venv="$(ensure_venv cortex4py cortex4py==2.1.0 pytest==9.2.0)"
data="$(mktemp -d)"
port="${CORTEX4PY_PORT:-19120}"
export WAGGLE_ADMIN_PASSWORD="cortex4py-admin-password"
cleanup() { stop_waggle; rm -rf "$data"; }
trap cleanup EXIT
start_waggle "$bin" "$port" "$data"
cd "$here"
WAGGLE_URL="http://127.0.0.1:$port" WAGGLE_ADMIN_LOGIN="admin@waggle.local" \
    MAKE_EML="$ROOT/server/tests/analyzers/make_eml.py" \
    "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/ "${@:2}" || { echo "--- server log"; tail -50 "$data/server.log"; exit 1; }
