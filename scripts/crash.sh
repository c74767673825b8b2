#!/usr/bin/env bash
# The alerts crash tests, longer: concurrent feeders post alerts to the real binary, which is
# killed with SIGKILL at random moments and restarted on the same data, CYCLES times (default
# 30), with the storage engine's default memtable and with 1 MiB memtables (rotated and flushed
# during the run); every acknowledged alert must be there after each restart, none twice.
# Usage: scripts/crash.sh [CYCLES]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
CRASH_CYCLES="${1:-30}" cargo test -p server --test crash -- --nocapture
