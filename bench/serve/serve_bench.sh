#!/usr/bin/env bash
# The HTTP front end of `brisk serve` under wrk (issue 18 step 5; docs/perf.md):
# POST 64-byte bodies at 8, 32 and 128 connections to
#   noop     POST /v1/noop: routing, body read and a JSON answer, no engine
#   memory   POST /v1/tasks/bench on a service without a write-ahead log
#   durable  the same with wal_dir and fsync "always" (202 after fdatasync)
# One server per mode (noop is served by the in-memory one), runs interleaved
# by connection count. Loopback only. Usage: serve_bench.sh [SECONDS] [BUILD_DIR]
set -euo pipefail
seconds=${1:-10}
build=${2:-build/release}
here=$(cd "$(dirname "$0")" && pwd)
brisk=$build/tools/brisk
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

start() {  # name, extra config -> sets $port (not in a subshell: the pid must be kept for cleanup)
  local name=$1 extra=$2
  cat > "$work/$name.toml" <<TOML
[server]
listen = "127.0.0.1"
port = 0
threads = ${BRISK_SERVE_THREADS:-256}
noop_endpoint = true
[engine]
workers = 2
finished_tasks = 0
$extra
[types.bench]
executor = "noop"
TOML
  "$brisk" serve --config "$work/$name.toml" > "$work/$name.out" 2> "$work/$name.log" &
  pids+=($!)
  for _ in $(seq 100); do
    grep -q "listening on" "$work/$name.out" 2>/dev/null && break
    sleep 0.1
  done
  port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/$name.out")
  [ -n "$port" ] || { echo "brisk serve ($name) did not start:"; cat "$work/$name.log"; exit 1; }
}

start memory ""
mem_port=$port
start durable "[durability]
wal_dir = \"$work/wal\"
fsync = \"always\""
dur_port=$port

echo "# $(date -u +%FT%TZ) $(nproc) CPUs, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# wrk -t2 -d${seconds}s, 64-byte POST bodies, http threads ${BRISK_SERVE_THREADS:-256}"
printf "%-8s %5s  %s\n" mode conns result
for conns in 8 32 128; do
  for mode in noop memory durable; do
    case $mode in
      noop) url="http://127.0.0.1:$mem_port/v1/noop" ;;
      memory) url="http://127.0.0.1:$mem_port/v1/tasks/bench" ;;
      durable) url="http://127.0.0.1:$dur_port/v1/tasks/bench" ;;
    esac
    result=$(wrk -t2 -c"$conns" -d"${seconds}s" --timeout 10s -s "$here/post64.lua" "$url" | grep '^RESULT' | cut -d' ' -f2-)
    printf "%-8s %5s  %s  load %s\n" "$mode" "$conns" "$result" "$(cut -d' ' -f1 /proc/loadavg)"
  done
done
