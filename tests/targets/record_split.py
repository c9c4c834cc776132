# Target for the recording tests: the main thread splits its CPU between heavy() and light(), three
# to one, each timing itself with time.thread_time(); optional threads sleep (sleeper_loop) or spin
# (worker_spin). At the end it writes what it measured as JSON (--truth) and exits with --exit, or
# kills itself with --kill-self. With --on-term FILE, SIGTERM writes FILE, runs after_sigterm() for
# a moment (so the recording has something after the signal) and exits with --term-exit. --ready
# FILE is created when the main loop starts.
# Runs unchanged on CPython 3.8 to 3.13.
import argparse
import json
import os
import signal
import sys
import threading
import time

HEAVY_S = 0.021  # CPU seconds per call: heavy is three times light; a 28 ms round that is no
LIGHT_S = 0.007  # multiple of the 10 ms sampling period, so samples cannot lock onto one phase

spent = {"heavy": 0.0, "light": 0.0, "after_sigterm": 0.0}
terminated = threading.Event()


def spin(seconds):
    start = time.thread_time()
    while time.thread_time() - start < seconds:
        pass
    return time.thread_time() - start


def heavy():
    spent["heavy"] += spin(HEAVY_S)


def light():
    spent["light"] += spin(LIGHT_S)


def after_sigterm():
    spent["after_sigterm"] += spin(0.3)


def sleeper_loop(stop):
    while not stop.is_set():
        time.sleep(0.05)


def worker_spin(stop):
    total = 0
    while not stop.is_set():
        for i in range(1000):
            total += i


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0, help="how long to run (wall)")
    parser.add_argument("--exit", type=int, default=0)
    parser.add_argument("--kill-self", type=int, help="end by this signal instead of exiting")
    parser.add_argument("--truth", help="write the measured CPU times here")
    parser.add_argument("--sleeper", action="store_true", help="a thread that sleeps all the time")
    parser.add_argument("--worker", action="store_true", help="a thread that spins all the time")
    parser.add_argument("--on-term", help="handle SIGTERM: write this file, then run after_sigterm()")
    parser.add_argument("--term-exit", type=int, default=42)
    parser.add_argument("--forever", action="store_true", help="run until killed (or SIGTERM with --on-term)")
    parser.add_argument("--ready", help="create this file when the main loop starts")
    args, rest = parser.parse_known_args()

    if args.on_term:
        signal.signal(signal.SIGTERM, lambda signum, frame: terminated.set())

    stop = threading.Event()
    threads = {}
    if args.sleeper:
        threads["sleeper"] = threading.Thread(target=sleeper_loop, args=(stop,), name="sleeper", daemon=True)
    if args.worker:
        threads["worker"] = threading.Thread(target=worker_spin, args=(stop,), name="worker", daemon=True)
    for thread in threads.values():
        thread.start()

    if args.ready:
        open(args.ready, "w").close()
    end = time.monotonic() + args.seconds
    while (args.forever or time.monotonic() < end) and not terminated.is_set():
        heavy()
        light()

    if terminated.is_set():
        with open(args.on_term, "w") as f:
            f.write("SIGTERM handled by pid %d\n" % os.getpid())
        after_sigterm()
    stop.set()
    for thread in threads.values():
        thread.join()

    if args.truth:
        truth = dict(spent, pid=os.getpid(), argv=rest, python_version=sys.version.split()[0],
                     native_ids={name: getattr(t, "native_id", None) for name, t in threads.items()})
        with open(args.truth + ".partial", "w") as f:
            json.dump(truth, f)
        os.replace(args.truth + ".partial", args.truth)
    sys.stdout.flush()
    if terminated.is_set():
        sys.exit(args.term_exit)
    if args.kill_self:
        os.kill(os.getpid(), args.kill_self)
        time.sleep(5)
    sys.exit(args.exit)


if __name__ == "__main__":
    main()
