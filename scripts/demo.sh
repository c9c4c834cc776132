#!/usr/bin/env bash
# demo.sh - set up, then show loopscope on the demo worker loop (examples/demo_loop.py), a program
# that never ends: its threads' stacks right now (dump), then 5 seconds of recording into a profile
# with exports, and the hottest stacks of that recording.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-dev.sh >/dev/null
out=build/demo
mkdir -p "$out"
rm -f "$out"/demo.*

.venv/bin/python examples/demo_loop.py &
demo=$!
trap 'kill $demo 2>/dev/null || true' EXIT
sleep 1
echo "=== loopscope dump $demo"
.venv/bin/loopscope dump "$demo"

echo "=== loopscope attach $demo --duration 5"
.venv/bin/loopscope attach "$demo" --duration 5 -o "$out/demo.lsp" --export speedscope,collapsed,callgrind,pprof,pstats
echo
echo "=== the hottest stacks (wall time, from $out/demo.collapsed.txt)"
awk '{ n=$NF; $NF=""; printf "%8.3f s  %s\n", n/1e9, substr($0, 1, 140) }' "$out/demo.collapsed.txt" | sort -n -r | head -6
echo
echo "open $out/demo.speedscope.json in https://www.speedscope.app, $out/demo.callgrind in KCachegrind,"
echo "or run: go tool pprof -top $out/demo.pb.gz"
