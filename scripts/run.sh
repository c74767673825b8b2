#!/usr/bin/env bash
# Build and run Waggle (UI + API) on the embedded database at http://127.0.0.1:9000.
#   scripts/run.sh           release build (the first build takes ~25 min; later ones are quick)
#   scripts/run.sh --dev     debug build (~10 min the first time)
# Extra arguments go to `waggle serve` (see `waggle serve --help`).
# The analyzers of tests/cortex-analyzers (TestAnalyzer, ValidateObservable, EmlParser, Yara,
# FireHOLBlocklists, MISPWarningLists) are offered, in a Python venv made from PyPI (~15 s, once):
# enable them in Admin > Analyzers. WAGGLE_NO_ANALYZERS=1 leaves them out.
# Sign in as admin@waggle.local: on the first start the password is WAGGLE_ADMIN_PASSWORD if set,
# otherwise a random one written to waggle-data/initial-admin-password (mode 0600, not in the log).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

profile=release
if [ "${1:-}" = "--dev" ]; then profile=dev; shift; fi

ensure_openssl_dev
ensure_wasm_toolchain
build_ui
log "building the server ($profile)"
cargo build -p server --profile "$profile"
bin="target/$([ "$profile" = dev ] && echo debug || echo release)/waggle"
analyzers=()
if [ -z "${WAGGLE_NO_ANALYZERS:-}" ]; then
    venv="$(ensure_analyzers_venv)"
    analyzers=(--analyzers "$ROOT/tests/cortex-analyzers/analyzers" --analyzer-path "$venv/bin")
fi
log "starting Waggle: open http://127.0.0.1:9000"
exec "$bin" serve "${analyzers[@]}" "$@"
