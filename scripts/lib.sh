# Shared by scripts/run.sh and scripts/test.sh: install what is missing, from the registries only.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRUNK_VERSION=0.21.14
WASM_BINDGEN_VERSION=0.2.130
WASM_SPLIT_VERSION=0.2.4
# wasm-opt from npm's binaryen (Debian's 108 breaks current wasm-bindgen output).
BINARYEN_VERSION=132.0.0
UI_TOOLS="$ROOT/target/tools"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

log() { printf '\033[1;33m==> %s\033[0m\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "need root to run: $*" >&2; return 1; fi
}

APT_UPDATED=""
apt_install() {
    if [ -z "$APT_UPDATED" ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

ensure_wasm_toolchain() {
    if ! rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
        log "adding the wasm32-unknown-unknown target"
        rustup target add wasm32-unknown-unknown
    fi
    if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION"; then
        log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (~3 min)"
        # Not --locked: one locked dependency version is missing from the registry.
        cargo install wasm-bindgen-cli@"$WASM_BINDGEN_VERSION" --force
    fi
    if ! trunk --version 2>/dev/null | grep -q " $TRUNK_VERSION"; then
        log "installing trunk $TRUNK_VERSION (~10 min)"
        cargo install trunk@"$TRUNK_VERSION" --locked --force
    fi
    if ! command -v wasm-split-cli >/dev/null || [ "$(cat "${CARGO_HOME:-$HOME/.cargo}/.wasm-split-version" 2>/dev/null)" != "$WASM_SPLIT_VERSION" ]; then
        log "installing wasm-split-cli (wasm_split_cli_support $WASM_SPLIT_VERSION, ~3 min)"
        cargo install wasm_split_cli_support@"$WASM_SPLIT_VERSION" --features build-binary --locked --force
        echo "$WASM_SPLIT_VERSION" > "${CARGO_HOME:-$HOME/.cargo}/.wasm-split-version"
    fi
    ensure_node
    if ! "$UI_TOOLS/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version ${BINARYEN_VERSION%%.*}"; then
        log "installing wasm-opt (npm binaryen $BINARYEN_VERSION) into target/tools"
        mkdir -p "$UI_TOOLS"
        npm install --prefix "$UI_TOOLS" --no-audit --no-fund --silent "binaryen@$BINARYEN_VERSION" >&2
    fi
}

# Node runs the UI build's precompression hook, wasm-opt (npm binaryen) and the browser tests.
ensure_node() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        log "installing Debian's nodejs and npm"
        apt_install nodejs npm
    fi
}

ensure_openssl_dev() {
    if ! pkg-config --exists openssl 2>/dev/null; then
        log "installing libssl-dev and pkg-config"
        apt_install libssl-dev pkg-config
    fi
}

ensure_chromium() {
    if ! command -v chromium >/dev/null; then
        log "installing Debian's chromium"
        apt_install chromium
    fi
}

# OpenLDAP's slapd and its client tools: the directory sign-in tests start their own slapd
# (server/tests/slapd); the packaged system instance is not used.
ensure_slapd() {
    if [ ! -x /usr/sbin/slapd ] || ! command -v ldapadd >/dev/null; then
        log "installing slapd and ldap-utils (the LDAP tests' directory)"
        apt_install slapd ldap-utils
    fi
}

# poppler-utils' pdftotext: the report tests read the text of the PDFs Waggle writes
# (server/tests/reports.rs); Waggle itself needs no external tool to write them.
ensure_poppler() {
    if ! command -v pdftotext >/dev/null; then
        log "installing poppler-utils (pdftotext, for the report tests)"
        apt_install poppler-utils
    fi
}

ensure_node_packages() {
    ensure_node
    if [ ! -d "$ROOT/end2end/node_modules/playwright-core" ]; then
        log "installing end2end Node packages (playwright-core drives Debian's chromium)"
        (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
    fi
}

# A Python virtual environment per client version (thehive4py 1.x and 2.x cannot share one).
ensure_venv() { # name, pip requirement...
    local name="$1"; shift
    local dir="$ROOT/target/venv-$name"
    if [ ! -x "$dir/bin/python" ] || ! "$dir/bin/pip" show "${1%%=*}" >/dev/null 2>&1; then
        log "creating Python venv $name: $*"
        python3 -m venv "$dir"
        "$dir/bin/pip" install -q --disable-pip-version-check "$@"
    fi
    echo "$dir"
}

# The WASM build has its own target directory, so it never waits for the server's build lock.
build_ui() {
    log "building the web UI (trunk build --release)"
    # Trunk builds the CSS and copies public/; its hook scripts/build-wasm.sh builds the WASM in
    # parts (wasm-split-cli, wasm-bindgen, wasm-opt found on PATH) and precompresses everything.
    (cd "$ROOT" && PATH="$UI_TOOLS/node_modules/.bin:$PATH" \
        CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}/wasm" trunk build --release)
}

# The Python environment in which the Cortex analyzers of tests/cortex-analyzers run:
# cortexutils 2.2.1 plus each analyzer's requirements.txt (all from PyPI wheels; python-magic
# needs Debian's libmagic1). A stamp holding a hash of the requirement files makes a second call
# instant; a change rebuilds the venv. Analyzers start with `#!/usr/bin/env python3`: run them
# with PATH="$dir/bin:$PATH".
ensure_analyzers_venv() {
    local dir="$ROOT/target/venv-analyzers"
    local analyzers="$ROOT/tests/cortex-analyzers/analyzers"
    local reqs=() args=() f stamp
    for f in "$analyzers"/*/requirements.txt; do
        [ -f "$f" ] && reqs+=("$f") && args+=(-r "$f")
    done
    stamp="$( { echo "cortexutils==2.2.1"; python3 --version; cat "${reqs[@]}" /dev/null; } \
        | sha256sum | cut -d' ' -f1)"
    if [ ! -x "$dir/bin/python" ] || [ "$(cat "$dir/.requirements-stamp" 2>/dev/null)" != "$stamp" ]; then
        if ! dpkg-query -W -f='${Status}' libmagic1 2>/dev/null | grep -q 'ok installed'; then
            log "installing libmagic1 (python-magic, used by EmlParser)"
            apt_install libmagic1
        fi
        log "creating Python venv analyzers: cortexutils==2.2.1 and ${#reqs[@]} requirements.txt (~15 s)"
        python3 -m venv --clear "$dir" &&
            "$dir/bin/pip" install -q --disable-pip-version-check "cortexutils==2.2.1" "${args[@]}" >&2 ||
            { log "installing the analyzers' requirements failed"; return 1; }
        echo "$stamp" > "$dir/.requirements-stamp"
    fi
    echo "$dir"
}

# SurrealDB's own server (`surreal`), built once from crates.io at the embedded engine's version
# (tools/surreal-server, its own workspace) into target/surreal-server; prints its path.
ensure_surreal_server() {
    local dir="$ROOT/target/surreal-server"
    if [ ! -x "$dir/release/surreal" ] || [ "$ROOT/tools/surreal-server/Cargo.lock" -nt "$dir/release/surreal" ]; then
        log "building SurrealDB's server (surrealdb-server 3.3.5, tools/surreal-server; ~20 min the first time)"
        CARGO_TARGET_DIR="$dir" cargo build --release --locked --manifest-path "$ROOT/tools/surreal-server/Cargo.toml" >&2
    fi
    echo "$dir/release/surreal"
}

# Start a Waggle for a test run: `start_waggle BIN PORT DATA [serve options...]`, on
# 127.0.0.1:PORT with its data in DATA (its log in DATA/server.log) and the bundled analyzers;
# returns once /api/health answers, with the process id in WAGGLE_PID. A server that does not
# come up is stopped, its log printed, and the call fails.
#
# With WAGGLE_TEST_SURREAL set (the path of a `surreal` binary, see scripts/test-ws.sh), the
# Waggle runs on a SurrealDB server of its own instead of the embedded engine: `surreal start`
# on 127.0.0.1:PORT+1000 with its data in DATA/surreal (surrealkv), stopped with the Waggle
# (SURREAL_PID).
start_waggle() {
    local bin="$1" port="$2" data="$3" venv
    shift 3
    venv="$(ensure_analyzers_venv)"
    local db=()
    if [ -n "${WAGGLE_TEST_SURREAL:-}" ]; then
        local sport=$((port + 1000))
        "$WAGGLE_TEST_SURREAL" start --bind "127.0.0.1:$sport" --user root --pass root --log warn \
            "surrealkv://$data/surreal" >"$data/surreal.log" 2>&1 &
        SURREAL_PID=$!
        for _ in $(seq 1 100); do
            curl -fsS "http://127.0.0.1:$sport/health" >/dev/null 2>&1 && break
            sleep 0.1
        done
        db=(--database "ws://127.0.0.1:$sport" --database-user root --database-password root)
    fi
    "$bin" serve --listen "127.0.0.1:$port" --data "$data" --log warn "${db[@]}" \
        --analyzers "$ROOT/tests/cortex-analyzers/analyzers" --analyzer-path "$venv/bin" "$@" >"$data/server.log" 2>&1 &
    WAGGLE_PID=$!
    for _ in $(seq 1 100); do
        curl -fsS "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    stop_waggle
    cat "$data/server.log" >&2
    return 1
}

# Stop what start_waggle started (the Waggle, and its SurrealDB server if any).
stop_waggle() {
    local p
    for p in "${WAGGLE_PID:-}" "${SURREAL_PID:-}"; do
        if [ -n "$p" ]; then kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
    done
    WAGGLE_PID=""
    SURREAL_PID=""
}

# Run the pytest suite of a Python client (clients/NAME/tests) in its own venv against a fresh
# Waggle on a temporary database: the runners of clients/*/run.sh.
# Usage: client_suite NAME BIN PORT PASSWORD REQUIREMENT... -- [PYTEST ARG...]
# The suite gets WAGGLE_URL, WAGGLE_ADMIN_LOGIN, WAGGLE_ADMIN_PASSWORD and CLIENT_DATA (the
# server's data directory); a runner that defines `before_suite` has it called with that
# directory once the server is up. Extra environment is whatever the runner exported.
client_suite() {
    local name="$1" bin="$2" port="$3" password="$4"
    shift 4
    local reqs=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do reqs+=("$1"); shift; done
    [ "${1:-}" = "--" ] && shift
    local venv data
    venv="$(ensure_venv "$name" "${reqs[@]}")"
    data="$(mktemp -d)"
    export WAGGLE_ADMIN_PASSWORD="$password"
    # shellcheck disable=SC2064
    trap "stop_waggle; rm -rf '$data'" EXIT
    start_waggle "$(realpath "$bin")" "$port" "$data"
    if declare -F before_suite >/dev/null; then before_suite "$data"; fi
    (cd "$ROOT/clients/$name" && WAGGLE_URL="http://127.0.0.1:$port" WAGGLE_ADMIN_LOGIN="admin@waggle.local" CLIENT_DATA="$data" \
        "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/ "$@") || { echo "--- server log"; tail -50 "$data/server.log"; return 1; }
}
