#!/usr/bin/env bash
# Run the browser tests against a real Waggle. Each test file gets its own server on a fresh
# temporary embedded database, so no test depends on what another one left behind.
# Usage: end2end/run.sh path/to/waggle [tests/NAME.test.mjs ...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../scripts/lib.sh"
bin="$(realpath "$1")"
shift
port="${E2E_PORT:-19000}"
export WAGGLE_ADMIN_PASSWORD="e2e-admin-password"
mkdir -p "$here/screenshots"
cd "$here"
if [ $# -eq 0 ]; then set -- tests/*.test.mjs; fi

data=""
stop_server() {
    stop_waggle
    if [ -n "$data" ]; then rm -rf "$data"; fi
    data=""
}
trap stop_server EXIT

for test in "$@"; do
    data="$(mktemp -d)"
    start_waggle "$bin" "$port" "$data"
    echo "=== $test"
    WAGGLE_URL="http://127.0.0.1:$port" WAGGLE_ADMIN_LOGIN="admin@waggle.local" WAGGLE_BIN="$bin" E2E_TLS_PORT="$((port + 1))" \
        node --test --test-concurrency=1 "$test" || { echo "--- server log"; tail -50 "$data/server.log"; exit 1; }
    stop_server
done
