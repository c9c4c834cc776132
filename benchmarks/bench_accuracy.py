"""Accuracy of loopscope's recording against a target that knows its own CPU split, with py-spy beside it.

    .venv/bin/python benchmarks/bench_accuracy.py             # 3 rounds x 3 runs of 30 s at 100 Hz, ~5 minutes
    .venv/bin/python benchmarks/bench_accuracy.py --quick     # a smoke run: 1 round of 5 s runs
    .venv/bin/python benchmarks/bench_accuracy.py --wait-quiet 1500 --json /tmp/accuracy.json

The target (workloads/accuracy_target.py) spends its main thread's CPU time in phase_a, phase_b and
phase_c in the proportions 60/30/10 and, inside phase_a, in two blocks of lines (40% and 20% of the
total); it measures the split itself with time.thread_time_ns() and writes a timeline of it. A second
thread sleeps. The truth is taken from that timeline over exactly the interval each profiler sampled.

Every round runs three targets, each sampled for --duration seconds at --rate Hz:
  alone      `loopscope attach PID --rate R --duration D -q -o X.lsp`
  nonblock   the same, and at the same time `py-spy record --pid PID --rate R --duration D
             --format raw --threads --nonblocking -o X.txt`
  pausing    the same with py-spy in its default mode (it stops the target for every sample)

Shares are of the busy (main) thread's time; each sample or record is given to the innermost frame
that is phase_a, phase_b or phase_c (and, for phase_a, to the block of lines its line falls in);
anything else is "other". loopscope is read three ways from the profile (Profile.profile_dict()):
  cpu       cpu_ns: the CPU time the thread used between two ticks (from /proc/.../schedstat), given
            to the stack seen at the later tick: the headline, it is what --mode cpu shows
  on-cpu    the count of samples where the thread was on a CPU
  samples   every sample (wall time)
and py-spy by its sample counts (the folded lines of --format raw, idle samples excluded as py-spy
does by default). The error is measured share minus true share, in percentage points; the target
is |error| <= 1 point for every function at 100 Hz over 30 s.

Needs: py-spy (`.venv/bin/pip install py-spy`; without it only loopscope is measured) and the right
to read the target's memory (it is this script's child; run as root or with ptrace_scope 0).
Prints markdown on stdout; --json writes every number.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "workloads"))
import harness  # noqa: E402
from harness import log  # noqa: E402

TARGET = os.path.join(harness.HERE, "accuracy_target.py")
FUNCTIONS = ("phase_a", "phase_b", "phase_c")
BLOCKS = ("a1", "a2")
KEYS = FUNCTIONS + BLOCKS + ("other",)
TRUE_SHARES = {"phase_a": 60, "phase_b": 30, "phase_c": 10, "a1": 40, "a2": 20}
CONFIGS = ("alone", "nonblock", "pausing")
PYSPY_FRAME = re.compile(r"^(.*) \((.*):(\d+)\)$")


# --- the truth ---------------------------------------------------------------------------------

def truth_over(timeline, start_ns, end_ns):
    """{key: CPU ns} of the busy thread inside [start_ns, end_ns) from the target's timeline; an
    entry that straddles an edge counts in proportion to its wall time inside. "total" is the
    thread's whole CPU time (the cycles tile it), "other" what no phase accounts for."""
    sums = dict.fromkeys(FUNCTIONS + BLOCKS + ("cycle",), 0.0)
    for name, w0, w1, cpu in timeline:
        overlap = min(w1, end_ns) - max(w0, start_ns)
        if overlap <= 0 or name not in sums:
            continue
        sums[name] += cpu * (overlap / (w1 - w0) if w1 > w0 else 1.0)
    sums["total"] = sums.pop("cycle")
    sums["other"] = sums["total"] - sum(sums[f] for f in FUNCTIONS)
    return sums


def shares(sums):
    """{key: percent of the total} (the total is the thread's whole time)."""
    total = sums.get("total") or sum(sums[f] for f in FUNCTIONS) + sums.get("other", 0)
    return {k: 100.0 * sums.get(k, 0) / total if total else float("nan") for k in KEYS}


def attribute(frames, blocks, target_file):
    """(function, block) for a stack given innermost first as [(name, file, line)]: the innermost
    frame of one of FUNCTIONS in the target's file; block is None outside phase_a's blocks."""
    for name, path, line in frames:
        if name in FUNCTIONS and os.path.basename(path) == os.path.basename(target_file):
            block = None
            if name == "phase_a":
                for b, (lo, hi) in blocks.items():
                    if lo <= line <= hi:
                        block = b
            return name, block
    return "other", None


