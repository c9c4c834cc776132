# Target: one thread that recurses DEPTH frames down and back without pause, for ever (argv[1]
# seconds at most). From CPython 3.11 on its data-stack chunks are mapped and unmapped at every
# descent, and a sample 1 ms after another finds the stack elsewhere. Prints a JSON line: the
# recursion's depth and the line of its recursive call (where every frame but the innermost is).
import json
import sys
import time

DEPTH = 600


def down(n):
    if n == 0:
        return 0
    return down(n - 1) + 1  # CALL_LINE


def run(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        down(DEPTH)


if __name__ == "__main__":
    sys.setrecursionlimit(DEPTH + 100)
    with open(__file__) as f:
        call_line = next(i for i, line in enumerate(f, 1) if "# CALL_LINE" in line)
    print(json.dumps({"depth": DEPTH, "call_line": call_line}), flush=True)
    run(float(sys.argv[1]) if len(sys.argv) > 1 else 60)
