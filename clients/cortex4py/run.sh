#!/usr/bin/env bash
# cortex4py 2.1.0, from PyPI in its own virtual environment, drives the Cortex API of a real
# Waggle (`/cortex/api`, a temporary embedded database) with the real analyzers of
# tests/cortex-analyzers in their own venv: definitions, enabling and changing analyzers, runs on
# values and on a file (EmlParser on an e-mail), reports waited for, artifacts, the cache,
# failures, job search and deletion, roles.
# Usage: clients/cortex4py/run.sh [path/to/waggle] [pytest args...]   (default: target/debug/waggle)
set -euo pipefail
source "$(cd "$(dirname "$0")" && pwd)/../../scripts/lib.sh"
export MAKE_EML="$ROOT/server/tests/analyzers/make_eml.py"
client_suite cortex4py "${1:-$ROOT/target/debug/waggle}" "${CORTEX4PY_PORT:-19120}" "cortex4py-admin-password" \
    cortex4py==2.1.0 pytest==9.2.0 -- "${@:2}"
