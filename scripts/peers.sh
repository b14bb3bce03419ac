#!/usr/bin/env bash
# brisk beside its peers (oneTBB, moodycamel, Boost.Asio, a mutex pool).
#   bash scripts/peers.sh           full run: build/results/peers.json, plots in docs/img/
#   bash scripts/peers.sh --short   CI: 1 repetition, tiny sizes, only checks that it runs
#   bash scripts/peers.sh --plots   only redraw docs/img/ from the last full run's data
# BRISK_PEERS_BUILD_DIR=dir builds there (Release, -O3 -march=native, no tests)
# instead of the release preset, so a shared machine's build/release is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=()
[ "${1:-}" = "--short" ] && mode=(--short)
data=build/results/peers-plot

# Small PNGs for docs/perf.md (they are committed).
draw_plots() {
  mkdir -p docs/img
  local systems
  systems=$(head -1 "$data/throughput.tsv" | tr '\t' '\n' | tail -n +2 | wc -l)
  gnuplot <<GP
set terminal pngcairo size 900,520 font "sans,10"
set datafile separator "\t"
set key autotitle columnheader

set output "docs/img/latency_cdf_100k.png"
set title "Submit-to-start latency at 100k tasks/s offered (median-p99 run of each system)"
set xlabel "latency (us, log scale)"
set ylabel "fraction of tasks started"
set logscale x
set key bottom right
set grid
plot for [i=2:$((systems + 1))] "$data/latency_cdf_100000.tsv" using i:1 with lines lw 2 title columnheader(i)

unset logscale x
set output "docs/img/throughput.png"
set title "Throughput per workload (median, million tasks/s, log scale)"
set ylabel "million tasks/s"
set xlabel ""
set logscale y
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by -30 scale 0 font ",8"
set key top right font ",9"
set grid ytics
plot for [i=2:$((systems + 1))] "$data/throughput.tsv" using i:xtic(1)
GP
}

if [ "${1:-}" = "--plots" ]; then
  draw_plots
  exit 0
fi

bash scripts/install-deps.sh

if [ -n "${BRISK_PEERS_BUILD_DIR:-}" ]; then
  build="$BRISK_PEERS_BUILD_DIR"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS_RELEASE="-O3 -DNDEBUG -march=native" -DBRISK_BUILD_TESTS=OFF >/dev/null
  cmake --build "$build" --target brisk_peers
else
  build=build/release
  cmake --preset release >/dev/null
  cmake --build --preset release --target brisk_peers
fi

mkdir -p build/results
"$build/bench/brisk_peers" "${mode[@]}" --json build/results/peers.json --plot-dir "$data" \
  | tee build/results/peers.md
[ ${#mode[@]} -ne 0 ] && exit 0

draw_plots
echo "peers: build/results/peers.json, build/results/peers.md, docs/img/latency_cdf_100k.png, docs/img/throughput.png"
