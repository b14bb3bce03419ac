#!/usr/bin/env bash
# The soak run of docs/soak.md: brisk at 80% of its measured capacity for
# MINUTES (default 60), sampled every 10 s; then a plot of RSS and queue-wait
# p99 over time.
#   bash scripts/soak.sh [MINUTES]
# Output: build/results/soak.{csv,txt}, docs/img/soak.png
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-60}
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target brisk_soak
mkdir -p build/results docs/img
status=0
build/release/tests/brisk_soak --minutes "$minutes" --sample-seconds 10 --csv build/results/soak.csv \
  | tee build/results/soak.txt || status=$?
gnuplot <<'GP'
set terminal pngcairo size 900,520 font "sans,10"
set output "docs/img/soak.png"
set datafile separator ","
set title "Soak at 80% of capacity: memory and queue-wait p99 per 10 s window"
set xlabel "minutes"
set ylabel "RSS (MiB)"
set y2label "queue wait p99 (us)"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set grid
set key top left
plot "build/results/soak.csv" using ($1/60):($2/1024) skip 1 with lines lw 2 title "RSS", \
     "" using ($1/60):11 skip 1 axes x1y2 with lines lw 1 title "wait p99 (window)"
GP
echo "soak: build/results/soak.txt, build/results/soak.csv, docs/img/soak.png"
exit $status
