"""Overhead of recording on the target: how much slower five CPU-bound workloads run under loopscope
and under py-spy, at 100 Hz and 1 kHz.

    .venv/bin/python benchmarks/bench_overhead.py             # 10 rounds (~27 min) then the paired slices (~20 min)
    .venv/bin/python benchmarks/bench_overhead.py --quick     # a smoke run: 2 rounds of short workloads, 4 pairs
    .venv/bin/python benchmarks/bench_overhead.py --paired-only --wait-quiet 1500   # only the paired slices
    .venv/bin/python benchmarks/bench_overhead.py --rounds 12 --only recursion,alloc --json /tmp/o.json

Workloads (workloads/*.py, a fixed amount of work each, ~4-6 s unprofiled on a quiet machine):
  recursion     600-deep recursion, over and over (deep stacks)
  small_calls   millions of tiny calls a second (a shallow stack whose top always changes)
  big_loop      one function, a long arithmetic loop, no calls
  many_threads  16 threads sharing the work (taking turns on the GIL): 17 threads per sample
  alloc         builds and drops objects, dicts, lists, strings with cycles (the GC runs)

Contenders, run on a fresh workload process each:
  none              unprofiled
  loopscope@R       `loopscope attach PID --rate R --quiet -o X.lsp`, R = 100 and 1000
  py-spy-nb@R       `py-spy record --pid PID --rate R --nonblocking --format raw -o X.txt`: py-spy's
                    non-pausing mode, the fair comparison (loopscope never pauses its target)
  py-spy@100        `py-spy record` in its default mode, which stops the target for every sample

Diagnostic contenders, for the paired slices only (--contenders): null (a process that does
nothing), spin@PCT (burns PCT percent of a core, touching nothing of the target's), poke@RATE:BYTES[:RANGES[:heap|stack]]
(poke.c: reads BYTES of the target's heap, or of its root data-stack chunk with `stack`, in RANGES
ranges RATE times a second, nothing else),
sampler@RATE and sampler-noos@RATE (sampler_contender.py: loopscope's C sampler alone, with and
without the /proc reads), other@RATE (another loopscope build, --other-loopscope BIN).

Each workload prints "ready PID" and waits; the profiler is attached (loopscope: its profile file
exists; py-spy: it has printed "Sampling process"), 0.3 s pass, then the workload is told to go and
times its own work (perf_counter and process_time). The profilers stop by themselves when the
workload exits. Every round runs every (workload, contender) once, the contenders in an order that
rotates from round to round; the slowdown of a contender is its wall time divided by the
unprofiled wall time of the same round, and we quote the median of those per-round ratios with
their min-max and IQR. The profiler's own CPU while the workload ran (the sum of its threads'
/proc/PID/task/*/schedstat run times between "go" and the workload's end) is reported as a share
of one core, and its samples per second, to show it kept its rate.

On a 2-CPU machine the target takes one CPU and the profiler the other, so the profiler's CPU
competes with the target only when something else runs too: quote nproc and the load average.

Paired slices (also part of the default full run; --paired-only for just this part). On this
shared VM the speed of the same work drifts by tens of percent from one run to the next, far more
than the 1-3 % to be measured, so the runs above cannot resolve it. The paired part measures the
steady-state slowdown within one workload process instead: the workload runs for ever in ~2 ms
units (`WORKLOAD.py --stream COUNTERS`, counting its units and writing each unit's end time in a
shared file), the contenders are all attached and kept stopped (SIGSTOP), and each pair of slices
compares --slice seconds with one contender running (SIGCONT) and --slice seconds with none
running, in random order, the contenders taking turns pair by pair. A slice starts --guard seconds
after the switch, and after a SIGCONT only once the profiler has caught up (py-spy, stopped, is
behind its schedule and then takes the missed samples back to back; loopscope skips them): its CPU
over 20 ms must be below half a core.

Even adjacent half-second slices differ by +-20 % here: the VM runs the same unit in a fast state or
in one 1.6-1.9x slower, flipping many times a second. So the headline compares the unit times of the
fast state (units no longer than 1.25x the 10th percentile of all units timed with the contenders
stopped): running / stopped, the median over the pairs. The time spent outside the fast state and
the plain rates are reported beside it. The contender `null` (a `sleep` process, stopped and
continued the same way) measures the method's own noise and bias in the same run. This leaves out
attaching and detaching, and py-spy's pausing mode (stopping py-spy while it holds the target
stopped would stop the target).

Needs: py-spy (`.venv/bin/pip install py-spy`; without it only loopscope is measured), the right to
read the targets' memory (they are this script's children). Prints markdown; --json writes every run.
"""

