# bench_threads.py - a target with many threads (1,000 blocked threading.Threads and a sleeping
# main thread, tests/targets/record_threads.py): what one sample of every thread costs loopscope's
# engine, beside an older checkout of it, and what py-spy does on the same target at 100 Hz.
"""Usage: python benchmarks/bench_threads.py [--threads 1000] [--rounds 10] [--baseline DIR]
                                             [--python PYTHON] [--json OUT]

Per round, in turns (this checkout, the baseline, py-spy, then the other way round in the next
round), on one target started once:
  - engine: benchmarks/engine_loop.c built from this checkout's src/engine (and from --baseline's,
    e.g. `git worktree add /tmp/base <commit>`): the CPU time of one sample of every thread, OS
    facts included (state, CPU time), after 3 warm-up samples; 30 timed samples. 1 / that is the
    highest rate the engine can keep on this target;
  - loopscope: `loopscope attach PID --rate 100 --duration 5 --no-serve`: samples per second
    achieved and the ticks it reported late;
  - py-spy: `py-spy record --pid PID --rate 100 --duration 5 --nonblocking --idle`: the stacks it
    kept divided by the thread count (its ticks) over the wall time it took (it takes every
    scheduled sample however late, so on many threads it runs far past --duration), and its CPU per
    tick. Only in the first --pyspy-rounds rounds (a round of it can take a minute).
Figures: median [min-max] over the rounds; ratios: the median of per-round ratios.
"""
import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "workloads"))

import harness  # noqa: E402
from bench_sample import build_engine_loop, engine_loop  # noqa: E402

TARGET = os.path.join(ROOT, "tests", "targets", "record_threads.py")
SECONDS = 5


def summary(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return "n/a"
    return "%.2f [%.2f-%.2f]" % (statistics.median(values), values[0], values[-1])


def engine_ms(binary, pid):
    out = engine_loop(binary, pid, 3, 30)
    return out["cpu_ns"] / out["samples"] / 1e6


def loopscope_rate(pid, workdir):
    out = os.path.join(workdir, "threads.lsp")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(out + suffix):
            os.unlink(out + suffix)
    subprocess.run(harness.find_loopscope() + ["attach", str(pid), "--rate", "100", "--duration", str(SECONDS),
                                               "--no-serve", "--quiet", "-o", out], check=True)
    from loopscope.storage import Profile

    with Profile(out) as profile:
        windows = profile.windows()
    seconds = (windows[-1]["end_unix_ns"] - windows[0]["start_unix_ns"]) / 1e9
    ticks = sum(w["samples"] for w in windows)
    late = sum(w["late"] for w in windows)
    return ticks / seconds, 100.0 * late / max(1, ticks + late)


def pyspy_rate(pyspy, pid, threads, workdir):
    out = os.path.join(workdir, "pyspy.txt")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    text = subprocess.run([pyspy, "record", "--pid", str(pid), "--rate", "100", "--duration", str(SECONDS),
                           "--nonblocking", "--idle", "--format", "raw", "-o", out],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    m = re.search(r"Samples: (\d+) Errors: (\d+)", text)
    if not m:
        raise RuntimeError("py-spy said: %s" % text[-500:])
    # py-spy takes every scheduled sample, however late: what it achieves is its ticks over the
    # time it took, which on many threads is far more than the --duration
    ticks = int(m.group(1)) / threads
    return ticks / wall, int(m.group(2)), cpu, wall


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--baseline", help="another checkout whose engine to time beside this one")
    parser.add_argument("--pyspy-rounds", type=int, default=3)
    parser.add_argument("--python", default="/root/.pyenv/versions/3.11.7/bin/python3.11")
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args()
    pyspy = harness.find_pyspy()
    facts = harness.machine_facts(pyspy)
    with tempfile.TemporaryDirectory() as workdir:
        this_bin = build_engine_loop(workdir)
        base_bin = build_engine_loop(workdir, args.baseline, "engine_loop_baseline") if args.baseline else None
        target = harness.start_target([args.python, TARGET, str(args.threads)])
        rows = []
        try:
            for round_index in range(args.rounds):
                row = {}
                steps = ["this", "baseline", "loopscope", "py-spy"]
                if round_index % 2:
                    steps.reverse()
                for step in steps:
                    if step == "this":
                        row["this_ms"] = engine_ms(this_bin, target.pid)
                    elif step == "baseline" and base_bin:
                        row["baseline_ms"] = engine_ms(base_bin, target.pid)
                    elif step == "loopscope":
                        row["loopscope_rate"], row["loopscope_late_pct"] = loopscope_rate(target.pid, workdir)
                    elif step == "py-spy" and pyspy and round_index < args.pyspy_rounds:
                        rate, row["pyspy_errors"], cpu, wall = pyspy_rate(pyspy, target.pid, args.threads + 1, workdir)
                        row["pyspy_rate"], row["pyspy_wall_s"] = rate, wall
                        row["pyspy_ms_per_tick"] = 1000.0 * cpu / (rate * wall) if rate else None
                harness.log("round %d: %s" % (round_index + 1, json.dumps(row)))
                rows.append(row)
        finally:
            harness.kill(target)
    col = lambda key: [r.get(key) for r in rows]  # noqa: E731
    lines = [harness.facts_markdown(facts), "%d threads (+ main), %s, %d rounds" % (args.threads, args.python, args.rounds)]
    lines.append("engine, CPU ms per sample of every thread (OS facts included): this %s" % summary(col("this_ms")))
    if base_bin:
        ratios = [r["this_ms"] / r["baseline_ms"] for r in rows]
        lines.append("  baseline (%s) %s; this / baseline %s" % (args.baseline, summary(col("baseline_ms")), summary(ratios)))
    lines.append("loopscope attach --rate 100: %s samples/s, late %s %%" % (summary(col("loopscope_rate")),
                                                                           summary(col("loopscope_late_pct"))))
    if pyspy:
        lines.append("py-spy record --rate 100 --duration %d --nonblocking --idle: %s ticks/s (took %s s), CPU %s ms "
                     "per tick, errors %s" % (SECONDS, summary(col("pyspy_rate")), summary(col("pyspy_wall_s")),
                                             summary(col("pyspy_ms_per_tick")), summary(col("pyspy_errors"))))
        lines.append("loopscope / py-spy achieved rate: %s" % summary(
            [r["loopscope_rate"] / r["pyspy_rate"] for r in rows if r.get("pyspy_rate")]))
    print("\n".join(lines))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "args": vars(args), "facts": facts}, f, indent=1)


if __name__ == "__main__":
    main()
