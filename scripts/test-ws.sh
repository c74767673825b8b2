#!/usr/bin/env bash
# Waggle on a SurrealDB server (ws://) instead of the embedded engine: two Waggle processes on
# one database (server/tests/instances.rs), the crash test with Waggle killed (crash.rs), then
# the thehive4py 1.x and cortex4py suites and the browser tests, each runner's Waggle on a
# `surreal start` of its own
# (SurrealDB's server, built once from crates.io at the embedded engine's version:
# tools/surreal-server, ~20 min the first time, cached in target/surreal-server).
# Usage: scripts/test-ws.sh [path/to/waggle]   (default: target/debug/waggle, built if missing)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bin="${1:-$ROOT/target/debug/waggle}"
if [ ! -x "$bin" ]; then
    ensure_openssl_dev
    ensure_wasm_toolchain
    build_ui
    cargo build -p server --bins
fi
ensure_node_packages
ensure_chromium
WAGGLE_TEST_SURREAL="$(ensure_surreal_server)"
export WAGGLE_TEST_SURREAL
started=$SECONDS
log "two Waggle processes on one SurrealDB server; SIGKILL of Waggle on a SurrealDB server"
cargo test -p server --test instances --test crash -- --nocapture two_waggle_processes jobs_of_a_killed analyzer_budgets surrealdb_server
log "thehive4py 1.x against Waggle on a SurrealDB server"
clients/thehive4py1/run.sh "$bin"
log "cortex4py against Waggle on a SurrealDB server"
clients/cortex4py/run.sh "$bin"
log "browser tests against Waggle on a SurrealDB server"
end2end/run.sh "$bin"
log "all ws:// tests passed in $((SECONDS - started)) s"