import argparse
import glob
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "workloads"))
import harness  # noqa: E402
import protocol  # noqa: E402
from harness import log  # noqa: E402

WORKLOADS = ("recursion", "small_calls", "big_loop", "many_threads", "alloc")
CONTENDERS = ("none", "loopscope@100", "py-spy-nb@100", "py-spy@100", "loopscope@1000", "py-spy-nb@1000")
ATTACH_TIMEOUT_S = 20.0
PYSPY_ATTACH_TRIES = 5
SETTLE_S = 0.3


# --other-loopscope: another build of loopscope (say, a worktree of an older commit with its own
# .venv), measured as the contender "other@RATE" beside this one in the same run
OTHER_LOOPSCOPE = None


def profiler_command(contender, pid, out, pyspy):
    if contender == "none":
        return None
    tool, rate = contender.split("@")
    if tool in ("loopscope", "other"):
        command = [OTHER_LOOPSCOPE] if tool == "other" else harness.find_loopscope()
        return command + ["attach", str(pid), "--rate", rate, "--quiet", "-o", out + ".lsp"]
    command = [pyspy, "record", "--pid", str(pid), "--rate", rate, "--format", "raw", "-o", out + ".txt"]
    if tool == "py-spy-nb":
        command.append("--nonblocking")
    return command


def tasks_cpu_ns(pid):
    """{tid: run time ns} of every thread of pid (from /proc/PID/task/*/schedstat)."""
    found = {}
    for path in glob.glob("/proc/%d/task/*/schedstat" % pid):
        try:
            with open(path) as f:
                found[int(path.split("/")[4])] = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return found


def cpu_between(before, after):
    return sum(ns - before.get(tid, 0) for tid, ns in after.items())


