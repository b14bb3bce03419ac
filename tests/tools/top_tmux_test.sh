#!/bin/bash
# brisk top --attach in a real terminal (tmux, 120x40) against
# tests/tools/top_fixture, whose counts are known exactly: 1234 "ok" tasks
# succeeded, 7 "fails" tasks dead-lettered. The screen must show those very
# numbers (the types view's "ok total" column, the header's dead letters),
# the sort keys must reorder the rows and say so, the workers view must
# answer its key with a row per worker, and both q and Ctrl-C must exit
# with status 0 and the terminal restored. Skips (exit 77) without tmux.
# usage: top_tmux_test.sh BRISK FIXTURE WORK_DIR
set -euo pipefail
brisk=$1 fixture=$2 dir=$3
command -v tmux >/dev/null || { echo "tmux missing: skipped"; exit 77; }
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
session="brisk_top_$$"
"$fixture" > fixture.out &
pid=$!
trap 'tmux kill-session -t "$session" 2>/dev/null || true; tmux kill-session -t "${session}_c" 2>/dev/null || true; kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 300); do grep -q '^ready ' fixture.out && break; sleep 0.1; done
grep -q '^ready dead_letters 7 succeeded 1234$' fixture.out || { echo "fixture not ready:"; cat fixture.out; exit 1; }
port=$(awk '/^port /{print $2}' fixture.out)

# Waits until the pane shows a line matching $2 (ERE); leaves the screen in $dir/$3.
screen_until() {
  local target=$1 pattern=$2 file=$3
  for _ in $(seq 50); do
    tmux capture-pane -p -t "$target" > "$file"
    grep -Eq "$pattern" "$file" && return 0
    sleep 0.2
  done
  echo "never showed /$pattern/:"; cat "$file"; exit 1
}
# The first data row under the types view's column header.
first_type() { awk '/^type /{getline; print $1; exit}' "$1"; }

tmux new-session -d -s "$session" -x 120 -y 40 \
  "$brisk top --attach http://127.0.0.1:$port; echo exit=\$? > $dir/top.rc; sleep 5"
screen_until "$session" '^ok ' types.txt
# Exact counts: the ok row's last column (ok total) and the header.
[ "$(awk '$1 == "ok" {print $NF}' types.txt)" = 1234 ] || { echo "ok total is not 1234:"; cat types.txt; exit 1; }
[ "$(awk '$1 == "fails" {print $NF}' types.txt)" = 0 ] || { echo "fails total is not 0:"; cat types.txt; exit 1; }
grep -q 'dead letters 7 ' types.txt || { echo "dead letters is not 7:"; cat types.txt; exit 1; }
grep -q '(sorted by succeeded/s)' types.txt || { echo "no sort named:"; cat types.txt; exit 1; }

tmux send-keys -t "$session" n
screen_until "$session" '\(sorted by name\)' by_name.txt
[ "$(first_type by_name.txt)" = fails ] || { echo "n did not sort by name:"; cat by_name.txt; exit 1; }
tmux send-keys -t "$session" o
screen_until "$session" '\(sorted by ok total\)' by_total.txt
[ "$(first_type by_total.txt)" = ok ] || { echo "o did not sort by ok total:"; cat by_total.txt; exit 1; }

tmux send-keys -t "$session" w
screen_until "$session" 'search\+steal%' workers.txt
[ "$(grep -Ec '^[01] ' workers.txt)" = 2 ] || { echo "not one row per worker (2):"; cat workers.txt; exit 1; }
# Every column fits in 120 columns, the last one too: yields that stranded work.
grep -q 'stranded/s$' workers.txt || { echo "no stranded/s column at the end of the header:"; cat workers.txt; exit 1; }

tmux send-keys -t "$session" q
for _ in $(seq 50); do [ -f top.rc ] && break; sleep 0.1; done
[ "$(cat top.rc 2>/dev/null)" = "exit=0" ] || { echo "q did not exit cleanly: $(cat top.rc 2>/dev/null)"; exit 1; }
after=$(tmux capture-pane -p -t "$session")
if echo "$after" | grep -q 'keys: t types'; then echo "q: the alternate screen was not left"; exit 1; fi

# Ctrl-C: the same clean exit.
tmux new-session -d -s "${session}_c" -x 120 -y 40 \
  "$brisk top --attach http://127.0.0.1:$port; echo exit=\$? > $dir/top_c.rc; sleep 5"
screen_until "${session}_c" '^ok ' ctrl_c.txt
tmux send-keys -t "${session}_c" C-c
for _ in $(seq 50); do [ -f top_c.rc ] && break; sleep 0.1; done
[ "$(cat top_c.rc 2>/dev/null)" = "exit=0" ] || { echo "Ctrl-C did not exit cleanly: $(cat top_c.rc 2>/dev/null)"; exit 1; }
after=$(tmux capture-pane -p -t "${session}_c")
if echo "$after" | grep -q 'keys: t types'; then echo "Ctrl-C: the alternate screen was not left"; exit 1; fi

kill -TERM $pid
wait $pid
trap - EXIT
tmux kill-session -t "$session" 2>/dev/null || true
tmux kill-session -t "${session}_c" 2>/dev/null || true
echo "ok: 1234 successes and 7 dead letters on screen, sort keys n and o, workers view, q and Ctrl-C exit 0"
