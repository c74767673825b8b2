#!/usr/bin/env bash
# Benchmarks that print figures, on a release build (the first build takes ~25 minutes).
#   scripts/bench.sh                    cases: 100,000 cases, 1,000,000 observables, 300,000 tasks
#   scripts/bench.sh cases --cases 10000 --observables 100000 --tasks 30000 --samples 200
#   scripts/bench.sh dashboards         statistics of the default dashboards: 1M alerts, 100k cases, 1M observables
#   scripts/bench.sh dashboards --alerts 10000 --cases 1000 --observables 10000 --data /tmp/bench-dash
# See README "Benchmarks" for what is measured and the figures of the last run.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_openssl_dev
log "building the benchmark (release)"
cargo build --release -p server --bins
if [ $# -eq 0 ]; then set -- cases; fi
exec target/release/waggle-bench "$@"
