# Target: a thread named "first-name" that works (a little arithmetic, then a 1 ms sleep) for good;
# SIGUSR1 renames it to "second-name" (threading.Thread.name, set from the main thread's signal
# handler). Prints "ready" once the thread runs. For the test that a recording follows a rename.
import signal
import sys
import threading
import time


def work():
    while True:
        sum(range(500))
        time.sleep(0.001)


def main():
    worker = threading.Thread(target=work, name="first-name", daemon=True)
    worker.start()

    def rename(signum, frame):
        worker.name = "second-name"

    signal.signal(signal.SIGUSR1, rename)
    print("ready", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
