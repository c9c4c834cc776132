# protocol.py - what every overhead workload shares. Two ways to run a workload:
#
#   python WORKLOAD.py [--scale S] [--no-wait]
#       Once: print "ready PID", wait for a line on stdin (so that the driver can attach a profiler
#       first), run the work once, then print {"wall_s": ..., "cpu_s": ..., "check": ...}:
#       perf_counter and process_time around the work, and a value computed from the work (so that
#       nothing can be optimised away and a broken run is visible). --no-wait starts at once (for
#       calibrating the scale by hand).
#
#   python WORKLOAD.py --stream COUNTERS
#       Forever: print "ready PID", then run the work in small units (about 2 ms each) and count
#       them in the file COUNTERS, 64 slots of 8 bytes (native unsigned), which the driver maps too
#       and reads whenever it wants to know the progress: slot 0 is the main thread's, and a
#       workload with threads gives each of them its own slot (a slot has one writer, so no lock).
#       The work of a unit is work(UNIT_SCALE), or the workload's own stream(slots, done) if it has
#       one. Every finished unit also writes its perf_counter_ns() into a ring of RING times after
#       the slots (done(): slot RING_COUNT_SLOT counts them), so the driver can see how long each
#       unit took, not only how many ended (threads take turns on the GIL, so the times of their
#       units interleave without overlapping; a rare lost entry does not matter).
#
# Runs unchanged on CPython 3.8 to 3.13.
import json
import mmap
import os
import sys
import time

UNIT_SCALE = 0.0004  # work(1.0) is ~5.5 s of CPU on the reference machine: a unit is ~2 ms
SLOTS = 64
RING_COUNT_SLOT = SLOTS - 1  # not a unit counter: how many unit times were written to the ring
RING = 16384
FILE_BYTES = (SLOTS + RING) * 8


def map_counters(path):
    """(slots, ring): memoryviews of the 64 counters and of the ring of unit end times in path
    (created and zeroed by the driver, FILE_BYTES long)."""
    with open(path, "r+b") as f:
        mapped = mmap.mmap(f.fileno(), FILE_BYTES)
    view = memoryview(mapped).cast("Q")
    return view[:SLOTS], view[SLOTS:]


def units_done(slots):
    """Units finished so far, all threads."""
    return sum(slots[:RING_COUNT_SLOT])


def recorder(slots, ring):
    """done(): note the end of a unit in the ring."""
    clock = time.perf_counter_ns

    def done():
        n = slots[RING_COUNT_SLOT]
        ring[n % RING] = clock()
        slots[RING_COUNT_SLOT] = n + 1

    return done


def serve(work, stream=None, default_scale=1.0):
    scale = default_scale
    wait = True
    counters = None
    args = sys.argv[1:]
    while args:
        arg = args.pop(0)
        if arg == "--scale":
            scale = float(args.pop(0))
        elif arg == "--no-wait":
            wait = False
        elif arg == "--stream":
            counters = args.pop(0)
        else:
            sys.exit("usage: %s [--scale S] [--no-wait] | --stream COUNTERS" % os.path.basename(sys.argv[0]))
    sys.stdout.write("ready %d\n" % os.getpid())
    sys.stdout.flush()
    if counters:
        slots, ring = map_counters(counters)
        done = recorder(slots, ring)
        if stream:
            stream(slots, done)
        n = 0
        while True:
            work(UNIT_SCALE)
            n += 1
            slots[0] = n
            done()
    if wait and not sys.stdin.readline():
        return  # the driver went away
    wall0, cpu0 = time.perf_counter(), time.process_time()
    check = work(scale)
    wall1, cpu1 = time.perf_counter(), time.process_time()
    sys.stdout.write(json.dumps({"wall_s": wall1 - wall0, "cpu_s": cpu1 - cpu0, "check": check}) + "\n")
    sys.stdout.flush()
