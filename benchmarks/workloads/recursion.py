# Overhead workload "recursion": deep recursion. Every call recurses 600 frames deep and back, so
# the stack a profiler reads is 600-odd frames deep most of the time. See protocol.py.
import sys

from protocol import serve

DEPTH = 600


def down(n, acc):
    if n == 0:
        return acc & 0xFFFF
    return down(n - 1, acc * 3 + n) + 1


def work(scale):
    sys.setrecursionlimit(DEPTH + 200)
    total = 0
    for i in range(int(28000 * scale)):
        total = (total + down(DEPTH, i)) & 0xFFFFFFFF
    return total


if __name__ == "__main__":
    serve(work)
