"""What one sample costs on a stack that moves at every call: the overhead workload "recursion"
(workloads/recursion.py, 600 frames down and back, no loop anywhere) run for ever, sampled through
the engine's binding about 1,000 times a second (--rate), as `loopscope attach --rate 1000` would.

    .venv/bin/python benchmarks/bench_moving_stack.py                  # 3 runs of 3,000 samples
    .venv/bin/python benchmarks/bench_moving_stack.py --python ~/.pyenv/versions/3.12.1/bin/python3.12
    .venv/bin/python benchmarks/bench_moving_stack.py --python ~/.pyenv/versions/3.10.13/bin/python3.10 --rate 100
    perf record -g .venv/bin/python benchmarks/bench_moving_stack.py --runs 1   # where the time goes

Per run: CPU microseconds of this process per sample (time.thread_time around the samples, the
1 ms sleeps cost none; the binding's building of the frame lists is included), and per sample the
engine's counters: reads (process_vm_readv calls), the ranges those reads took the target's
memory-map lock for (each range read, and the one a short read stopped at), bytes read, reads
that failed, threads retried, threads read from their own batch (stackbatch.c, 3.11+), and the
share of samples whose thread stayed torn through its retries (kept as a partial stack). Run with
another checkout's venv (its engine, this script) to compare: the counters an older engine does
not have show as "-".

And how deep the stacks it read were, on average (`down` frames of the whole stacks): a reader
that gets deep stacks whole less often than shallow ones (more chunks to read while they move)
shows the program shallower than it is. --pyspy SECONDS also runs `py-spy record` in its default
mode, which stops the target for every sample, on the same target: its stacks are of one
moment whatever the depth, the reference for the mean depth.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

from loopscope import _engine

WORKLOADS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "workloads")
TARGET = ("import sys; sys.path.insert(0, %r)\n"
          "from recursion import DEPTH, down\n"
          "sys.setrecursionlimit(DEPTH + 200)\n"
          "print('ready', flush=True)\n"
          "i = 0\n"
          "while True:\n"
          "    down(DEPTH, i)\n"
          "    i += 1\n" % WORKLOADS)
COUNTERS = ("read_calls", "read_ranges", "read_bytes", "read_failures", "retried_threads", "own_batches",
            "torn_threads")


def run(session, samples, interval):
    for _ in range(100):  # warm the code cache and the batch's prediction
        session.sample()
    names, depths = {}, []
    before, cpu = session.stats(), time.thread_time()
    for _ in range(samples):
        threads = session.sample()
        time.sleep(interval)
        for *_, flags, _cpu, _name, frames in threads:
            if flags & _engine.THREAD_TORN:
                continue
            for function_id, _line in frames:
                if function_id not in names:
                    names[function_id] = session.function(function_id)[0]
            depths.append(sum(names[f] == "down" for f, _ in frames))
    cpu = time.thread_time() - cpu
    after = session.stats()
    per = {name: (after[name] - before[name]) / samples if name in after else None for name in COUNTERS}
    per["depth"] = sum(depths) / len(depths) if depths else 0.0
    return cpu / samples * 1e6, per


def pyspy_depth(pid, seconds):
    """Mean `down` frames of py-spy's stacks (its default, pausing mode) over seconds, or None."""
    pyspy = shutil.which("py-spy", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    if not pyspy:
        print("(py-spy not found: no reference depth)")
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "raw.txt")
        subprocess.run([pyspy, "record", "--pid", str(pid), "--rate", "500", "--duration", str(seconds), "--format",
                        "raw", "-o", out], check=True, capture_output=True)
        total = count = 0
        with open(out) as f:
            for line in f:
                stack, _, n = line.rstrip("\n").rpartition(" ")
                total += stack.count("down (") * int(n)
                count += int(n)
    return total / count if count else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default=sys.executable, help="the target's interpreter (default: this one)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=1000, help="samples a second, about (default 1000)")
    parser.add_argument("--pyspy", type=int, metavar="SECONDS", help="also the mean depth py-spy (pausing) reads")
    args = parser.parse_args()
    target = subprocess.Popen([args.python, "-c", TARGET], stdout=subprocess.PIPE, text=True)
    try:
        assert target.stdout.readline().strip() == "ready"
        session = _engine.Session(target.pid)
        print("| run | CPU us/sample | reads/sample | ranges/sample | bytes/sample | failed reads/sample "
              "| threads retried/sample | own batches/sample | torn % | mean depth |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        cell = lambda value, fmt: "-" if value is None else fmt % value
        for k in range(args.runs):
            us, per = run(session, args.samples, 1.0 / args.rate)
            print("| %d | %.1f | %.1f | %s | %.0f | %.2f | %.3f | %s | %.2f | %.1f |" % (
                k + 1, us, per["read_calls"], cell(per["read_ranges"], "%.1f"), per["read_bytes"], per["read_failures"],
                per["retried_threads"], cell(per["own_batches"], "%.2f"), 100.0 * per["torn_threads"], per["depth"]))
        if args.pyspy:
            depth = pyspy_depth(target.pid, args.pyspy)
            if depth is not None:
                print("\npy-spy record (pausing, 500 Hz, %d s) on the same target: mean depth %.1f" % (args.pyspy, depth))
        print("\n%s, target %s, %s UTC, load %s" % (" ".join(sys.argv), args.python,
                                                    time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
                                                    " ".join("%.2f" % x for x in os.getloadavg())))
    finally:
        target.kill()
        target.wait()


if __name__ == "__main__":
    main()
