# Target: threads start and end all the time. SPAWNERS (2) threads each loop: start a thread that
# runs short_lived() (a little work) and join it; the main thread sleeps in main_wait(). Prints
# "ready" once the spawners run, then runs for the given seconds (default: until killed).
# Runs unchanged on CPython 3.8 to 3.13.
import sys
import threading
import time

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 3600.0
SPAWNERS = 2
created = [0]


def short_lived():
    total = 0
    for i in range(500):
        total += i
    return total


def spawner(stop):
    while not stop.is_set():
        thread = threading.Thread(target=short_lived)
        thread.start()
        thread.join()
        created[0] += 1


def main_wait(stop, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.05)
    stop.set()


def main():
    stop = threading.Event()
    spawners = [threading.Thread(target=spawner, args=(stop,), name="spawner-%d" % i) for i in range(SPAWNERS)]
    for thread in spawners:
        thread.start()
    print("ready", flush=True)
    main_wait(stop, SECONDS)
    for thread in spawners:
        thread.join()
    print("created %d threads" % created[0], flush=True)


if __name__ == "__main__":
    main()
