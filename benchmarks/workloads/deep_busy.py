# Throughput target: one thread whose Python stack is DEPTH frames deep (counting <module>), busy in
# its innermost frame: it spins calling leaf(), so the stack is DEPTH or DEPTH+1 deep and its top
# changes all the time. Prints "ready PID" once the stack is in place; runs until killed.
#
#   python deep_busy.py [DEPTH]     (default 50)
import os
import sys


def leaf(x):
    return (x * 3 + 1) & 0xFFFF


def level(remaining):
    if remaining > 1:
        return level(remaining - 1)
    sys.stdout.write("ready %d\n" % os.getpid())
    sys.stdout.flush()
    x = 0
    while True:
        x = leaf(x)


depth = int(sys.argv[1]) if len(sys.argv) > 1 else 50
sys.setrecursionlimit(max(1000, depth + 100))
level(depth - 1)  # <module> is the first frame
