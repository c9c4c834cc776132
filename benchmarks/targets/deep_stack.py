# Benchmark target: the main thread holds a Python stack exactly DEPTH frames deep (counting
# <module>), then blocks or spins in its innermost frame until it is killed.
#
#   python deep_stack.py DEPTH block   the innermost frame sleeps in time.sleep (C): a still stack
#   python deep_stack.py DEPTH busy    the innermost frame spins calling leaf(): the stack is DEPTH
#                                      or DEPTH+1 deep and its top changes all the time
#   python deep_stack.py DEPTH distinct  as block, but every frame runs a different function
#                                      (distinct_1 .. distinct_N, then level): a stack with DEPTH
#                                      code objects, as real programs have, not one recursing
#
# Prints "ready PID" on stdout once the stack is in place. The process has one thread only, so a
# sample of it is a sample of one thread. Runs unchanged on CPython 3.6 to 3.13 (no newer syntax).
import os
import sys
import time


def leaf(x):
    return (x * 3 + 1) & 0xFFFF


def level(remaining, mode):
    if remaining > 1:
        return level(remaining - 1, mode)
    # the innermost frame: holds the stack here
    sys.stdout.write("ready %d\n" % os.getpid())
    sys.stdout.flush()
    if mode == "busy":
        x = 0
        while True:
            x = leaf(x)
    while True:
        time.sleep(3600)


def distinct_stack(depth):
    """Call distinct_1 -> distinct_2 -> ... -> level(1, "block"): depth - 1 frames below <module>."""
    count = depth - 2
    source = []
    for i in range(1, count + 1):
        call = "distinct_%d()" % (i + 1) if i < count else "level(1, 'block')"
        source.append("def distinct_%d():\n    return %s\n" % (i, call))
    namespace = {"level": level}
    exec(compile("".join(source), __file__, "exec"), namespace)
    namespace["distinct_1"]()


if len(sys.argv) != 3 or sys.argv[2] not in ("block", "busy", "distinct") or int(sys.argv[1]) < 1:
    sys.exit("usage: deep_stack.py DEPTH block|busy|distinct   (DEPTH >= 1; distinct: DEPTH >= 3)")
DEPTH = int(sys.argv[1])
MODE = sys.argv[2]
sys.setrecursionlimit(max(1000, DEPTH + 100))
if DEPTH == 1:
    # the <module> frame itself is the innermost (and only) frame
    sys.stdout.write("ready %d\n" % os.getpid())
    sys.stdout.flush()
    if MODE == "busy":
        x = 0
        while True:
            x = leaf(x)
    while True:
        time.sleep(3600)
if MODE == "distinct":
    distinct_stack(DEPTH)
level(DEPTH - 1, MODE)
