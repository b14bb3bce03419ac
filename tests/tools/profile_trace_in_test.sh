#!/usr/bin/env bash
# `brisk profile --trace-in` on a trace with the side tracks: the report
# counts the producers' refusals by reason and sums the log writer's batches
# and fdatasyncs, and the one worker is still one worker (the side tracks'
# ids are not worker indexes).
# usage: profile_trace_in_test.sh BRISK_CLI FIXTURE_JSON
set -euo pipefail
brisk=$1
fixture=$2
out=$("$brisk" profile --trace-in "$fixture")
echo "$out"
fail() { echo "FAIL: $*" >&2; exit 1; }
grep -qx "  producers' refusals: 1 rejected_backpressure 6 rejected_full" <<<"$out" || fail "refusals by reason"
grep -qx "  log writer: 2 batches (50 records, 5120 bytes), 1 fdatasyncs p50 2.00 ms, p99 2.00 ms" <<<"$out" ||
  fail "log writer summary"
grep -q "65535\|65534" <<<"$out" && fail "a side track reported as a worker"
echo OK