class Output:
    """A child's output lines, read in a thread."""

    def __init__(self, stream):
        self.lines = []
        self.times = []
        self.event = threading.Event()
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for line in stream:
            self.lines.append(line.rstrip("\n"))
            self.times.append(time.monotonic())
            self.event.set()

    def seen_at(self, text):
        """When the first line containing text arrived (time.monotonic())."""
        for line, t in zip(self.lines, self.times):
            if text in line:
                return t
        return None

    def wait_for(self, text, timeout, proc=None):
        """Whether a line containing text arrives within timeout (not once proc, if given, exited)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return True
            if proc is not None and proc.poll() is not None:
                time.sleep(0.1)  # the last lines it wrote
                return any(text in line for line in self.lines)
            self.event.wait(0.05)
            self.event.clear()
        return False


def attach(contender, command, out):
    """Start a profiler (command) on its target and wait until it samples: loopscope once its
    profile file out.lsp has been written, py-spy once it printed "Sampling process". Returns
    (Popen, Output of py-spy's lines or None)."""
    if contender.startswith(("loopscope", "other")):
        prof = subprocess.Popen(command)
        deadline = time.monotonic() + ATTACH_TIMEOUT_S
        while not (os.path.exists(out + ".lsp") and os.path.getsize(out + ".lsp") > 0):
            if time.monotonic() > deadline or prof.poll() is not None:
                raise RuntimeError("loopscope did not attach: %s" % " ".join(command))
            time.sleep(0.01)
        return prof, None
    # py-spy's first read of a stack that moves can fail ("Failed to copy PyFrameObject"), and it
    # then exits: a few tries, as a user would
    for attempt in range(PYSPY_ATTACH_TRIES):
        prof = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        output = Output(prof.stdout)
        if output.wait_for("Sampling process", ATTACH_TIMEOUT_S, prof):
            return prof, output
        prof.kill()
        prof.wait()
    raise RuntimeError("py-spy did not attach in %d tries: %s\n%s" % (PYSPY_ATTACH_TRIES, " ".join(command),
                                                                       "\n".join(output.lines)))


def one_run(workload, contender, args, pyspy, workdir, label):
    script = os.path.join(harness.HERE, workload + ".py")
    target = harness.start_target([args.python, script, "--scale", str(args.scale)], stdin=subprocess.PIPE)
    out = os.path.join(workdir, label)
    command = profiler_command(contender, target.pid, out, pyspy)
    prof = prof_out = None
    try:
        if command:
            prof, prof_out = attach(contender, command, out)
        time.sleep(SETTLE_S)
        cpu0 = tasks_cpu_ns(prof.pid) if prof else {}
        target.stdin.write("go\n")
        target.stdin.flush()
        line = target.stdout.readline()
        cpu1 = tasks_cpu_ns(prof.pid) if prof else {}
        result = json.loads(line)
        target.wait(30)
        if prof:
            harness.wait_rusage(prof, 60)
            spy_end = time.monotonic()
            if prof_out:
                prof_out.thread.join(5)
    finally:
        harness.kill(target)
        harness.kill(prof)
    result.update({"workload": workload, "contender": contender, "command": command,
                   "profiler_cpu_s": cpu_between(cpu0, cpu1) / 1e9 if prof else None})
    if command and contender.startswith("loopscope"):
        from loopscope.storage import Profile

        with Profile(out + ".lsp") as profile:
            windows = profile.windows()
        result["samples"] = sum(w["samples"] for w in windows)
        result["late"] = sum(w["late"] for w in windows)
        result["failed"] = sum(w["failed"] for w in windows)
        result["sampling_s"] = (windows[-1]["end_unix_ns"] - windows[0]["start_unix_ns"]) / 1e9 if windows else None
        os.unlink(out + ".lsp")
    elif command:
        text = "\n".join(prof_out.lines)
        m = re.search(r"Samples: (\d+) Errors: (\d+)", text)
        result["samples"] = int(m.group(1)) if m else None
        result["errors"] = int(m.group(2)) if m else None
        result["behind_warnings"] = sum(1 for line in prof_out.lines if "behind in sampling" in line)
        result["sampling_s"] = spy_end - prof_out.seen_at("Sampling process")
        if os.path.exists(out + ".txt"):
            os.unlink(out + ".txt")
    return result


# --- paired slices -------------------------------------------------------------------------------

# "null": a process that does nothing (sleep), stopped and continued exactly like the profilers: the
# method's own noise floor and bias, measured in the same run
PAIRED_CONTENDERS = ("null", "loopscope@100", "py-spy-nb@100", "loopscope@1000", "py-spy-nb@1000")
# "spin@PCT" (only when asked for with --contenders): a process that burns PCT % of one core in 1 ms
# periods and touches nothing of the target's: how much of a profiler's slowdown its CPU use alone
# explains on this machine (two vCPUs that may share a physical core)
SPIN_SOURCE = (
    "import sys, time\n"
    "busy = float(sys.argv[1]) / 100 * 0.001\n"
    "clock = time.perf_counter\n"
    "nxt = clock()\n"
    "while True:\n"
    "    nxt += 0.001\n"
    "    start = clock()\n"
    "    while clock() - start < busy:\n"
    "        pass\n"
    "    left = nxt - clock()\n"
    "    if left > 0:\n"
    "        time.sleep(left)\n"
    "    else:\n"
    "        nxt = clock()\n")
FAST_CUTOFF = 1.25  # a unit is in the fast state when it took at most this times the fast state's usual time


def wait_caught_up(pid, limit_s=0.5):
    """Wait until pid's threads use less than half a core over 20 ms, at most limit_s (py-spy at
    1 kHz on a deep stack never gets there: behind is its steady state); returns the seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < limit_s:
        before = tasks_cpu_ns(pid)
        time.sleep(0.02)
        if cpu_between(before, tasks_cpu_ns(pid)) < 10_000_000:
            break
    return time.monotonic() - start


def unit_times(ends_ns):
    """The workload's unit durations (ms) from the sorted end times of consecutive units."""
    return [(b - a) / 1e6 for a, b in zip(ends_ns, ends_ns[1:])]


def fast_state(durations, cutoff_ms):
    """(mean duration of the units in the fast state, share of the time spent outside it), or
    (None, share) when fewer than 10 units were fast. This VM runs the same unit in two states, a
    fast one and one about 1.6-1.9x slower (the host's other load), and flips between them many
    times a second, which swamps a 1 % difference in a plain rate. A unit is in the fast state when
    it took at most cutoff_ms (FAST_CUTOFF times the fast state's usual unit time): a profiler that
    delays some units by tens of microseconds leaves them in it, so such delays count."""
    if not durations:
        return None, None
    fast = [d for d in durations if d <= cutoff_ms]
    share = 1.0 - sum(fast) / sum(durations)
    return (statistics.fmean(fast) if len(fast) >= 10 else None), share


def measure_slice(slots, ring, seconds, prof_pid=None):
    """One slice: {rate, durations (ms of each unit), core} over the next `seconds`."""
    cpu0 = tasks_cpu_ns(prof_pid) if prof_pid else None
    n0, t0, k0 = protocol.units_done(slots), time.perf_counter(), slots[protocol.RING_COUNT_SLOT]
    time.sleep(seconds)
    n1, t1, k1 = protocol.units_done(slots), time.perf_counter(), slots[protocol.RING_COUNT_SLOT]
    core = cpu_between(cpu0, tasks_cpu_ns(prof_pid)) / 1e9 / (t1 - t0) if prof_pid else None
    k0 = max(k0, k1 - protocol.RING + 1)
    durations = unit_times(sorted(ring[k % protocol.RING] for k in range(k0, k1)))
    return {"rate": (n1 - n0) / (t1 - t0), "durations": durations, "core": core}


def score_pairs(pairs):
    """Give every pair of one workload its fast-state figures. The fast state's usual unit time is
    the 10th percentile of every unit timed with the contenders stopped (more than a tenth of the
    time is fast on this VM); each slice's own units are then split at FAST_CUTOFF times that."""
    stopped = sorted(d for p in pairs for d in p["off"]["durations"])
    cutoff = FAST_CUTOFF * stopped[len(stopped) // 10] if len(stopped) >= 20 else 0.0
    for p in pairs:
        for side in ("on", "off"):
            p[side]["fast_ms"], p[side]["slow_share"] = fast_state(p[side].pop("durations"), cutoff)
        p["fast_ratio"] = (p["on"]["fast_ms"] / p["off"]["fast_ms"]
                           if p["on"]["fast_ms"] and p["off"]["fast_ms"] else None)
    return cutoff or None


def poke_binary():
    """benchmarks/poke.c, built into the temporary directory."""
    out = os.path.join(tempfile.gettempdir(), "loopscope-bench-poke")
    subprocess.run([shutil.which("cc") or "gcc", "-O2", "-Wall", "-o", out, os.path.join(harness.HERE, "..", "poke.c")],
                   check=True)
    return out


def start_paired_contender(c, target_pid, out, pyspy, outputs):
    """Start contender c on the target and return its Popen once it samples (not yet stopped)."""
    if c == "null":
        return subprocess.Popen(["sleep", "1000000"]), ["sleep", "1000000"]
    if c.startswith("spin@"):
        command = [sys.executable, "-c", SPIN_SOURCE, c.split("@", 1)[1]]
        return subprocess.Popen(command), [sys.executable, "-c", "<spin>", c.split("@", 1)[1]]
    if c.startswith(("sampler@", "sampler-noos@")):
        kind, rate = c.split("@")
        command = [sys.executable, os.path.join(harness.HERE, "..", "sampler_contender.py"), str(target_pid), rate,
                   "no-os" if kind == "sampler-noos" else "os"]
        return subprocess.Popen(command), command
    if c.startswith("poke@"):
        command = [poke_binary(), str(target_pid)] + c.split("@", 1)[1].split(":")
        return subprocess.Popen(command), command
    command = profiler_command(c, target_pid, out, pyspy)
    prof, output = attach(c, command, out)
    if output:
        outputs.append(output)
    else:
        time.sleep(0.2)
    return prof, command


def paired_workload(workload, args, pyspy, workdir, rng):
    """Every pair of slices of one workload: [{contender, on, off, ratio, fast_ratio, ...}]."""
    import signal

    path = os.path.join(workdir, workload + ".counters")
    with open(path, "wb") as f:
        f.write(b"\0" * protocol.FILE_BYTES)
    script = os.path.join(harness.HERE, workload + ".py")
    target = harness.start_target([args.python, script, "--stream", path])
    slots, ring = protocol.map_counters(path)
    contenders = [c for c in args.paired_contenders if pyspy or not c.startswith("py-spy")]
    profs, outputs = {}, []
    pairs = []
    try:
        for c in contenders:
            out = os.path.join(workdir, "paired-%s-%s" % (workload, c.replace("@", "-")))
            prof, command = start_paired_contender(c, target.pid, out, pyspy, outputs)
            os.kill(prof.pid, signal.SIGSTOP)
            profs[c] = (prof, command)
        time.sleep(1.0)
        for i in range(args.pairs):
            for c in contenders[i % len(contenders):] + contenders[:i % len(contenders)]:
                prof = profs[c][0]
                on = off = None
                catch_up = 0.0
                for state in rng.sample(["on", "off"], 2):
                    if state == "on":
                        os.kill(prof.pid, signal.SIGCONT)
                        catch_up = wait_caught_up(prof.pid)
                        time.sleep(args.guard)
                        on = measure_slice(slots, ring, args.slice, prof.pid)
                        os.kill(prof.pid, signal.SIGSTOP)
                    else:
                        time.sleep(args.guard)
                        off = measure_slice(slots, ring, args.slice)
                pairs.append({"workload": workload, "contender": c, "pair": i, "on": on, "off": off,
                              "ratio": off["rate"] / on["rate"] if on["rate"] else float("nan"),
                              "profiler_core": on["core"], "catch_up_s": catch_up})
            log("  paired %-13s pair %d of %d: %s" % (workload, i + 1, args.pairs, "  ".join(
                "%s %.3f" % (p["contender"], p["ratio"]) for p in pairs[-len(contenders):])))
        cutoff = score_pairs(pairs)
        log("  paired %-13s fast state: units up to %s ms" % (workload, "%.3f" % cutoff if cutoff else "?"))
    finally:
        harness.kill(target)
        for prof, _ in profs.values():
            try:
                os.kill(prof.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        if "null" in profs:
            profs["null"][0].kill()
        for prof, _ in profs.values():
            harness.wait_rusage(prof, 20)
        del slots, ring
    templates = {}
    for c, (_, command) in profs.items():
        templates[c] = [("PID" if part == str(target.pid) else
                         os.path.join("$TMP", os.path.basename(part)) if part.startswith(workdir) else part) for part in command]
    return pairs, templates


def pct_cell(values):
    """'median (q1 to q3) [n]' of ratios, as percentages over 1."""
    if not values:
        return "-"
    q1, med, q3 = harness.quartiles(values)
    return "%+.2f (%+.2f to %+.2f) [%d]" % ((med - 1) * 100, (q1 - 1) * 100, (q3 - 1) * 100, len(values))


def paired_report(pairs, commands, args):
    out = []
    w = out.append
    w("### Paired slices: steady-state slowdown within one workload process\n")
    w("Each pair: %g s of the workload with the contender running and %g s with it stopped (SIGSTOP), "
      "in random order, %g s after each switch; the contenders take turns pair by pair. `null` is a "
      "process that does nothing, stopped and continued the same way: the method's own noise and bias. "
      "Cells: median over the pairs (IQR) [pairs], in %%.\n" % (args.slice, args.slice, args.guard))
    w("- **fast-state slowdown** = mean unit time running / stopped, over the units in the VM's fast "
      "state (at most %.2fx the 10th percentile of all units timed with the contenders stopped; the "
      "units' end times come from the workload, `protocol.py`): the target's own slowdown, free of the "
      "host's two-speed noise;" % FAST_CUTOFF)
    w("- rate slowdown = units per second stopped / running (everything, noise included);")
    w("- slow-state share = the time the workload spent outside the fast state, running / stopped, "
      "percentage points (a contender that pushed the target into the slow state would raise it);")
    w("- contender CPU = its CPU during its running slices, % of one core, median.\n")
    contenders = [c for c in args.paired_contenders if any(p["contender"] == c for p in pairs)]
    w("| workload | contender | fast-state slowdown % | rate slowdown % | slow-state share running / stopped, pp | contender CPU % |")
    w("|---|---|---|---|---|---|")
    medians = {}
    for workload in args.workloads:
        for c in contenders:
            ps = [p for p in pairs if p["workload"] == workload and p["contender"] == c]
            if not ps:
                continue
            fast = [p["fast_ratio"] for p in ps if p["fast_ratio"]]
            if fast:
                medians.setdefault(c, []).append(((statistics.median(fast) - 1) * 100, workload))
            slow_on = [100 * p["on"]["slow_share"] for p in ps if p["on"]["slow_share"] is not None]
            slow_off = [100 * p["off"]["slow_share"] for p in ps if p["off"]["slow_share"] is not None]
            cores = [p["profiler_core"] for p in ps if p["profiler_core"] is not None]
            w("| %s | %s | %s | %s | %s / %s | %s |" % (
                workload, c, pct_cell(fast), pct_cell([p["ratio"] for p in ps]),
                "%.1f" % statistics.median(slow_on) if slow_on else "-",
                "%.1f" % statistics.median(slow_off) if slow_off else "-",
                "%.2f" % (100 * statistics.median(cores)) if cores else "-"))
    w("")
    w("Fast-state slowdown over the workloads:\n")
    w("| contender | median of the workloads' medians % | worst workload % | target |")
    w("|---|---|---|---|")
    targets = {"loopscope@100": "<= 1 %", "loopscope@1000": "<= 3 %", "null": "0 (noise floor)"}
    for c in contenders:
        meds = medians.get(c, [])
        if meds:
            worst = max(meds)
            w("| %s | %+.2f | %+.2f (%s) | %s |" % (c, statistics.median(m for m, _ in meds), worst[0], worst[1], targets.get(c, "")))
    w("")
    w("Commands (attached once per workload, then stopped and continued): " + "; ".join(
        "`%s`" % " ".join(cmd) for cmd in commands.values()) + "\n")
    return "\n".join(out)


def iqr_text(values):
    q1, med, q3 = harness.quartiles(values)
    return "%.3f (%.3f-%.3f; IQR %.3f-%.3f)" % (med, min(values), max(values), q1, q3)


def report(runs, args, facts, load_after, quiet_note, elapsed_s):
    out = []
    w = out.append
    w("## Overhead on the target (bench_overhead.py)\n")
    if quiet_note:
        w(quiet_note + "\n")
    w("Command: `%s`\n" % " ".join([os.path.relpath(sys.executable, harness.ROOT)] + sys.argv))
    w(harness.facts_markdown(facts))
    w("- load average after: %s" % load_after)
    w("- rounds: %d; workload scale %g; took %.0f s\n" % (args.rounds, args.scale, elapsed_s))
    contenders = [c for c in CONTENDERS if any(r["contender"] == c for r in runs)]
    by = {}
    for r in runs:
        by.setdefault((r["workload"], r["round"]), {})[r["contender"]] = r
    w("### Slowdown: profiled wall time / unprofiled wall time of the same round, median (min-max; IQR)\n")
    w("| workload | unprofiled wall s, median | " + " | ".join(c for c in contenders if c != "none") + " |")
    w("|---|---|" + "---|" * (len(contenders) - 1))
    ratios = {}
    for workload in args.workloads:
        base = [by[(workload, rnd)]["none"]["wall_s"] for rnd in range(1, args.rounds + 1) if "none" in by.get((workload, rnd), {})]
        cells = []
        for c in contenders:
            if c == "none":
                continue
            rs = [pair[c]["wall_s"] / pair["none"]["wall_s"] for (wl, _), pair in sorted(by.items())
                  if wl == workload and c in pair and "none" in pair]
            ratios[(workload, c)] = rs
            cells.append(iqr_text(rs) if rs else "-")
        w("| %s | %.2f | %s |" % (workload, statistics.median(base) if base else float("nan"), " | ".join(cells)))
    w("")
    w("Overall (median over the five workloads of each workload's median slowdown, in %):\n")
    w("| contender | median slowdown % over workloads | worst workload % | target |")
    w("|---|---|---|---|")
    targets = {"loopscope@100": "<= 1 %", "loopscope@1000": "<= 3 %"}
    for c in contenders:
        if c == "none":
            continue
        meds = [(statistics.median(ratios[(wl, c)]) - 1) * 100 for wl in args.workloads if ratios.get((wl, c))]
        worst = max(zip(meds, args.workloads)) if meds else (float("nan"), "-")
        w("| %s | %+.2f | %+.2f (%s) | %s |" % (c, statistics.median(meds) if meds else float("nan"), worst[0], worst[1], targets.get(c, "")))
    w("")
    w("### CPU time of the workload: profiled / unprofiled of the same round, median (min-max)\n")
    w("| workload | " + " | ".join(c for c in contenders if c != "none") + " |")
    w("|---|" + "---|" * (len(contenders) - 1))
    for workload in args.workloads:
        cells = []
        for c in contenders:
            if c == "none":
                continue
            rs = [pair[c]["cpu_s"] / pair["none"]["cpu_s"] for (wl, _), pair in sorted(by.items())
                  if wl == workload and c in pair and "none" in pair]
            cells.append(harness.spread(rs) if rs else "-")
        w("| %s | %s |" % (workload, " | ".join(cells)))
    w("")
    w("### The profilers: CPU while the workload ran (% of one core) and samples per second, median (min-max)\n")
    w("loopscope's samples are ticks (one sample of every thread); py-spy's \"Samples\" count one per "
      "thread stack it kept (idle threads dropped), so on many_threads they are not ticks. Late: ticks "
      "loopscope skipped because it was behind, % of all ticks; py-spy: its errors, and how many "
      "\"behind in sampling\" warnings it printed.\n")
    w("| workload | contender | profiler CPU % of a core | samples/s | loopscope late % / py-spy errors, behind warnings (all rounds) |")
    w("|---|---|---|---|---|")
    for workload in args.workloads:
        for c in contenders:
            if c == "none":
                continue
            rs = [r for r in runs if r["workload"] == workload and r["contender"] == c]
            cpu = [100.0 * r["profiler_cpu_s"] / r["wall_s"] for r in rs if r.get("profiler_cpu_s") is not None]
            rate = [r["samples"] / r["sampling_s"] for r in rs if r.get("samples") is not None and r.get("sampling_s")]
            if c.startswith("loopscope"):
                late = [100.0 * r["late"] / max(1, r["samples"] + r["late"] + r["failed"]) for r in rs]
                bad = "late %s" % harness.spread(late, "%.2f")
            else:
                bad = "%d errors, %d warnings" % (sum(r.get("errors") or 0 for r in rs), sum(r.get("behind_warnings") or 0 for r in rs))
            w("| %s | %s | %s | %s | %s |" % (workload, c, harness.spread(cpu, "%.2f"), harness.spread(rate, "%.0f"), bad))
    w("")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 rounds of short workloads (smoke test)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--scale", type=float, default=0.75, help="work per workload (1.0 = ~5.5 s of CPU on the reference machine)")
    parser.add_argument("--only", metavar="W[,W]", help="workloads to run: " + ",".join(WORKLOADS))
    parser.add_argument("--python", default=sys.executable, help="the workloads' interpreter")
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="S",
                        help="first wait up to S seconds for the 1-minute load average to drop below 1")
    parser.add_argument("--json", metavar="FILE", help="also write every run as JSON")
    parser.add_argument("--paired-only", action="store_true", help="only the paired slices")
    parser.add_argument("--no-paired", action="store_true", help="only the whole runs")
    parser.add_argument("--pairs", type=int, default=30, help="pairs of slices per (workload, contender) (default 30)")
    parser.add_argument("--slice", type=float, default=0.5, help="seconds measured per slice (default 0.5)")
    parser.add_argument("--guard", type=float, default=0.1, help="seconds skipped after each switch (default 0.1)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the slice order")
    parser.add_argument("--recursion-depth", type=int, metavar="N",
                        help="how deep the recursion workload recurses (default 600; its work per call scales with it)")
    parser.add_argument("--other-loopscope", metavar="BIN",
                        help="another loopscope executable, measured as the paired contender other@RATE")
    parser.add_argument("--idle-poll", action="store_true",
                        help="diagnostic (root): hold /dev/cpu_dma_latency at 0 while measuring, so that idle CPUs "
                        "poll instead of halting and waking a thread costs its waker no interrupt")
    parser.add_argument("--contenders", metavar="C[,C]",
                        help="paired contenders (default: %s); spin@PCT adds a process that only burns PCT percent of a core, "
                        "poke@RATE:BYTES[:RANGES[:heap|stack]] one that only reads BYTES of the target's heap (or its root "
                        "data-stack chunk) RATE times a second (poke.c)"
                        % ",".join(PAIRED_CONTENDERS))
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.scale, args.pairs = 2, 0.06, 4
    args.workloads = [w.strip() for w in args.only.split(",")] if args.only else list(WORKLOADS)
    args.paired_contenders = [c.strip() for c in args.contenders.split(",")] if args.contenders else list(PAIRED_CONTENDERS)
    for c in args.paired_contenders:
        if c not in PAIRED_CONTENDERS and not re.match(r"spin@\d+(\.\d+)?$", c) and not re.match(
                r"(poke@\d+:\d+(:\d+(:(heap|stack))?)?|sampler(-noos)?@\d+)$", c) and not (
                args.other_loopscope and re.match(r"other@\d+$", c)):
            sys.exit("unknown contender %s (choose from %s, spin@PCT, poke@RATE:BYTES[:RANGES[:heap|stack]], sampler[-noos]@RATE, or other@RATE with --other-loopscope)"
                     % (c, ", ".join(PAIRED_CONTENDERS)))
    global OTHER_LOOPSCOPE
    OTHER_LOOPSCOPE = args.other_loopscope
    if args.recursion_depth:
        os.environ["BENCH_RECURSION_DEPTH"] = str(args.recursion_depth)  # the workloads inherit it
    for wl in args.workloads:
        if wl not in WORKLOADS:
            sys.exit("unknown workload %s (choose from %s)" % (wl, ", ".join(WORKLOADS)))
    pyspy = harness.find_pyspy()
    contenders = [c for c in CONTENDERS if pyspy or not c.startswith("py-spy")]
    quiet_note = None
    if args.wait_quiet:
        quiet, waited, load = harness.wait_quiet(args.wait_quiet)
        if not quiet:
            quiet_note = ("**The machine never got quiet: after waiting %.0f s the load average was %s; "
                          "these numbers were taken on a busy machine.**" % (waited, load))
    facts = harness.machine_facts(pyspy)
    idle_poll = None
    if args.idle_poll:
        # the constraint holds while the file stays open (the kernel's PM QoS interface)
        idle_poll = os.open("/dev/cpu_dma_latency", os.O_WRONLY)
        os.write(idle_poll, (0).to_bytes(4, "little"))
        facts.append(("idle CPUs", "polling (/dev/cpu_dma_latency held at 0 us: --idle-poll)"))
    workdir = tempfile.mkdtemp(prefix="bench_overhead.")
    runs, pairs, commands = [], [], {}
    started = time.monotonic()
    if args.paired_only:
        args.rounds = 0
    try:
        for rnd in range(1, args.rounds + 1):
            log("round %d of %d, load %s" % (rnd, args.rounds, harness.loadavg()))
            k = (rnd - 1) % len(contenders)
            order = contenders[k:] + contenders[:k]
            for workload in args.workloads:
                for contender in order:
                    r = one_run(workload, contender, args, pyspy, workdir, "r%d-%s-%s" % (rnd, workload, contender.replace("@", "-")))
                    r["round"] = rnd
                    runs.append(r)
                    log("  %-13s %-15s wall %.3f s cpu %.3f s%s" % (
                        workload, contender, r["wall_s"], r["cpu_s"],
                        "" if r["profiler_cpu_s"] is None else "  profiler %.3f s, %s samples" % (r["profiler_cpu_s"], r.get("samples"))))
        runs_done = time.monotonic()
        load_between = harness.loadavg()
        if not args.no_paired:
            import random

            rng = random.Random(args.seed)
            log("paired slices, load %s" % harness.loadavg())
            for workload in args.workloads:
                p, cmds = paired_workload(workload, args, pyspy, workdir, rng)
                pairs += p
                commands.update(cmds)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if idle_poll is not None:
            os.close(idle_poll)
    load_after = harness.loadavg()
    if runs:
        print(report(runs, args, facts, load_between, quiet_note, runs_done - started))
    if pairs:
        if not runs:
            print("## Overhead on the target, paired slices (bench_overhead.py)\n")
            if quiet_note:
                print(quiet_note + "\n")
            print("Command: `%s`\n" % " ".join([os.path.relpath(sys.executable, harness.ROOT)] + sys.argv))
            print(harness.facts_markdown(facts))
        print("- load average before the paired slices: %s; after: %s; they took %.0f s\n"
              % (load_between, load_after, time.monotonic() - runs_done))
        print(paired_report(pairs, commands, args))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"facts": facts, "load_after": load_after, "runs": runs, "pairs": pairs}, f, indent=1)


if __name__ == "__main__":
    main()
