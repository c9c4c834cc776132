# Benchmark target: stacks that change all the time. THREADS worker threads (default 4) each loop
# forever: recurse through rec() to a random depth of 1-30, then drain a chain of nested generators
# (gen() delegating with `yield from`, a random 1-5 deep) and return all the way; no blocking, so
# every frame is pushed and popped within microseconds. The main thread sleeps in main().
#
#   python churn.py [THREADS]
#
# Prints "ready PID" once the workers run. Runs unchanged on CPython 3.6 to 3.13.
# bench_sample.py checks every sampled stack against the shape this file makes (the names below).
import os
import random
import sys
import threading
import time


def gen(depth):
    if depth > 1:
        yield from gen(depth - 1)
    else:
        for i in range(3):
            yield i


def rec(depth, rng):
    if depth > 1:
        return rec(depth - 1, rng) + 1
    total = 0
    for value in gen(rng.randint(1, 5)):
        total += value
    return total


def worker(seed):
    rng = random.Random(seed)
    while True:
        rec(rng.randint(1, 30), rng)


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    sys.setswitchinterval(0.001)  # hand the GIL around often: every worker's stack moves
    for k in range(threads):
        threading.Thread(target=worker, args=(k,), name="churn-%d" % k, daemon=True).start()
    sys.stdout.write("ready %d\n" % os.getpid())
    sys.stdout.flush()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
