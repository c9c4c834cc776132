# Overhead workload "recursion": deep recursion. Every call recurses 600 frames deep and back, so
# the stack a profiler reads is 600-odd frames deep most of the time (BENCH_RECURSION_DEPTH in the
# environment sets another depth, with as many frames pushed in all: bench_overhead.py
# --recursion-depth). See protocol.py.
import os
import sys

from protocol import serve

DEPTH = int(os.environ.get("BENCH_RECURSION_DEPTH", "600"))


def down(n, acc):
    if n == 0:
        return acc & 0xFFFF
    return down(n - 1, acc * 3 + n) + 1


def work(scale):
    sys.setrecursionlimit(DEPTH + 200)
    total = 0
    for i in range(int(28000 * 600 / DEPTH * scale)):  # the same work at any depth
        total = (total + down(DEPTH, i)) & 0xFFFFFFFF
    return total


if __name__ == "__main__":
    serve(work)