def add(sums, key, block, weight):
    sums[key] = sums.get(key, 0) + weight
    if block:
        sums[block] = sums.get(block, 0) + weight
    sums["total"] = sums.get("total", 0) + weight


# --- loopscope -----------------------------------------------------------------------------------

def loopscope_measures(path, truth):
    """Shares of the busy thread by cpu_ns, on-CPU samples and all samples; the sampled interval;
    the sleeping thread's numbers; the sampler's counters."""
    from loopscope.storage import Profile

    with Profile(path) as profile:
        data = profile.profile_dict()
        windows = profile.windows()
        _, end_unix = profile.time_range()
    strings, functions, frames, stacks = data["strings"], data["functions"], data["frames"], data["stacks"]
    busy_ids = [i for i, t in enumerate(data["threads"]) if t[0] == truth["busy_native_id"]]
    sleeper_ids = [i for i, t in enumerate(data["threads"]) if t[0] == truth["sleeper_native_id"]]
    by = {"cpu": {}, "on-cpu": {}, "samples": {}}
    sleeper = {"samples": 0, "on_cpu": 0, "cpu_ns": 0}
    for thread, stack, samples, wall_ns, cpu_ns, on_cpu, gil in data["records"]:
        if thread in sleeper_ids:
            sleeper["samples"] += samples
            sleeper["on_cpu"] += on_cpu
            sleeper["cpu_ns"] += cpu_ns
        if thread not in busy_ids:
            continue
        named = []
        for frame in stacks[stack]:
            fn, line = frames[frame]
            name_id, file_id, _ = functions[fn]
            named.append((strings[name_id], strings[file_id], line))
        key, block = attribute(named, truth["blocks"], truth["file"])
        add(by["cpu"], key, block, cpu_ns)
        add(by["on-cpu"], key, block, on_cpu)
        add(by["samples"], key, block, samples)
    start = windows[0]["start_unix_ns"]
    end = min(windows[-1]["end_unix_ns"], end_unix)
    counters = {"samples": sum(w["samples"] for w in windows), "late": sum(w["late"] for w in windows),
                "failed": sum(w["failed"] for w in windows)}
    return {"shares": {k: shares(v) for k, v in by.items()}, "interval": (start, end),
            "busy_samples": by["samples"].get("total", 0), "sleeper": sleeper, "counters": counters}


# --- py-spy --------------------------------------------------------------------------------------

def pyspy_measures(path, truth):
    """Shares of the busy thread by py-spy's sample counts, and the sleeping thread's count."""
    sums, sleeper = {}, 0
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            stack_text, _, count = line.rpartition(" ")
            parts = stack_text.split(";")
            thread = re.match(r"thread \((?:0x)?([0-9A-Fa-f]+)\)", parts[0])
            native = int(thread.group(1)) if thread else None
            if native == truth["sleeper_native_id"]:
                sleeper += int(count)
                continue
            if native != truth["busy_native_id"]:
                continue
            named = []
            for part in reversed(parts[1:]):  # py-spy writes the root first
                m = PYSPY_FRAME.match(part)
                if m:
                    named.append((m.group(1), m.group(2), int(m.group(3))))
            key, block = attribute(named, truth["blocks"], truth["file"])
            add(sums, key, block, int(count))
    return {"shares": shares(sums), "busy_samples": sums.get("total", 0), "sleeper_samples": sleeper}


class LineTimes:
    """Read a child's output lines in a thread, noting when each arrived (time.time_ns())."""

    def __init__(self, stream):
        self.lines = []
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for line in stream:
            self.lines.append((time.time_ns(), line.rstrip("\n")))

    def first(self, text):
        for t, line in self.lines:
            if text in line:
                return t, line
        return None, None


# --- one run ---------------------------------------------------------------------------------------

