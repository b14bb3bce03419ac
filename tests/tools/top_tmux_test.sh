#!/bin/bash
# brisk top --attach in a real terminal (tmux, 120x40) against
# docs/examples/profiler_example: the screen shows the live type row with a
# rate no higher than what the engine ran, the workers view answers its key,
# and q exits with the terminal restored (the session ends, exit code 0).
# Skips (exit 77) without tmux.
# usage: top_tmux_test.sh BRISK EXAMPLE WORK_DIR
set -euo pipefail
brisk=$1 example=$2 dir=$3
command -v tmux >/dev/null || { echo "tmux missing: skipped"; exit 77; }
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
session="brisk_top_$$"
"$example" 8 1 > example.out &
pid=$!
trap 'tmux kill-session -t "$session" 2>/dev/null || true; kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q '^port ' example.out && break; sleep 0.1; done
port=$(awk '/^port /{print $2}' example.out)
tmux new-session -d -s "$session" -x 120 -y 40 \
  "$brisk top --attach http://127.0.0.1:$port; echo exit=\$? > $dir/top.rc; sleep 5"
screen=""
for _ in $(seq 50); do
  screen=$(tmux capture-pane -p -t "$session")
  echo "$screen" | grep -q '^resize ' && break
  sleep 0.2
done
echo "$screen" > types.txt
row=$(grep '^resize ' types.txt) || { echo "no resize row:"; cat types.txt; exit 1; }
rate=$(echo "$row" | awk '{print $3}')  # succeeded/s
tmux send-keys -t "$session" w
for _ in $(seq 30); do
  tmux capture-pane -p -t "$session" > workers.txt
  grep -q 'runnable-wait%' workers.txt && break
  sleep 0.2
done
grep -q 'runnable-wait%' workers.txt || { echo "w did not switch views:"; cat workers.txt; exit 1; }
tmux send-keys -t "$session" q
for _ in $(seq 50); do [ -f top.rc ] && break; sleep 0.1; done
[ "$(cat top.rc 2>/dev/null)" = "exit=0" ] || { echo "q did not exit cleanly: $(cat top.rc 2>/dev/null)"; exit 1; }
after=$(tmux capture-pane -p -t "$session")
if echo "$after" | grep -q 'keys: t types'; then echo "the alternate screen was not left"; exit 1; fi
wait $pid
trap - EXIT
tmux kill-session -t "$session" 2>/dev/null || true
executed=$(awk '/^stats /{print $7}' example.out)  # resize_succeeded over the whole run
python3 -c "
rate, total = float('$rate'), int('$executed')
# One second of the type's rate, against what the engine ran in all: live, non-zero, not invented.
assert 0 < rate <= total, (rate, total)
print('ok: resize', rate, '/s on screen;', total, 'succeeded in all')"
