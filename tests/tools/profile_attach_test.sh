#!/bin/bash
# brisk profile --attach against docs/examples/profiler_example (a live
# engine with a concurrency-limited type): the report's window must fit
# inside what the engine says it did, name the bottleneck with its field,
# current and suggested value, and --compare must read two reports.
# usage: profile_attach_test.sh BRISK EXAMPLE WORK_DIR
set -euo pipefail
brisk=$1 example=$2 dir=$3
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
# Long enough for both attaches on a slow (sanitizer) build; SIGTERM ends it
# after them, and it still prints its own counts. 6000 tasks/s against the
# one slot's 5000/s: the type's backlog grows the whole time, so every
# snapshot finds tasks waiting at its limit (at the default 4000/s the slot
# keeps up most of the time and a snapshot may catch an empty gate).
"$example" 120 1 6000 > example.out &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q '^port ' example.out && break; sleep 0.1; done
port=$(awk '/^port /{print $2}' example.out)
"$brisk" profile --attach "http://127.0.0.1:$port" --seconds 2 --no-plots --json a.json --trace-out trace.json > report.txt
"$brisk" profile --attach "http://127.0.0.1:$port" --seconds 1 --no-plots --json b.json --trace-out "" > /dev/null
kill -TERM $pid
wait $pid
trap - EXIT
"$brisk" profile --compare a.json b.json > compare.txt
python3 - <<'PY'
import json, re, sys
a = json.load(open("a.json"))
engine = dict(re.findall(r"(\w+) (\d+)", open("example.out").read().splitlines()[-1]))
m = a["measurements"]
fail = []
if not (0 < m["executed"] <= int(engine["executed"])): fail.append(f"executed {m['executed']} vs engine {engine['executed']}")
if not (1.5 < m["wall_s"] < 10): fail.append(f"wall_s {m['wall_s']}")
limit = [x for x in a["advice"] if x["field"] == "TaskTypeOptions::max_concurrency (resize)"]
if not limit: fail.append("no max_concurrency advice: " + json.dumps(a["advice"]))
elif limit[0]["current"] != "1" or limit[0]["suggested"] != "2" or "waiting" not in limit[0]["evidence"]:
    fail.append("advice without current/suggested/evidence: " + json.dumps(limit[0]))
trace = json.load(open("trace.json"))
begins = sum(1 for e in trace["traceEvents"] if e["ph"] == "B")
if begins == 0: fail.append("empty trace")
if begins > int(engine["executed"]): fail.append(f"trace has {begins} runs, engine ran {engine['executed']}")
cmp = open("compare.txt").read()
if "queue_wait_ns.p50" not in cmp or "max_concurrency (resize)" not in cmp: fail.append("compare output:\n" + cmp)
print("\n".join(fail) or f"ok: window executed {m['executed']} of {engine['executed']}, trace {begins} runs")
sys.exit(1 if fail else 0)
PY
