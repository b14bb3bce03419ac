#!/usr/bin/env bash
# Quick start 1: install dependencies, build a release, run the demo workload.
# Extra arguments go to `brisk demo` (see `build/release/tools/brisk demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target brisk_cli
exec build/release/tools/brisk demo "$@"
