#!/usr/bin/env bash
# The HTTP front end of `brisk serve` under wrk (issue 18; docs/perf.md,
# "brisk serve"): POST 64-byte bodies at 8, 32, 128 and 1024 keep-alive
# connections to
#   noop     POST /v1/noop: routing, body read and a JSON answer, no engine
#   memory   POST /v1/tasks/bench on a service without a write-ahead log
#   durable  the same with wal_dir and fsync "always" (202 once on disk)
# one server per mode (noop is served by the in-memory one), the three
# interleaved at each connection count; then overload: a type limited to
# 1000 starts/s behind engine.max_tasks = 2000, offered what wrk can send
# (far over 10x that), where every answer must be 202 or 429, with the
# server's RSS before, during and after. Loopback only.
#   serve_bench.sh [SECONDS] [BUILD_DIR]     (default 10 s per run, ~2.5 min)
#   serve_bench.sh --short [BUILD_DIR]       1 s per run: checks that it runs
# BRISK_SERVE_THREADS sets server.threads (default 2).
set -euo pipefail
seconds=${1:-10}
[ "$seconds" = "--short" ] && seconds=1
build=${2:-build/release}
here=$(cd "$(dirname "$0")" && pwd)
brisk=$build/tools/brisk
threads=${BRISK_SERVE_THREADS:-2}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
# 1024 connections need more descriptors than the usual soft limit of 1024.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 2200 ] || echo "# warning: ulimit -n $(ulimit -n): 1024 connections may fail"

start() {  # name, extra config -> sets $port and $pid (not in a subshell: the pid must be kept for cleanup)
  local name=$1 extra=$2
  cat > "$work/$name.toml" <<TOML
[server]
listen = "127.0.0.1"
port = 0
threads = $threads
noop_endpoint = true
[engine]
workers = 2
finished_tasks = 0
$extra
[types.bench]
executor = "noop"
TOML
  "$brisk" serve --config "$work/$name.toml" > "$work/$name.out" 2> "$work/$name.log" &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 100); do
    grep -q "listening on" "$work/$name.out" 2>/dev/null && break
    sleep 0.1
  done
  port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/$name.out")
  [ -n "$port" ] || { echo "brisk serve ($name) did not start:"; cat "$work/$name.log"; exit 1; }
}

run() {  # connections, url -> one RESULT line
  wrk -t2 -c"$1" -d"${seconds}s" --timeout 10s --latency -s "$here/post64.lua" "$2" | grep '^RESULT' | cut -d' ' -f2-
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

start memory ""
mem_port=$port
start durable "[durability]
wal_dir = \"$work/wal\"
fsync = \"always\""
dur_port=$port

echo "# $(date -u +%FT%TZ) $(nproc) CPUs, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# wrk -t2 -d${seconds}s --latency, 64-byte POST bodies, server.threads $threads"
printf "%-8s %5s  %s\n" mode conns result
for conns in 8 32 128 1024; do
  for mode in noop memory durable; do
    case $mode in
      noop) url="http://127.0.0.1:$mem_port/v1/noop" ;;
      memory) url="http://127.0.0.1:$mem_port/v1/tasks/bench" ;;
      durable) url="http://127.0.0.1:$dur_port/v1/tasks/bench" ;;
    esac
    result=$(run "$conns" "$url")
    printf "%-8s %5s  %s  load %s\n" "$mode" "$conns" "$result" "$(cut -d' ' -f1 /proc/loadavg)"
  done
done

# Overload: capacity 1000 tasks/s (the type's rate limit), 2000 in flight at
# most; wrk offers as fast as the front end answers.
start overload "max_tasks = 2000
[types.limited]
executor = \"noop\"
rate_per_second = 1000
burst = 10"
over_port=$port
over_pid=$pid
before=$(rss_kb "$over_pid")
run 128 "http://127.0.0.1:$over_port/v1/tasks/limited" > "$work/overload.result" &
wrk_pid=$!
sleep "$(awk "BEGIN {print $seconds / 2}")"
during=$(rss_kb "$over_pid")
wait "$wrk_pid"
after=$(rss_kb "$over_pid")
printf "%-8s %5s  %s  load %s\n" overload 128 "$(cat "$work/overload.result")" "$(cut -d' ' -f1 /proc/loadavg)"
echo "# overload RSS kB: before $before, during $during, after $after"
