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
analyzers_venv="$(ensure_analyzers_venv)"
data="$(mktemp -d)"
port="${CORTEX4PY_PORT:-19120}"
export WAGGLE_ADMIN_PASSWORD="cortex4py-admin-password"
"$bin" serve --listen "127.0.0.1:$port" --data "$data" --log warn \
    --analyzers "$ROOT/tests/cortex-analyzers/analyzers" --analyzer-path "$analyzers_venv/bin" \
    >"$data/server.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/api/health" >/dev/null || { cat "$data/server.log"; exit 1; }
cd "$here"
WAGGLE_URL="http://127.0.0.1:$port" WAGGLE_ADMIN_LOGIN="admin@waggle.local" \
    MAKE_EML="$ROOT/server/tests/analyzers/make_eml.py" \
    "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/ "${@:2}" || { echo "--- server log"; tail -50 "$data/server.log"; exit 1; }
