#!/usr/bin/env bash
# Runs the benchmarks. --short: only check that every benchmark program runs
# (CI); without it, full runs with repetitions and medians (docs/perf.md).
set -euo pipefail
cd "$(dirname "$0")/.."
short=0
[ "${1:-}" = "--short" ] && short=1
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
mkdir -p build/results
if [ $short = 1 ]; then
  build/release/bench/brisk_micro_bench --benchmark_min_time=0.01 --benchmark_format=console
else
  build/release/bench/brisk_micro_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_out=build/results/micro.json --benchmark_out_format=json
fi
