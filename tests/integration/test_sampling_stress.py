"""Back-to-back samples of a target whose stacks change all the time (tests/targets/churn.py).

Checks what a user relies on when the reader races the target: every sample succeeds, every frame
names a function that exists (in the target or the standard library: a torn read or a stale cache
entry would show garbage or a wrong name), no thread is ever deeper than the program can go (a
stack spliced from two threads would be), and that the reader still gets most stacks whole. The
torn share is a benchmark figure (benchmarks/bench_sample.py --only torn, in RESULTS.md): it depends
on how often the reader is preempted mid-walk, and on a loaded 2-core machine it reached 17% on
<=3.10. The bound here, half of all thread samples, only guards against a walker that can no longer
read a moving stack at all; the consistency checks above are what this test is for.
"""
import json
import os
import subprocess
import time

from loopscope import _engine
from support import require, supported_interpreters

TARGET = os.path.join(os.path.dirname(__file__), "..", "targets", "churn.py")
TARGET_FILE = os.path.abspath(TARGET)
SAMPLES = 1500


def test_samples_of_a_churning_target_are_consistent(interpreter):
    python = dict(supported_interpreters())[interpreter]
    require(python, "CPython %s is not installed" % interpreter)
    proc = subprocess.Popen([python, TARGET, "60"], stdout=subprocess.PIPE, universal_newlines=True)
    try:
        names = set(json.loads(proc.stdout.readline()))
        time.sleep(0.2)
        session = _engine.Session(proc.pid)
        session.set_os_info(False)
        functions = {}
        threads_seen = 0
        deepest = 0
        for _ in range(SAMPLES):
            for thread_id, native_id, interp, flags, cpu, name, frames in session.sample():
                threads_seen += 1
                deepest = max(deepest, len(frames))
                for function_id, line in frames:
                    if function_id not in functions:
                        functions[function_id] = session.function(function_id)
                    fn, filename, first_line = functions[function_id]
                    if os.path.abspath(filename) == TARGET_FILE:
                        assert fn in names, "a frame names %r, which churn.py does not have" % fn
                        assert line == -1 or line >= first_line
                    else:
                        assert filename.endswith(".py") and "/python3." in filename, filename
        stats = session.stats()
        assert stats["samples"] == SAMPLES
        assert threads_seen >= SAMPLES * 4
        # recursion goes 30 levels, each level at most 3 frames, plus the thread's own frames
        assert deepest < 30 * 3 + 20
        torn = stats["torn_threads"] / stats["threads_walked"]
        print("%s: %d thread samples, %.3f%% torn, %.3f%% retried, %d whole samples retried" % (
            python, stats["threads_walked"], 100 * torn, 100 * stats["retried_threads"] / stats["threads_walked"],
            stats["retried_samples"]))
        assert torn < 0.5
    finally:
        proc.kill()
        proc.wait()
