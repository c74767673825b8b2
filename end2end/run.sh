#!/usr/bin/env bash
# Start a real Waggle on a temporary embedded database and run the browser tests against it.
# Usage: end2end/run.sh path/to/waggle
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$(realpath "$1")"
data="$(mktemp -d)"
port="${E2E_PORT:-19000}"
export WAGGLE_ADMIN_PASSWORD="e2e-admin-password"
"$bin" serve --listen "127.0.0.1:$port" --data "$data" --log warn >"$data/server.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -fsS "http://127.0.0.1:$port/api/health" >/dev/null || { cat "$data/server.log"; exit 1; }
mkdir -p "$here/screenshots"
cd "$here"
WAGGLE_URL="http://127.0.0.1:$port" WAGGLE_ADMIN_LOGIN="admin@waggle.local" \
    node --test --test-concurrency=1 tests/ || { echo "--- server log"; tail -50 "$data/server.log"; exit 1; }
