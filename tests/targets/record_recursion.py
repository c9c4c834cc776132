# Target: a worker thread recurses DEPTH (default 10,000) levels deep through descend() and then
# spins at the bottom (in bottom(), for the given number of seconds, or until killed), so every
# sample shows a stack at least DEPTH frames deep. The thread gets a large C stack, so that 3.8 -
# 3.10 (one C frame per Python call) survive the depth too. Prints "ready" once at the bottom.
# Runs unchanged on CPython 3.8 to 3.13.
import sys
import threading
import time

DEPTH = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 3600.0


def bottom():
    print("ready", flush=True)
    end = time.monotonic() + SECONDS
    while time.monotonic() < end:
        time.sleep(0.001)
        sum(range(200))


def descend(remaining):
    if remaining > 1:
        return descend(remaining - 1)
    return bottom()


def main():
    sys.setrecursionlimit(DEPTH + 1000)
    threading.stack_size(512 * 1024 * 1024)
    worker = threading.Thread(target=descend, args=(DEPTH,), name="deep")
    threading.stack_size(0)
    worker.start()
    worker.join()


if __name__ == "__main__":
    main()
