# Target: COUNT (default 1,000) threads, each blocked in blocked_worker() on an event that is never
# set, and a main thread that sleeps in main_wait(). Prints "ready" once every thread has started.
# Runs unchanged on CPython 3.8 to 3.13.
import sys
import threading
import time

COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
never = threading.Event()
started = threading.Semaphore(0)


def blocked_worker():
    started.release()
    never.wait()


def main_wait():
    while True:
        time.sleep(0.1)


def main():
    threading.stack_size(256 * 1024)  # 1,000 threads of the default 8 MB would reserve 8 GB
    for i in range(COUNT):
        threading.Thread(target=blocked_worker, name="blocked-%d" % i, daemon=True).start()
    for _ in range(COUNT):
        started.acquire()
    print("ready", flush=True)
    main_wait()


if __name__ == "__main__":
    main()
