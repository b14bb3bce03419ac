#!/usr/bin/env bash
# Quick start 2: the whole test suite, as CI runs it.
#   1. release build: unit tests, README example, install-consumer test
#   2. the same suite under ASan+UBSan, then under TSan
#   3. each libFuzzer target for a short bounded time
#   4. benchmark programs in short mode (they run; numbers are not judged)
# BRISK_TEST_SKIP_SANITIZERS=1 skips step 2 (for a quick local loop).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

run_suite() {
  local preset=$1
  echo "== $preset: build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  echo "== $preset: test"
  ctest --preset "$preset" --timeout 900
}

run_suite release
if [ "${BRISK_TEST_SKIP_SANITIZERS:-0}" != 1 ]; then
  run_suite asan
  run_suite tsan
fi
bash scripts/fuzz.sh "${BRISK_FUZZ_SECONDS:-30}"
bash scripts/bench.sh --short
