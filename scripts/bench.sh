#!/usr/bin/env bash
# Every benchmark, one command (docs/perf.md says how to read the results):
#   1. micro benchmarks of each mechanism (Google Benchmark)
#   2. brisk beside its peers: oneTBB, moodycamel, Boost.Asio, a mutex pool
#      (scripts/peers.sh: tables, JSON and the plots in docs/img/)
#   3. durable throughput and ack latency beside Redis (AOF always/everysec)
#   4. brisk::cluster end to end beside a raw libnats loop (docs/cluster.md)
#   bash scripts/bench.sh           full runs, repetitions and medians (~20 min)
#   bash scripts/bench.sh --short   CI: tiny sizes, only checks that every program runs
# Results go to build/results/.
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
  bash scripts/peers.sh --short
  build/release/bench/brisk_durable --short --json build/results/durable-short.json
  build/release/bench/brisk_cluster_bench --short
else
  build/release/bench/brisk_micro_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_out=build/results/micro.json --benchmark_out_format=json
  bash scripts/peers.sh
  build/release/bench/brisk_durable --json build/results/durable.json | tee build/results/durable.md
  build/release/bench/brisk_cluster_bench | tee build/results/cluster.md
fi
