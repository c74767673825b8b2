#!/usr/bin/env bash
# thehive4py 2.1.0 (TheHive 5's client), from PyPI in its own virtual environment, drives a
# real Waggle (a temporary embedded database) through its v1 API (/api/v1): 182 of its 193
# methods (cases, alerts, tasks, logs, observables and files, comments, pages, procedures,
# templates, custom fields, types, users, organisations, profiles, the query API, Cortex calls
# with the real analyzers), and the same objects through the v0 API. What it has that Waggle
# does not serve is listed in README ("TheHive v1 API").
# Usage: clients/thehive4py2/run.sh [path/to/waggle] [pytest args...]   (default: target/debug/waggle)
set -euo pipefail
source "$(cd "$(dirname "$0")" && pwd)/../../scripts/lib.sh"
client_suite thehive4py2 "${1:-$ROOT/target/debug/waggle}" "${TH4PY2_PORT:-19130}" "thehive4py2-admin-password" \
    thehive4py==2.1.0 pytest==9.2.0 -- "${@:2}"
