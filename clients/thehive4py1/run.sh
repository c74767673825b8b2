#!/usr/bin/env bash
# thehive4py 1.8.2, from PyPI in its own virtual environment, drives a real Waggle (a temporary
# embedded database) through every method it has for cases, tasks, task logs, observables
# (values and files), case templates, custom fields, alerts and its query helpers, its Cortex
# calls against the embedded engine with real analyzers, and runs a Zerofox2TH-like alert feeder
# twice (feeders/).
# Usage: clients/thehive4py1/run.sh [path/to/waggle] [pytest args...]   (default: target/debug/waggle)
set -euo pipefail
source "$(cd "$(dirname "$0")" && pwd)/../../scripts/lib.sh"
export TEMPLATE_FIXTURES="$ROOT/fixtures/thehive3/case-templates"
# A real e-mail with an attachment, for EmlParser, written once the server's directory exists.
before_suite() {
    python3 "$ROOT/server/tests/analyzers/make_eml.py" "$1/invoice.eml" invoice.exe
    export WAGGLE_TEST_EML="$1/invoice.eml"
}
client_suite thehive4py1 "${1:-$ROOT/target/debug/waggle}" "${TH4PY1_PORT:-19110}" "thehive4py-admin-password" \
    thehive4py==1.8.2 pytest==9.2.0 -- "${@:2}"
