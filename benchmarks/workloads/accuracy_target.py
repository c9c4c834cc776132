# Accuracy target: the main thread splits its CPU time between phase_a, phase_b and phase_c in the
# proportions 60/30/10 and measures that split itself, with its own CPU clock; a second thread
# sleeps. Inside phase_a, two blocks of lines split its time 2/3 - 1/3 (40% and 20% of the total).
#
#   python accuracy_target.py TRUTH.json [--seconds S]
#
# Prints "ready PID" once it runs, then loops until SIGTERM (or S seconds): each cycle runs phase_a
# for 60 ms of CPU, phase_b for 30 ms and phase_c for 10 ms, all three scaled by one random factor
# in [0.7, 1.3] per cycle (so that the cycle is never a multiple of a sampling period). Each phase
# spins until time.thread_time_ns() has advanced by its budget. At exit it writes TRUTH.json:
#
#   timeline  [[name, wall_start_ns, wall_end_ns, cpu_ns], ...]: every phase ("phase_a", ...),
#             every block of lines ("a1", "a2") and every whole cycle ("cycle", contiguous: the
#             cycles tile the thread's time, so cycle CPU minus the phases is the loop's own cost);
#             wall times are time.time_ns() (the clock loopscope's windows use), CPU times are the
#             thread's CPU clock (what the kernel's schedstat counts, which loopscope reads)
#   blocks    {"a1": [first_line, last_line], "a2": [...]}: the lines of each block in this file
#   pid, file, busy_native_id, sleeper_native_id
#
# bench_accuracy.py takes the truth over any wall-time interval from the timeline (an entry that
# straddles an edge counts in proportion to its wall time inside). Runs on CPython 3.8 to 3.13.
import json
import os
import random
import re
import signal
import sys
import threading
import time

clock = time.thread_time_ns
wall = time.time_ns
R = range(40)
timeline = []
stop = []


def phase_a(budget_ns, x):
    t0, w0 = clock(), wall()
    end = t0 + budget_ns * 2 // 3  # BLOCK a1 begin
    while True:
        for _ in R: x = (x * 1103515245 + 12345) & 0x7FFFFFFF  # noqa: E701
        if clock() >= end:
            break
    t1, w1 = clock(), wall()  # BLOCK a1 end
    end = t1 + budget_ns - budget_ns * 2 // 3  # BLOCK a2 begin
    while True:
        for _ in R: x = (x * 69069 + 1) & 0x7FFFFFFF  # noqa: E701
        if clock() >= end:
            break
    t2, w2 = clock(), wall()  # BLOCK a2 end
    timeline.append(("a1", w0, w1, t1 - t0))
    timeline.append(("a2", w1, w2, t2 - t1))
    return x


def phase_b(budget_ns, x):
    end = clock() + budget_ns
    while True:
        for _ in R: x = (x * 22695477 + 1) & 0x7FFFFFFF  # noqa: E701
        if clock() >= end:
            break
    return x


def phase_c(budget_ns, x):
    end = clock() + budget_ns
    while True:
        for _ in R: x = (x * 134775813 + 1) & 0x7FFFFFFF  # noqa: E701
        if clock() >= end:
            break
    return x


def sleeper(ids):
    ids.append(threading.get_native_id() if hasattr(threading, "get_native_id") else 0)
    while True:
        time.sleep(0.25)


def blocks():
    """{"a1": [first, last], ...} from the BLOCK markers of this file."""
    found = {}
    with open(os.path.abspath(__file__)) as f:
        for number, text in enumerate(f, 1):
            marker = re.search(r"# BLOCK (\w+) (begin|end)$", text.rstrip())
            if marker:
                found.setdefault(marker.group(1), [0, 0])[0 if marker.group(2) == "begin" else 1] = number
    return found


def run(seconds):
    rng = random.Random(12345)
    x = 1
    started = time.monotonic()
    w_prev, c_prev = wall(), clock()
    announced = False
    while not stop and (seconds is None or time.monotonic() - started < seconds):
        s = rng.uniform(0.7, 1.3)
        c0, w0 = clock(), wall()
        x = phase_a(int(60e6 * s), x)
        c1, w1 = clock(), wall()
        x = phase_b(int(30e6 * s), x)
        c2, w2 = clock(), wall()
        x = phase_c(int(10e6 * s), x)
        c3, w3 = clock(), wall()
        timeline.append(("phase_a", w0, w1, c1 - c0))
        timeline.append(("phase_b", w1, w2, c2 - c1))
        timeline.append(("phase_c", w2, w3, c3 - c2))
        c_end, w_end = clock(), wall()
        timeline.append(("cycle", w_prev, w_end, c_end - c_prev))
        w_prev, c_prev = w_end, c_end
        if not announced:
            sys.stdout.write("ready %d\n" % os.getpid())
            sys.stdout.flush()
            announced = True
    return x


def main():
    if len(sys.argv) not in (2, 4) or (len(sys.argv) == 4 and sys.argv[2] != "--seconds"):
        sys.exit("usage: accuracy_target.py TRUTH.json [--seconds S]")
    out = sys.argv[1]
    seconds = float(sys.argv[3]) if len(sys.argv) == 4 else None
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.append(signum))
    sleeper_ids = []
    threading.Thread(target=sleeper, args=(sleeper_ids,), name="sleeper", daemon=True).start()
    run(seconds)
    with open(out, "w") as f:
        json.dump({"pid": os.getpid(), "file": os.path.abspath(__file__), "busy_native_id": os.getpid(),
                   "sleeper_native_id": sleeper_ids[0] if sleeper_ids else 0, "blocks": blocks(),
                   "timeline": timeline}, f)


if __name__ == "__main__":
    main()
