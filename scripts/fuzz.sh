#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, ASan+UBSan) and runs each for
# SECONDS (default 30). New inputs go to build/fuzz/found/<target>, never
# into the committed seed corpus. For a long campaign:
#   bash scripts/fuzz.sh 3600
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
bash scripts/install-deps.sh
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
for target in wal_reader trace_reader; do
  found=build/fuzz/found/$target
  mkdir -p "$found"
  echo "== fuzz $target for ${seconds}s"
  build/fuzz/fuzz/${target}_fuzz "$found" fuzz/corpus/$target -max_total_time="$seconds" -print_final_stats=1 2>&1 \
    | grep -E "^(stat::number_of_executed_units|stat::new_units_added|==.*ERROR|SUMMARY)" || true
  # libFuzzer leaves crash-*, leak-* or timeout-* files on a failure; fail
  # loudly. (compgen: `ls a-* b-*` fails when any one pattern matches nothing.)
  if compgen -G "crash-*" >/dev/null || compgen -G "leak-*" >/dev/null || compgen -G "timeout-*" >/dev/null; then
    echo "fuzz: $target found a failing input:"; ls crash-* leak-* timeout-* 2>/dev/null || true; exit 1
  fi
done
