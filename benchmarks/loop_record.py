"""loopscope's side of the `py-spy record` comparison: sample PID at RATE Hz for SECONDS seconds,
counting identical stacks the way a flame-graph recorder does, and print one JSON line.

    python loop_record.py PID RATE SECONDS

Paced like py-spy: a fixed schedule of sample times, sleeping until the next one. The whole process's
CPU time is measured from outside (bench_sample.py reads this process's rusage); the JSON also
gives the sampling thread's own CPU time inside the loop.
"""
import json
import sys
import time

from loopscope import _engine


def main():
    if len(sys.argv) != 4 or not sys.argv[1].isdigit():
        sys.exit("usage: python loop_record.py PID RATE SECONDS")
    pid, rate, seconds = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    deadline = time.monotonic() + 2.0
    while True:
        try:
            session = _engine.Session(pid)
            break
        except _engine.Error as e:
            if e.args[0] != _engine.ERR_NOT_STARTED or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    counts = {}
    names = {}
    samples = errors = 0
    interval = 1.0 / rate
    cpu0 = time.thread_time_ns()
    start = time.monotonic()
    next_at = start
    end = start + seconds
    while True:
        now = time.monotonic()
        if now >= end:
            break
        if next_at > now:
            time.sleep(next_at - now)
        next_at += interval
        try:
            threads = session.sample()
        except _engine.Error:
            errors += 1
            continue
        samples += 1
        for thread in threads:
            frames = thread[6]
            for function_id, _ in frames:  # name every function once, as a recorder must
                if function_id not in names:
                    names[function_id] = session.function(function_id)
            key = (thread[0], frames)
            counts[key] = counts.get(key, 0) + 1
    cpu1 = time.thread_time_ns()
    json.dump({"samples": samples, "errors": errors, "distinct_stacks": len(counts),
               "loop_thread_cpu_ns": cpu1 - cpu0, "wall_s": time.monotonic() - start}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
