#!/usr/bin/env bash
# thehive4py 1.8.2, from PyPI in its own virtual environment, drives a real Waggle (a temporary
# embedded database) through every method it has for cases, tasks, task logs, observables
# (values and files), case templates, custom fields, alerts and its query helpers, its Cortex
# calls against the embedded engine with real analyzers, and runs a Zerofox2TH-like alert feeder
# twice (feeders/).
# Usage: clients/thehive4py1/run.sh [path/to/waggle]   (default: target/debug/waggle)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../../scripts/lib.sh"
bin="$(realpath "${1:-$ROOT/target/debug/waggle}")"
venv="$(ensure_venv thehive4py1 thehive4py==1.8.2 pytest==9.2.0)"
data="$(mktemp -d)"
port="${TH4PY1_PORT:-19110}"
export WAGGLE_ADMIN_PASSWORD="thehive4py-admin-password"
cleanup() { stop_waggle; rm -rf "$data"; }
trap cleanup EXIT
start_waggle "$bin" "$port" "$data"
# A real e-mail with an attachment, for EmlParser.
python3 "$ROOT/server/tests/analyzers/make_eml.py" "$data/invoice.eml" invoice.exe
cd "$here"
WAGGLE_TEST_EML="$data/invoice.eml" WAGGLE_URL="http://127.0.0.1:$port" WAGGLE_ADMIN_LOGIN="admin@waggle.local" \
    TEMPLATE_FIXTURES="$ROOT/fixtures/thehive3/case-templates" \
    "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/ "${@:2}" || { echo "--- server log"; tail -50 "$data/server.log"; exit 1; }
