# A target that makes a new code object over and over where the last one was: generation K
# compiles `def gen_K(): ...` (the same shape every time, so the same allocator size class), runs
# it for a moment and drops it, then generation K+1 does the same, so new code objects keep taking
# the addresses of freed ones. A reader whose code cache trusted an address without proof would
# name a frame of gen_K+1 "gen_K". The generation being run is published in the file given as the
# first argument (a little-endian u64 written before gen_K is compiled), so a test can bound which
# generations a sample may show. Prints "ready PID" once running. Runs on CPython 3.8 to 3.13.
import mmap
import os
import struct
import sys
import time

SOURCE = "def gen_%08d(n):\n    total = 0\n    for i in range(n):\n        total += i * %d\n    return total\n"


def main():
    path, seconds = sys.argv[1], float(sys.argv[2])
    with open(path, "r+b") as f:
        shared = mmap.mmap(f.fileno(), 8)
    sys.stdout.write("ready %d\n" % os.getpid())
    sys.stdout.flush()
    deadline = time.monotonic() + seconds
    generation = 0
    while time.monotonic() < deadline:
        generation += 1
        shared[0:8] = struct.pack("<Q", generation)
        namespace = {}
        exec(compile(SOURCE % (generation, generation % 7 + 1), __file__, "exec"), namespace)
        namespace["gen_%08d" % generation](20000)  # about as long as the compile
        del namespace


main()
