#!/usr/bin/env bash
# demo.sh - set up, start the demo worker loop (examples/demo_loop.py), and show what loopscope
# sees in it from outside: every thread's stack, three times, a second apart.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-dev.sh >/dev/null
.venv/bin/python examples/demo_loop.py &
demo=$!
trap 'kill $demo 2>/dev/null || true' EXIT
sleep 1
for i in 1 2 3; do
  echo "=== loopscope dump $demo (snapshot $i)"
  .venv/bin/loopscope dump "$demo"
  sleep 1
done
