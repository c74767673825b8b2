#!/usr/bin/env bash
# Run the whole test suite: unit and API tests (real server on 127.0.0.1, temporary embedded
# databases), the real Python clients (thehive4py and cortex4py from PyPI), then the browser tests (headless
# Debian Chromium driven by playwright-core).
# Installs what is missing first (the wasm toolchain, Chromium, slapd, poppler-utils, Node and Python
# packages, the analyzers' Python environment). CI runs exactly this (.ci/run).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
start=$(date +%s)

ensure_openssl_dev
ensure_wasm_toolchain
ensure_chromium
ensure_slapd
ensure_poppler
ensure_node_packages

# The patched storage engine's own tests (upstream's suite and one test per Waggle fix:
# vendor/README.md). A crate of its own (not a workspace member), with its own Cargo.lock and
# target directory; ~1 min built, 20-50 s run. The crash tests' memtable override must not
# reach it.
log "storage engine tests (vendor/surrealkv)"
(cd "$ROOT/vendor/surrealkv" \
    && env -u SURREALKV_MAX_MEMTABLE_SIZE CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/vendor" \
        cargo test --locked -q)

build_ui
log "building the server and its tests"
cargo build -p server --bins --tests
# The binary the clients and the browser tests run (CI may point CARGO_TARGET_DIR elsewhere).
waggle="${CARGO_TARGET_DIR:-$ROOT/target}/debug/waggle"

log "unit and API tests"
# The analysis tests run the real Cortex analyzers (tests/cortex-analyzers) in their venv.
WAGGLE_ANALYZERS_VENV="$(ensure_analyzers_venv)"
export WAGGLE_ANALYZERS_VENV WAGGLE_REQUIRE_ANALYZERS=1
cargo test -p server
cargo test -p app --features ssr

log "real clients: thehive4py 1.8.2 and 2.1.0, cortex4py 2.1.0"
"$ROOT/clients/thehive4py1/run.sh" "$waggle"
"$ROOT/clients/thehive4py2/run.sh" "$waggle"
"$ROOT/clients/cortex4py/run.sh" "$waggle"

log "browser tests"
"$ROOT/end2end/run.sh" "$waggle"

log "all tests passed in $(( $(date +%s) - start )) s"
