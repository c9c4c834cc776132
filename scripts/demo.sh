#!/usr/bin/env bash
# demo.sh - set up, then show loopscope on the demo worker loop (examples/demo_loop.py), a program
# that never ends: its threads' stacks right now (dump), then 5 seconds of recording into a profile
# (serving the live dashboard meanwhile) with exports and an HTML report, and the hottest stacks.
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

seconds=${DEMO_SECONDS:-5}
echo "=== loopscope attach $demo --duration $seconds (open the dashboard URL below meanwhile; DEMO_SECONDS=60 for longer)"
.venv/bin/loopscope attach "$demo" --duration "$seconds" -o "$out/demo.lsp" --html "$out/demo.html" \
  --export speedscope,collapsed,callgrind,pprof,pstats
echo
echo "=== the hottest stacks (samples at 100 Hz, from $out/demo.collapsed.txt)"
awk '{ n=$NF; $NF=""; printf "%6d  %s\n", n, substr($0, 1, 140) }' "$out/demo.collapsed.txt" | sort -n -r | head -6
echo
echo "open $out/demo.html in a browser (the dashboard's views, offline), or: .venv/bin/loopscope report $out/demo.lsp"
echo "open $out/demo.speedscope.json in https://www.speedscope.app, $out/demo.callgrind in KCachegrind,"
echo "or run: go tool pprof -top $out/demo.pb.gz"