def one_run(config, args, pyspy, workdir, label):
    """One target sampled by loopscope (and py-spy, unless config is "alone"); returns the result."""
    truth_path = os.path.join(workdir, label + ".truth.json")
    lsp = os.path.join(workdir, label + ".lsp")
    raw = os.path.join(workdir, label + ".pyspy.txt")
    target = harness.start_target([args.python, TARGET, truth_path])
    pid = target.pid
    spy = spy_lines = None
    try:
        time.sleep(0.5)  # let the target settle into its cycles
        ls_cmd = harness.find_loopscope() + ["attach", str(pid), "--rate", str(args.rate), "--duration",
                                               str(args.duration), "-q", "-o", lsp]
        spy_cmd = None
        if config != "alone" and pyspy:
            spy_cmd = [pyspy, "record", "--pid", str(pid), "--rate", str(args.rate), "--duration",
                       str(int(args.duration)), "--format", "raw", "--threads", "-o", raw]
            if config == "nonblock":
                spy_cmd.append("--nonblocking")
        ls = subprocess.Popen(ls_cmd)
        if spy_cmd:
            spy = subprocess.Popen(spy_cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            spy_lines = LineTimes(spy.stdout)
        ls_cpu = harness.wait_rusage(ls, args.duration + 60)
        spy_cpu = harness.wait_rusage(spy, args.duration + 60) if spy else None
        if spy:
            spy_lines.thread.join(5)
    finally:
        if target.poll() is None:
            target.terminate()
        try:
            target.wait(10)
        except subprocess.TimeoutExpired:
            harness.kill(target)
    if ls.returncode != 0:
        raise RuntimeError("loopscope attach failed (exit %s): %s" % (ls.returncode, " ".join(ls_cmd)))
    with open(truth_path) as f:
        truth = json.load(f)
    result = {"config": config, "label": label, "loopscope_command": ls_cmd, "pyspy_command": spy_cmd,
              "loopscope_cpu_s": ls_cpu, "pyspy_cpu_s": spy_cpu}
    ls_res = loopscope_measures(lsp, truth)
    t_sums = truth_over(truth["timeline"], *ls_res["interval"])
    result["loopscope"] = ls_res
    result["truth_loopscope"] = shares(t_sums)
    if spy_cmd:
        started, _ = spy_lines.first("Sampling process")
        summary = spy_lines.first("Samples:")[1] or ""
        summary = (re.search(r"Samples: \d+ Errors: \d+", summary) or re.search(".*", summary)).group(0)
        if spy.returncode != 0 or not os.path.exists(raw):
            raise RuntimeError("py-spy failed (exit %s): %s\n%s" % (
                spy.returncode, " ".join(spy_cmd), "\n".join(l for _, l in spy_lines.lines)))
        spy_res = pyspy_measures(raw, truth)
        interval = (started, started + int(args.duration * 1e9))
        spy_res["interval"] = interval
        spy_res["summary"] = summary
        result["pyspy"] = spy_res
        result["truth_pyspy"] = shares(truth_over(truth["timeline"], *interval))
    for path in (truth_path, raw):
        if os.path.exists(path) and not args.keep:
            os.unlink(path)
    return result


def errors(measured, truth):
    return {k: measured[k] - truth[k] for k in KEYS}


def max_abs(err, keys):
    return max(abs(err[k]) for k in keys)


# --- report --------------------------------------------------------------------------------------

def report(results, args, facts, load_after, quiet_note):
    out = []
    w = out.append
    w("## Accuracy (bench_accuracy.py)\n")
    if quiet_note:
        w(quiet_note + "\n")
    w("Command: `%s`\n" % " ".join([os.path.relpath(sys.executable, harness.ROOT)] + sys.argv))
    w(harness.facts_markdown(facts))
    w("- load average after: %s\n" % load_after)
    w("Target: `%s`: main thread 60/30/10 %% of its CPU in phase_a/phase_b/phase_c, phase_a split "
      "40/20 %% between two blocks of lines (a1, a2); a second thread sleeps. Truth = the target's own "
      "thread CPU clock over exactly the interval each profiler sampled. %d Hz, %g s per run.\n"
      % (os.path.relpath(TARGET, harness.ROOT), args.rate, args.duration))
    w("### True shares and errors per run (percentage points, measured - true)\n")
    w("| round | run | measure | true a/b/c (a1/a2) % | err phase_a | err phase_b | err phase_c | err a1 | err a2 "
      "| err other | max abs err (functions) | max abs err (lines) | busy-thread samples |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    summary = {}
    for r in results:
        rows = []
        truth = r["truth_loopscope"]
        for measure in ("cpu", "on-cpu", "samples"):
            rows.append(("loopscope " + measure, r["loopscope"]["shares"][measure], truth, r["loopscope"]["busy_samples"]))
        if "pyspy" in r:
            mode = "py-spy --nonblocking" if r["config"] == "nonblock" else "py-spy (pausing)"
            rows.append((mode, r["pyspy"]["shares"], r["truth_pyspy"], r["pyspy"]["busy_samples"]))
        for name, measured, t, n in rows:
            e = errors(measured, t)
            key = name if not name.startswith("loopscope") else "%s [%s]" % (name, r["config"])
            summary.setdefault(name, []).append((max_abs(e, FUNCTIONS), max_abs(e, BLOCKS)))
            w("| %s | %s | %s | %.1f/%.1f/%.1f (%.1f/%.1f) | %+.2f | %+.2f | %+.2f | %+.2f | %+.2f | %+.2f | %.2f | %.2f | %d |" % (
                r["round"], r["config"], name, t["phase_a"], t["phase_b"], t["phase_c"], t["a1"], t["a2"],
                e["phase_a"], e["phase_b"], e["phase_c"], e["a1"], e["a2"], e["other"],
                max_abs(e, FUNCTIONS), max_abs(e, BLOCKS), n))
            del key
    w("")
    w("### Summary: largest error of any function / any block of lines, over every run\n")
    w("| measure | runs | max abs error, functions (pp): median (min-max) | max abs error, lines (pp): median (min-max) | within 1 pp (functions) |")
    w("|---|---|---|---|---|")
    for name, pairs in summary.items():
        f = [p[0] for p in pairs]
        l = [p[1] for p in pairs]
        w("| %s | %d | %s | %s | %d of %d |" % (name, len(pairs), harness.spread(f, "%.2f"), harness.spread(l, "%.2f"),
                                             sum(1 for x in f if x <= 1.0), len(f)))
    w("")
    w("### The sleeping thread, and the profilers' own counters\n")
    w("| round | run | loopscope: sleeper samples / on-CPU / CPU ms | loopscope samples, late, failed | loopscope CPU s | py-spy sleeper samples | py-spy summary | py-spy CPU s |")
    w("|---|---|---|---|---|---|---|---|")
    for r in results:
        s = r["loopscope"]["sleeper"]
        c = r["loopscope"]["counters"]
        spy = r.get("pyspy")
        w("| %s | %s | %d / %d / %.1f | %d, %d, %d | %.2f | %s | %s | %s |" % (
            r["round"], r["config"], s["samples"], s["on_cpu"], s["cpu_ns"] / 1e6, c["samples"], c["late"], c["failed"],
            r["loopscope_cpu_s"], spy["sleeper_samples"] if spy else "-", spy["summary"].replace("py-spy> ", "") if spy else "-",
            "%.2f" % r["pyspy_cpu_s"] if spy else "-"))
    w("")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 round of 5 s runs (smoke test)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds sampled per run (default 30)")
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--python", default=sys.executable, help="the target's interpreter")
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="S",
                        help="first wait up to S seconds for the 1-minute load average to drop below 1")
    parser.add_argument("--json", metavar="FILE", help="also write every number as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the profiles and truth files (printed)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.duration = 1, 5.0
    pyspy = harness.find_pyspy()
    quiet_note = None
    if args.wait_quiet:
        quiet, waited, load = harness.wait_quiet(args.wait_quiet)
        if not quiet:
            quiet_note = ("**The machine never got quiet: after waiting %.0f s the load average was %s; "
                          "these numbers were taken on a busy machine.**" % (waited, load))
    facts = harness.machine_facts(pyspy)
    workdir = tempfile.mkdtemp(prefix="bench_accuracy.")
    results = []
    try:
        for rnd in range(1, args.rounds + 1):
            order = CONFIGS[rnd - 1:] + CONFIGS[:rnd - 1]
            for config in order:
                if config != "alone" and not pyspy:
                    continue
                log("round %d: %s (%g s at %d Hz), load %s" % (rnd, config, args.duration, args.rate, harness.loadavg()))
                r = one_run(config, args, pyspy, workdir, "r%d-%s" % (rnd, config))
                r["round"] = rnd
                results.append(r)
    finally:
        if args.keep:
            log("kept the files in", workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    load_after = harness.loadavg()
    print(report(results, args, facts, load_after, quiet_note))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"facts": facts, "load_after": load_after, "results": results}, f, indent=1, default=str)


if __name__ == "__main__":
    main()
