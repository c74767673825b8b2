#!/usr/bin/env bash
# thehive4py 2.1.0 (TheHive 5's client), from PyPI in its own virtual environment, drives a
# real Waggle (a temporary embedded database) through its v1 API (/api/v1): cases, alerts,
# tasks, task logs, observables (values and files), case templates, custom fields, observable
# types, users, organisations, profiles and the query API, plus a cross-dialect test against
# the v0 API. What the client has that Waggle does not serve is listed in README
# ("TheHive v1 API").
# Usage: clients/thehive4py2/run.sh [path/to/waggle] [pytest args...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../../scripts/lib.sh"
bin="$(realpath "${1:-$ROOT/target/debug/waggle}")"
venv="$(ensure_venv thehive4py2 thehive4py==2.1.0 pytest==9.2.0)"
data="$(mktemp -d)"
port="${TH4PY2_PORT:-19120}"
export WAGGLE_ADMIN_PASSWORD="thehive4py2-admin-password"
cleanup() { stop_waggle; rm -rf "$data"; }
trap cleanup EXIT
start_waggle "$bin" "$port" "$data"
cd "$here"
WAGGLE_URL="http://127.0.0.1:$port" WAGGLE_ADMIN_LOGIN="admin@waggle.local" \
    "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/ "${@:2}" || { echo "--- server log"; tail -50 "$data/server.log"; exit 1; }
