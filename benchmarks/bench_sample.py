"""Per-sample cost of loopscope's engine, its system calls, its torn-sample rate, and py-spy beside it.

    .venv/bin/python benchmarks/bench_sample.py            # everything, 7-8 minutes on a quiet 2-CPU machine
    .venv/bin/python benchmarks/bench_sample.py --quick    # a smoke run (3.11 and 3.12 only), 1.5-3 minutes
    .venv/bin/python benchmarks/bench_sample.py --only engine,syscalls --json /tmp/out.json
    .venv/bin/python benchmarks/bench_sample.py --only engine --baseline /tmp/base   # before/after

Prints markdown (paste it into benchmarks/RESULTS.md). Sections:

  engine    CPU microseconds per full sample of one thread holding a 50-deep stack, blocked and
            busy, per interpreter: through the Python binding (time.thread_time_ns around N calls
            of Session.sample()) and of the engine alone (engine_loop.c, the C API in a loop); the
            difference is the binding's cost. Also a 1-deep stack, for the fixed cost.
  profile   where the engine's CPU goes (perf record of engine_loop: process_vm_readv, the /proc
            preads, the walk itself), the engine paced at 1000 Hz (cold caches), and the CPU cost of
            each kind of system call alone (engine_loop --costs).
  syscalls  system calls per sample at depths 1, 10, 50, 200: the engine's read_calls counter, and
            every system call counted by `strace -f -c` (a run of N samples minus a run of none);
            plus the list of system calls of one 50-deep sample.
  torn      samples of a target whose stacks change constantly (churn.py): how many threads came
            back torn (flagged), retried, or wrong without a flag (checked against the shape churn.py
            makes), per interpreter.
  dump      wall and CPU time of a whole `py-spy dump` (default and --nonblocking) beside
            `python -m loopscope dump`, on the same 50-deep targets.
  record    `py-spy record --rate 1000 --format raw` (default and --nonblocking) beside the same
            loop with loopscope (loop_record.py): process CPU time divided by the samples taken;
            and each recorder's system calls per sample (strace -f -c).

Methodology: the machines are noisy (15% run to run), so measurements are interleaved (every
contender once per round, in an order that rotates), repeated (--rounds, 10 by default) and quoted
as the median with the min-max spread; comparisons are the median of per-round ratios. Busy
targets are kept stopped (SIGSTOP) except while they are measured, so that only one of them spins
at a time. Every target is killed at the end. Timings never go into the unit tests: this script is
where they live.

Needs: py-spy (`.venv/bin/pip install py-spy`), strace (`apt-get install strace`), perf for the
profile section (`apt-get install linux-perf`), a C compiler (cc) for engine_loop.c, the right to
read the targets' memory (they are this script's children), and CPython interpreters under pyenv
(~/.pyenv/versions/3.X.*) and/or Debian's /usr/bin/python3.11. A missing tool skips its part.
"""

import argparse
import ast
import datetime
import glob
import json
import os
import platform
import re
import resource
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TARGETS = os.path.join(HERE, "targets")
DEEP_STACK = os.path.join(TARGETS, "deep_stack.py")
CHURN = os.path.join(TARGETS, "churn.py")
ENGINE_LOOP_C = os.path.join(HERE, "engine_loop.c")
LOOP_RECORD = os.path.join(HERE, "loop_record.py")
PYENV_ROOT = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
SUPPORTED_MINORS = (8, 9, 10, 11, 12, 13)  # what the engine reads
PRIMARY = ("3.11", "3.12")  # the versions the requirement names; the others are extra rows
TARGET_US = 10.0

try:
    from loopscope import _engine
except ImportError as e:  # pragma: no cover - a setup problem, said plainly
    sys.exit("bench_sample.py: cannot import loopscope._engine (%s); run it with /work/main/.venv/bin/python" % e)


def log(*args):
    sys.stderr.write(" ".join(str(a) for a in args) + "\n")
    sys.stderr.flush()


# --- statistics -----------------------------------------------------------------------------------


def summary(values):
    """{'median', 'min', 'max', 'q1', 'q3', 'n'} of a list of numbers (empty -> None)."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) >= 2:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = q3 = ordered[0]
    return {"median": statistics.median(ordered), "min": ordered[0], "max": ordered[-1], "q1": q1, "q3": q3,
            "n": len(ordered)}


def fmt(s, digits=1, spread=True):
    """'median [min-max]' of a summary."""
    if s is None:
        return "n/a"
    f = "%%.%df" % digits
    if not spread or s["n"] < 2:
        return f % s["median"]
    return (f + " [" + f + "-" + f + "]") % (s["median"], s["min"], s["max"])


def fmt_ratio(s):
    if s is None:
        return "n/a"
    if s["n"] < 2:
        return "%.2fx" % s["median"]
    return "%.2fx [%.2f-%.2f]" % (s["median"], s["min"], s["max"])


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return "\n".join(lines)


# --- interpreters and targets ---------------------------------------------------------------------


def pyenv_python(minor):
    pattern = os.path.join(PYENV_ROOT, "versions", "3.%d.*" % minor, "bin", "python3.%d" % minor)
    found = [p for p in glob.glob(pattern) if os.access(p, os.X_OK)]

    def micro(path):
        tail = path.split(os.sep)[-3].split(".")[2]
        return int(tail) if tail.isdigit() else -1

    return max(found, key=micro) if found else None


def interpreters(wanted):
    """[(label, path)]: the primary versions first, then the others; only those that exist."""
    found = []
    for minor in SUPPORTED_MINORS:
        path = pyenv_python(minor)
        if path:
            found.append(("3.%d" % minor, path))
    if os.access("/usr/bin/python3.11", os.X_OK):
        found.append(("debian-3.11", "/usr/bin/python3.11"))
    if wanted:
        found = [f for f in found if f[0] in wanted]
    primary = [f for f in found if f[0] in PRIMARY]
    return primary + [f for f in found if f[0] not in PRIMARY]


class Target:
    """A target process that prints 'ready PID' once its stacks are in place."""

    live = []

    def __init__(self, argv, label):
        self.label = label
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        Target.live.append(self)
        self.stopped = False
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith("ready"):
            err = self.proc.stderr.read1(4096).decode(errors="replace") if self.proc.poll() is not None else ""
            self.kill()
            raise RuntimeError("target %s did not start: %r %s" % (label, line, err))
        self.pid = self.proc.pid

    def stop(self):
        if not self.stopped:
            os.kill(self.pid, signal.SIGSTOP)
            self.stopped = True

    def cont(self):
        if self.stopped:
            os.kill(self.pid, signal.SIGCONT)
            self.stopped = False
            time.sleep(0.02)  # let it run again before we measure

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()
        if self in Target.live:
            Target.live.remove(self)

    @classmethod
    def kill_all(cls):
        for t in list(cls.live):
            t.kill()


def deep_stack(py, label, depth, mode):
    return Target([py, DEEP_STACK, str(depth), mode], "%s %s%d" % (label, mode, depth))


def open_session(pid):
    deadline = time.monotonic() + 5
    while True:
        try:
            return _engine.Session(pid)
        except _engine.Error as e:
            if e.args[0] != _engine.ERR_NOT_STARTED or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def run_measured(argv, env=None, timeout=120):
    """Run argv; return (returncode, stdout, stderr, wall seconds). Its CPU time: see ChildCPU."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    wall = time.perf_counter() - t0
    return proc.returncode, out, err, wall


class ChildCPU:
    """CPU time (user + system) of the children reaped between start() and stop()."""

    def __enter__(self):
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.before = r.ru_utime + r.ru_stime
        return self

    def __exit__(self, *exc):
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.seconds = r.ru_utime + r.ru_stime - self.before
        return False


# --- tools: the engine loop, strace, py-spy, a plain copy of loopscope -----------------------------


def build_engine_loop(workdir, root=ROOT, name="engine_loop"):
    """engine_loop.c built with the engine sources of the checkout at root (this one by default)."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        log("no C compiler: the engine-only column is skipped")
        return None
    out = os.path.join(workdir, name)
    sources = sorted(glob.glob(os.path.join(root, "src", "engine", "*.c")))
    # the same optimisation as the extension's meson build (buildtype=release: -O3, NDEBUG)
    cmd = [cc, "-std=c11", "-O3", "-DNDEBUG", "-pthread", "-I" + os.path.join(root, "src", "engine")]
    cmd += sources + [ENGINE_LOOP_C, "-o", out]
    subprocess.run(cmd, check=True)
    return out


def engine_loop(binary, pid, warmup, n, interval_us=0):
    argv = [binary, str(pid), str(warmup), str(n)] + ([str(interval_us)] if interval_us else [])
    out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if out.returncode:
        raise RuntimeError("engine_loop failed: %s" % out.stderr.decode(errors="replace"))
    return json.loads(out.stdout)


def find_pyspy():
    here = os.path.join(os.path.dirname(sys.executable), "py-spy")
    path = here if os.access(here, os.X_OK) else shutil.which("py-spy")
    if not path:
        log("py-spy is missing: install it with `%s -m pip install py-spy` (it is on PyPI); the py-spy"
            " sections are skipped" % sys.executable)
        return None, None
    version = subprocess.run([path, "--version"], stdout=subprocess.PIPE).stdout.decode().strip()
    return path, version


def find_strace():
    path = shutil.which("strace")
    if not path:
        log("strace is missing: install it with `apt-get install strace`; the strace columns are skipped")
        return None, None
    version = subprocess.run([path, "-V"], stdout=subprocess.PIPE).stdout.decode().splitlines()[0]
    return path, version


def plain_copy(workdir):
    """A copy of the loopscope package with its built extension, importable without the editable
    install's loader (which checks the build with ninja on every start): run with `python -S` and
    PYTHONPATH=<returned dir>, it behaves like an installed wheel."""
    dest = os.path.join(workdir, "plain")
    shutil.copytree(os.path.join(ROOT, "src", "loopscope"), os.path.join(dest, "loopscope"),
                    ignore=shutil.ignore_patterns("*.c", "__pycache__"))
    shutil.copy2(_engine.__file__, os.path.join(dest, "loopscope"))
    return dest


# --- section: engine cost per sample --------------------------------------------------------------


def time_binding(session, warmup, n):
    sample = session.sample
    errors = 0
    for _ in range(warmup):
        sample()
    st0 = session.stats()
    frames = None
    t0 = time.thread_time_ns()
    for _ in range(n):
        try:
            sample()
        except _engine.Error:
            errors += 1
    t1 = time.thread_time_ns()
    st1 = session.stats()
    try:
        frames = max(len(t[6]) for t in sample())
    except _engine.Error:
        pass
    samples = st1["samples"] - st0["samples"]
    return {
        "us": (t1 - t0) / 1000.0 / n,
        "read_calls": (st1["read_calls"] - st0["read_calls"]) / max(samples, 1),
        "read_bytes": (st1["read_bytes"] - st0["read_bytes"]) / max(samples, 1),
        "torn": st1["torn_threads"] - st0["torn_threads"],
        "retried": st1["retried_threads"] - st0["retried_threads"],
        "code_misses": st1["code_misses"] - st0["code_misses"],
        "errors": errors,
        "frames": frames,
    }


def section_engine(args, interps, loop_bin, base_bin=None):
    # distinct: 50 frames of 50 different functions (the others recurse through one), so every
    # code object of the stack is validated or proved by the code epoch at each sample
    variants = [("block", 50), ("busy", 50), ("distinct", 50), ("block", 1)]
    targets, sessions = {}, {}
    results = {}  # (label, mode, depth) -> {"py": [...], "c": [...], "diff": [...], "meta": {...}}
    try:
        for label, py in interps:
            for mode, depth in variants:
                key = (label, mode, depth)
                t = deep_stack(py, label, depth, mode)
                targets[key] = t
                sessions[key] = open_session(t.pid)
                if mode == "busy":
                    t.stop()
                results[key] = {"py": [], "c": [], "diff": [], "read_calls": [], "read_bytes": [], "torn": 0,
                                "retried": 0, "errors": 0, "code_misses": 0, "frames": set(), "c_read_calls": [],
                                "c_base": [], "c_ratio": [], "c_base_read_calls": []}
        keys = list(targets)
        for r in range(args.rounds):
            order = keys[r % len(keys):] + keys[:r % len(keys)]
            log("engine: round %d/%d" % (r + 1, args.rounds))
            for key in order:
                t = targets[key]
                t.cont()
                res = results[key]
                # the rows the requirement names get the full count, the extra rows a quarter
                n = args.samples if key[0] in PRIMARY and key[2] == 50 else args.samples // 4
                b = time_binding(sessions[key], args.warmup, n)
                res["py"].append(b["us"])
                res["read_calls"].append(b["read_calls"])
                res["read_bytes"].append(b["read_bytes"])
                for k in ("torn", "retried", "errors", "code_misses"):
                    res[k] += b[k]
                res["frames"].add(b["frames"])
                if loop_bin and base_bin and r % 2 == 0:
                    base_first = engine_loop(base_bin, t.pid, args.warmup, n)
                if loop_bin:
                    c = engine_loop(loop_bin, t.pid, args.warmup, n)
                    us = c["cpu_ns"] / 1000.0 / c["samples"]
                    if base_bin:
                        # the baseline engine on the same target in the same round, before or after
                        # this one by turns
                        cb = base_first if r % 2 == 0 else engine_loop(base_bin, t.pid, args.warmup, n)
                        base_us = cb["cpu_ns"] / 1000.0 / cb["samples"]
                        res["c_base"].append(base_us)
                        res["c_ratio"].append(us / base_us)
                        res["c_base_read_calls"].append(cb["read_calls"] / cb["samples"])
                    res["c"].append(us)
                    res["diff"].append(b["us"] - us)
                    res["c_read_calls"].append(c["read_calls"] / c["samples"])
                    res["torn"] += c["torn_threads"]
                    res["errors"] += c["errors"]
                if key[1] == "busy":
                    t.stop()
    finally:
        for t in targets.values():
            t.kill()
    rows = []
    for key, res in results.items():
        label, mode, depth = key
        c = summary(res["c"])
        py = summary(res["py"])
        verdict = ""
        if depth == 50 and mode != "distinct":
            best = c or py
            verdict = "meets" if best["median"] < TARGET_US else "misses by %.1fx" % (best["median"] / TARGET_US)
        rows.append([label, "%s, %d" % (mode, depth), "/".join(str(f) for f in sorted(x for x in res["frames"] if x)),
                     fmt(py), fmt(c), fmt(summary(res["diff"])),
                     fmt(summary(res["read_calls"]), 2, spread=False), "%.0f" % statistics.median(res["read_bytes"]),
                     "%d/%d/%d" % (res["torn"], res["retried"], res["errors"]), verdict])
    header = ["Python", "stack (mode, depth)", "frames seen", "binding: CPU us/sample", "engine alone: CPU us/sample",
              "binding overhead us", "read calls/sample", "bytes read/sample", "torn/retried/errors",
              "10 us target (engine alone)"]
    text = table(header, rows)
    if base_bin:
        rows = []
        for key, res in results.items():
            label, mode, depth = key
            rows.append([label, "%s, %d" % (mode, depth), fmt(summary(res["c_base"])), fmt(summary(res["c"])),
                         fmt_ratio(summary(res["c_ratio"])),
                         "%s / %s" % (fmt(summary(res["c_base_read_calls"]), 2, spread=False),
                                      fmt(summary(res["c_read_calls"]), 2, spread=False))])
        text += ("\n\nThe engine alone, this checkout beside the baseline (%s), measured on the same target in the "
                 "same round, in turns:\n\n" % args.baseline)
        text += table(["Python", "stack (mode, depth)", "baseline: CPU us/sample", "this: CPU us/sample",
                       "this / baseline (per-round ratio)", "read calls/sample (baseline / this)"], rows)
    return text, {"%s %s %d" % k: {kk: (sorted(x for x in vv if x) if isinstance(vv, set) else vv)
                                  for kk, vv in v.items()} for k, v in results.items()}


# --- section: system calls per sample -------------------------------------------------------------

STRACE_LINE = re.compile(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(\d*)\s*(\w+)\s*$")


def strace_counts(strace, argv):
    """{syscall: calls} of argv (and its children), from strace -f -c."""
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as f:
        subprocess.run([strace, "-f", "-c", "-o", f.name] + argv, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
        counts = {}
        for line in f.read().splitlines():
            m = STRACE_LINE.match(line)
            if m and m.group(3) != "total":
                counts[m.group(3)] = int(m.group(1))
        return counts


SAMPLE_TRACE = re.compile(r"^(?:\[pid\s+\d+\]\s+)?(\w+)\((.*)\)\s+=\s+(-?\d+)")


def one_sample_trace(strace, loop_bin, pid):
    """The system calls of one sample (after warm-up): [(name, detail, result)]."""
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as f:
        subprocess.run([strace, "-o", f.name, "-e", "trace=process_vm_readv,pread64,read,openat,close,getpid,"
                        "getdents64,readv,preadv", "-s", "0", loop_bin, str(pid), "5", "1"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        lines = f.read().splitlines()
    calls, inside = [], False
    for line in lines:
        m = SAMPLE_TRACE.match(line)
        if not m:
            continue
        name, argstr, result = m.groups()
        if name == "getpid":
            if inside:
                break
            inside = True
            continue
        if inside:
            if name == "process_vm_readv":
                n = argstr.split(",")[2].strip() if argstr.count(",") >= 3 else "?"
                calls.append((name, "%s range(s)" % n, result + " B"))
            else:
                calls.append((name, "fd %s" % argstr.split(",")[0], result + " B"))
    return calls


def section_syscalls(args, interps, loop_bin, strace):
    depths = (1, 10, 50, 200)
    rows, traces, raw = [], {}, {}
    n = args.strace_samples
    for label, py in interps:
        for depth in depths:
            t = deep_stack(py, label, depth, "block")
            try:
                c = engine_loop(loop_bin, t.pid, 20, 2000)
                per_sample = c["read_calls"] / c["samples"]
                total = other = None
                breakdown = ""
                if strace:
                    zero = strace_counts(strace, [loop_bin, str(t.pid), "20", "0"])
                    many = strace_counts(strace, [loop_bin, str(t.pid), "20", str(n)])
                    diff = {k: (many.get(k, 0) - zero.get(k, 0)) / n for k in set(zero) | set(many)}
                    diff = {k: v for k, v in diff.items() if abs(v) >= 0.005}
                    total = sum(diff.values())
                    breakdown = ", ".join("%s %.2f" % (k, v) for k, v in sorted(diff.items(), key=lambda kv: -kv[1]))
                    raw["%s depth %d" % (label, depth)] = diff
                rows.append([label, depth, "%.2f" % per_sample, "%.0f" % (c["read_bytes"] / c["samples"]),
                             "%.2f" % total if total is not None else "n/a", breakdown])
                if strace and depth == 50 and label in ("3.10", "3.11", "3.12", "3.13"):
                    traces[label] = one_sample_trace(strace, loop_bin, t.pid)
            finally:
                t.kill()
    text = table(["Python", "depth", "engine read calls/sample", "bytes read/sample",
                  "all syscalls/sample (strace -c)", "by syscall (per sample)"], rows)
    for label, calls in traces.items():
        text += "\n\nOne 50-deep blocked sample on %s, system call by system call (strace, after warm-up):\n\n" % label
        text += table(["#", "syscall", "what", "returned"],
                      [[i + 1, name, what, res] for i, (name, what, res) in enumerate(calls)])
    return text, {"per_depth": raw, "one_sample": traces}


# --- section: where the engine's CPU time goes (perf) ---------------------------------------------

PERF_LINE = re.compile(r"^\s*([\d.]+)%\s+([\d.]+)%\s+\[([.k])\]\s+(\S+)")
PERF_DSO = re.compile(r"^\s*([\d.]+)%\s+(\S+)\s*$")


def perf_profile(perf, loop_bin, pid, n, workdir):
    """Shares of the engine loop's CPU: {'pvr', 'pread', 'kernel', 'user', 'top_user': [(sym, %)]}."""
    data = os.path.join(workdir, "perf.data")
    rec = subprocess.run([perf, "record", "-q", "-e", "cpu-clock", "-F", "10000", "-g", "-o", data, loop_bin, str(pid),
                          "500", str(n)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if rec.returncode:
        raise RuntimeError(rec.stderr.decode(errors="replace")[-300:])
    loop = json.loads(rec.stdout)
    children = subprocess.run([perf, "report", "-i", data, "--children", "--sort", "sym", "-g", "none", "--stdio"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode(errors="replace")
    dsos = subprocess.run([perf, "report", "-i", data, "--no-children", "--sort", "dso", "-g", "none", "--stdio"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode(errors="replace")
    out = {"pvr": 0.0, "pread": 0.0, "kernel": 0.0, "user": 0.0, "top_user": [],
           "us": loop["cpu_ns"] / 1000.0 / loop["samples"]}
    for line in children.splitlines():
        m = PERF_LINE.match(line)
        if not m:
            continue
        total, self_, space, sym = float(m.group(1)), float(m.group(2)), m.group(3), m.group(4)
        if sym == "process_vm_readv" and space == ".":
            out["pvr"] = max(out["pvr"], total)
        elif sym in ("__libc_pread", "__libc_pread64", "pread64", "__pread64") and space == ".":
            out["pread"] = max(out["pread"], total)
        elif space == "." and self_ >= 1.0 and not sym.startswith("0x"):
            out["top_user"].append((sym, self_))
    for line in dsos.splitlines():
        m = PERF_DSO.match(line)
        if m:
            if "kernel" in m.group(2):
                out["kernel"] += float(m.group(1))
            else:
                out["user"] += float(m.group(1))
    out["top_user"].sort(key=lambda kv: -kv[1])
    return out


def section_profile(args, interps, loop_bin, perf, workdir, engine_us):
    rows = []
    data = {}
    for label, py in interps:
        if label not in PRIMARY:
            continue
        for mode in ("block", "busy"):
            t = deep_stack(py, label, 50, mode)
            try:
                p = perf_profile(perf, loop_bin, t.pid, args.samples * 2, workdir)
            finally:
                t.kill()
            data["%s %s50" % (label, mode)] = p
            us = engine_us.get((label, mode, 50)) or p["us"]
            other = max(0.0, 100.0 - p["pvr"] - p["pread"])
            rows.append([label, mode + ", 50", "%.1f" % us,
                         "%.0f%% = %.1f us" % (p["pvr"], us * p["pvr"] / 100),
                         "%.0f%% = %.1f us" % (p["pread"], us * p["pread"] / 100),
                         "%.0f%% = %.1f us" % (other, us * other / 100),
                         "%.0f%% / %.0f%%" % (p["kernel"], p["user"]),
                         ", ".join("%s %.1f%%" % kv for kv in p["top_user"][:4])])
    text = table(["Python", "stack", "engine alone us/sample", "in process_vm_readv (user+kernel)",
                  "in pread of /proc task stat+schedstat", "everything else (the walk itself)", "kernel / user",
                  "hottest user-space functions (self)"], rows)
    text += "\n\n" + paced_costs(args, interps, loop_bin, data, engine_us)
    text += "\n\n" + syscall_costs(args, interps, loop_bin, data)
    return text, data


def paced_costs(args, interps, loop_bin, data, engine_us):
    """The engine alone sampling once a millisecond, as a profiler does (caches cold at every
    sample), less the same loop's CPU when it only sleeps."""
    n = 300 if args.quick else 1000
    rounds = min(args.rounds, 5)
    keys = [(label, py, mode) for label, py in interps if label in PRIMARY for mode in ("block", "busy")]
    per = {(label, mode): [] for label, _, mode in keys}
    targets = {}
    try:
        for label, py, mode in keys:
            targets[(label, mode)] = t = deep_stack(py, label, 50, mode)
            if mode == "busy":
                t.stop()
        for r in range(rounds):
            log("profile: paced round %d/%d" % (r + 1, rounds))
            idle = engine_loop(loop_bin, 0, 0, n, interval_us=1000)
            for label, _, mode in keys:
                t = targets[(label, mode)]
                t.cont()
                c = engine_loop(loop_bin, t.pid, args.warmup, n, interval_us=1000)
                per[(label, mode)].append((c["cpu_ns"] - idle["cpu_ns"]) / 1000.0 / n)
                if mode == "busy":
                    t.stop()
    finally:
        for t in targets.values():
            t.kill()
    data["paced"] = {"%s %s50" % k: v for k, v in per.items()}
    rows = []
    for (label, mode), values in per.items():
        hot = engine_us.get((label, mode, 50))
        rows.append([label, mode + ", 50", fmt(summary(values)), "%.1f" % hot if hot else "n/a"])
    return ("The engine alone at 1000 samples a second (%d samples, %d rounds; CPU us per sample less the CPU of the "
            "same loop when it only sleeps; median [min-max]) beside the back-to-back figure:\n\n" % (n, rounds) +
            table(["Python", "stack", "paced at 1000 Hz: CPU us/sample", "back-to-back (engine table)"], rows))


def heap_address(pid):
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 6 and fields[5] == "[heap]":
                start, end = (int(x, 16) for x in fields[0].split("-"))
                if end - start >= 65536:
                    return start
    return None


def syscall_costs(args, interps, loop_bin, data):
    """CPU microseconds of each kind of system call a sample makes, measured alone in a loop."""
    label, py = ([i for i in interps if i[0] == "3.12"] or interps)[0]
    results = []
    for r in range(args.rounds):
        t = deep_stack(py, label, 50, "block")
        try:
            addr = heap_address(t.pid)
            if addr is None:
                return "(no [heap] mapping of 64 KiB in the target: system call costs skipped)"
            out = subprocess.run([loop_bin, "--costs", str(t.pid), hex(addr), str(t.pid), "20000"],
                                 stdout=subprocess.PIPE, check=True).stdout
            results.append(json.loads(out))
        finally:
            t.kill()
    data["syscall_costs"] = results
    rows = [[name, fmt(summary([r[name] for r in results]), 2)] for name in results[0]]
    return ("CPU microseconds of one system call of each kind, alone in a loop of 20,000 (a %s target's heap and "
            "main thread; %d rounds; median [min-max]):\n\n" % (label, len(results)) +
            table(["system call", "CPU us per call"], rows))


# --- section: torn and invalid samples ------------------------------------------------------------


def churn_shapes():
    """{function name: (first line, last line)} of churn.py."""
    tree = ast.parse(open(CHURN).read())
    return {node.name: (node.lineno, node.end_lineno) for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


# outermost first: threading's frames, worker, 1-30 rec, then 1-5 gen or random's frames on top
WORKER_SHAPE = re.compile(r"^(T )+worker(( rec){1,30}(( gen){1,5}|( R)+)?|( R)+)?$")
MAIN_SHAPE = re.compile(r"^(<module> )?main$")
# the outer part of a worker's stack (a thread kept from its outermost frame up, its top missing)
OUTER_PART_SHAPE = re.compile(r"^T( T)*( worker( rec){0,30}(( gen){0,5}|( R)*))?$")


def stack_tokens(frames, describe, spans):
    """(tokens, names, bad) of a stack (frames innermost first), outermost first: churn.py's
    functions by name, threading.py's as T, random.py's as R; bad says why a frame cannot be."""
    tokens, names = [], []
    bad = None
    for function_id, line in reversed(frames):
        name, filename, first_line = describe(function_id)
        names.append(name)
        base = os.path.basename(filename)
        if base == "churn.py":
            span = (1, 10 ** 6) if name == "<module>" else spans.get(name)
            if span is None:
                bad = bad or "unknown function %s" % name
            elif line != _engine.LINE_NONE and not (span[0] <= line <= span[1]):
                bad = bad or "%s line %d outside %d-%d" % (name, line, span[0], span[1])
            tokens.append(name)
        elif base == "threading.py":
            tokens.append("T")
        elif base == "random.py":
            tokens.append("R")
        else:
            bad = bad or "frame in %s (%s)" % (filename, name)
    return tokens, names, bad


def check_outer_part(frames, describe, spans):
    """None when frames (innermost first) can be the outer part of a churn.py worker's stack, else
    a description of them."""
    tokens, names, bad = stack_tokens(frames, describe, spans)
    if not bad and OUTER_PART_SHAPE.match(" ".join(tokens)):
        return None
    return "%s [%d frames%s]" % (" > ".join(names), len(names), "; " + bad if bad else "")


def check_thread(frames, describe, spans):
    """(category, reason) of a thread's stack (frames innermost first) that churn.py cannot make, or
    None when it can. Categories: "cut" (the chain ends before the thread's entry frame, _bootstrap
    or <module>), "spliced" (it reaches the entry but its frames are in an impossible order or
    place)."""
    tokens, names, bad = stack_tokens(frames, describe, spans)
    shape = " ".join(tokens)
    if not bad:
        ok = WORKER_SHAPE.match(shape) if tokens and tokens[0] == "T" else MAIN_SHAPE.match(shape)
        if ok:
            return None
        bad = "shape"
    # 3.11+ name functions by qualified name (Thread._bootstrap)
    reached = bool(names) and names[0].rsplit(".", 1)[-1] in ("_bootstrap", "<module>")
    shown = " > ".join(names) if len(names) <= 8 else " > ".join(names[:3] + ["..."] + names[-4:])
    return ("spliced" if reached else "cut"), "%s [%d frames%s]" % (shown, len(names),
                                                                     "" if bad == "shape" else "; " + bad)


def section_torn(args, interps):
    spans = churn_shapes()
    stats = {}
    targets, sessions, names = {}, {}, {}
    try:
        for label, py in interps:
            t = Target([py, CHURN, "4"], label + " churn")
            targets[label] = t
            sessions[label] = open_session(t.pid)
            t.stop()
            stats[label] = {"samples": 0, "threads": 0, "torn": 0, "retried": 0, "cut": 0, "spliced": 0,
                            "bad_samples": 0, "errors": 0, "outer_kept": 0, "outer_wrong": 0,
                            "examples": {"cut": [], "spliced": [], "error": [], "outer part": []},
                            "seconds": 0.0}
        chunk = args.torn_seconds / args.torn_chunks
        for r in range(args.torn_chunks):
            order = list(targets)
            order = order[r % len(order):] + order[:r % len(order)]
            log("torn: round %d/%d" % (r + 1, args.torn_chunks))
            for label in order:
                t, s, st = targets[label], sessions[label], stats[label]
                t.cont()
                cache = names.setdefault(label, {})

                def describe(fid, s=s, cache=cache):
                    v = cache.get(fid)
                    if v is None:
                        v = cache[fid] = s.function(fid)
                    return v

                s0 = s.stats()
                end = time.monotonic() + chunk
                while time.monotonic() < end:
                    for _ in range(50):
                        try:
                            threads = s.sample()
                        except _engine.Error as e:
                            st["errors"] += 1
                            if len(st["examples"]["error"]) < 3:
                                st["examples"]["error"].append(repr(e.args))
                            continue
                        bad_sample = False
                        for th in threads:
                            if th[3] & _engine.THREAD_TORN:
                                bad_sample = True
                                if th[3] & getattr(_engine, "THREAD_TOP_MISSING", 0):  # (a baseline build may lack it)
                                    st["outer_kept"] += 1
                                    wrong = check_outer_part(th[6], describe, spans)
                                    if wrong:
                                        st["outer_wrong"] += 1
                                        if len(st["examples"]["outer part"]) < 3:
                                            st["examples"]["outer part"].append(wrong)
                                continue
                            wrong = check_thread(th[6], describe, spans)
                            if wrong:
                                bad_sample = True
                                st[wrong[0]] += 1
                                if len(st["examples"][wrong[0]]) < 3:
                                    st["examples"][wrong[0]].append(wrong[1])
                        st["bad_samples"] += bad_sample
                s1 = s.stats()
                st["samples"] += s1["samples"] - s0["samples"]
                st["threads"] += s1["threads_walked"] - s0["threads_walked"]
                st["torn"] += s1["torn_threads"] - s0["torn_threads"]
                st["retried"] += s1["retried_threads"] - s0["retried_threads"]
                st["seconds"] += chunk
                t.stop()
    finally:
        for t in targets.values():
            t.kill()

    def pct(n, d):
        return "%d (%.2f%%)" % (n, 100.0 * n / max(d, 1))

    rows, examples = [], []
    for label, st in stats.items():
        threads = st["threads"]
        bad = st["torn"] + st["cut"] + st["spliced"]
        rows.append([label, st["samples"], threads, pct(st["torn"], threads), pct(st["retried"], threads),
                     pct(st["cut"], threads), pct(st["spliced"], threads), st["errors"], pct(bad, threads),
                     pct(st["bad_samples"], st["samples"]), "yes" if 100.0 * bad / max(threads, 1) < 1.0 else "NO",
                     "%d of %d" % (st["outer_kept"], st["torn"]), st["outer_wrong"]])
        for kind in ("cut", "spliced", "error", "outer part"):
            for e in st["examples"][kind]:
                examples.append("- %s, %s: %s" % (label, kind, e))
    text = table(["Python", "samples", "threads walked", "torn (flagged)", "retried", "wrong unflagged: cut short",
                  "wrong unflagged: spliced", "sample errors", "bad threads (torn + wrong)",
                  "samples with a bad thread", "bad threads < 1%", "torn, outer part kept",
                  "outer part impossible"], rows)
    if examples:
        text += "\n\nExamples of wrong, unflagged stacks (outermost > ... > innermost):\n\n" + "\n".join(examples)
    return text, stats


# --- section: py-spy dump beside loopscope dump ---------------------------------------------------


def section_dump(args, interps, pyspy, plain_dir):
    commands = {
        "loopscope dump (plain copy, python -S)": lambda pid: ([sys.executable, "-S", "-m", "loopscope", "dump",
                                                                str(pid)], dict(os.environ, PYTHONPATH=plain_dir)),
        "loopscope dump (editable .venv)": lambda pid: ([sys.executable, "-m", "loopscope", "dump", str(pid)], None),
        "py-spy dump": lambda pid: ([pyspy, "dump", "--pid", str(pid)], None),
        "py-spy dump --nonblocking": lambda pid: ([pyspy, "dump", "--nonblocking", "--pid", str(pid)], None),
    }
    names = list(commands)
    base = names[0]
    results = {}
    rows = []
    for label, py in interps:
        for mode in ("block", "busy"):
            t = deep_stack(py, label, 50, mode)
            try:
                res = {name: {"wall": [], "cpu": [], "fail": 0} for name in names}
                for r in range(args.rounds):
                    order = names[r % len(names):] + names[:r % len(names)]
                    for name in order:
                        argv, env = commands[name](t.pid)
                        with ChildCPU() as cpu:
                            rc, out, err, wall = run_measured(argv, env=env)
                        if rc != 0 or b"level" not in out:
                            res[name]["fail"] += 1
                            if res[name]["fail"] == 1:
                                log("%s failed on %s: rc %s %s" % (name, label, rc, err.decode(errors="replace")[:300]))
                            continue
                        res[name]["wall"].append(wall * 1000)
                        res[name]["cpu"].append(cpu.seconds * 1000)
                results["%s %s50" % (label, mode)] = res
                for name in names:
                    ratios = [a / b for a, b in zip(res[name]["wall"], res[base]["wall"])] \
                        if len(res[name]["wall"]) == len(res[base]["wall"]) else []
                    rows.append([label, mode + ", 50", name, fmt(summary(res[name]["wall"])),
                                 fmt(summary(res[name]["cpu"])), "" if name == base else fmt_ratio(summary(ratios)),
                                 res[name]["fail"]])
            finally:
                t.kill()
    text = table(["Python", "target", "command", "wall ms", "CPU ms (user+sys)", "wall vs plain loopscope (per-round)",
                  "failures"], rows)
    text += "\n\n" + dump_breakdown(args, interps, plain_dir)
    return text, results


def dump_breakdown(args, interps, plain_dir):
    """What one `loopscope dump` spends its CPU on: the interpreter's start, importing loopscope,
    opening the session (finding the interpreter in the target), the first sample (code objects not
    yet cached), a later sample."""
    env = dict(os.environ, PYTHONPATH=plain_dir)
    probe = ("import time, sys\n"
             "t0 = time.thread_time_ns()\n"
             "from loopscope import _engine\n"
             "t1 = time.thread_time_ns()\n"
             "s = _engine.Session(int(sys.argv[1]))\n"
             "t2 = time.thread_time_ns()\n"
             "s.sample()\n"
             "t3 = time.thread_time_ns()\n"
             "s.sample()\n"
             "t4 = time.thread_time_ns()\n"
             "print(t1 - t0, t2 - t1, t3 - t2, t4 - t3)\n")
    rows = []
    for label, py in interps:
        t = deep_stack(py, label, 50, "block")
        try:
            parts = {"start": [], "import": [], "open": [], "first": [], "later": [], "total": []}
            for r in range(args.rounds):
                with ChildCPU() as cpu:
                    run_measured([sys.executable, "-S", "-c", "pass"], env=env)
                parts["start"].append(cpu.seconds * 1000)
                with ChildCPU() as cpu:
                    rc, out, err, wall = run_measured([sys.executable, "-S", "-c", probe, str(t.pid)], env=env)
                if rc:
                    raise RuntimeError(err.decode(errors="replace"))
                imp, opn, first, later = (int(x) / 1e6 for x in out.split())
                parts["import"].append(imp)
                parts["open"].append(opn)
                parts["first"].append(first)
                parts["later"].append(later)
                parts["total"].append(cpu.seconds * 1000)
        finally:
            t.kill()
        rows.append([label] + [fmt(summary(parts[k]), 2) for k in ("start", "import", "open", "first", "later",
                                                                     "total")])
    return ("CPU ms of the parts of a loopscope dump (plain copy, blocked 50-deep target; median [min-max]):\n\n" +
            table(["Python", "`python -S -c pass`", "import loopscope._engine", "Session(pid): attach and discover",
                   "first sample (code objects read)", "next sample (cached)", "whole probe process"], rows))


# --- section: py-spy record beside a loopscope loop -----------------------------------------------


def pyspy_samples(path):
    total = 0
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            tail = line.rsplit(" ", 1)[-1]
            if tail.isdigit():
                total += int(tail)
    return total


def section_record(args, interps, pyspy, plain_dir, workdir, startup_cpu_ms):
    """startup_cpu_ms: {(label, contender): median CPU ms of one whole py-spy dump}, py-spy's fixed
    start-up cost (start, attach, one sample), to subtract from its recorders' CPU. loopscope's is
    measured directly: the same loop run for 0 seconds, in the same round."""
    rate, seconds = 1000, args.record_seconds
    contenders = ["loopscope loop (plain copy)", "py-spy record", "py-spy record --nonblocking"]
    results, rows = {}, []
    raw_path = os.path.join(workdir, "pyspy.raw")
    for label, py in interps:
        t = deep_stack(py, label, 50, "busy")
        try:
            res = {name: {"cpu_us": [], "samples": [], "cpu_s": [], "wall_s": [], "fail": 0, "corrected": [],
                          "thread_us": []} for name in contenders}
            for r in range(args.record_rounds):
                log("record %s: round %d/%d" % (label, r + 1, args.record_rounds))
                order = contenders[r % len(contenders):] + contenders[:r % len(contenders)]
                for name in order:
                    if name.startswith("loopscope"):
                        argv = [sys.executable, "-S", LOOP_RECORD, str(t.pid), str(rate), str(seconds)]
                        env = dict(os.environ, PYTHONPATH=plain_dir)
                    else:
                        argv = [pyspy, "record", "--pid", str(t.pid), "--rate", str(rate), "--duration", "%d" % seconds,
                                "--format", "raw", "-o", raw_path]
                        if name.endswith("--nonblocking"):
                            argv.append("--nonblocking")
                        env = None
                        if os.path.exists(raw_path):
                            os.unlink(raw_path)
                    with ChildCPU() as cpu:
                        rc, out, err, wall = run_measured(argv, env=env, timeout=seconds * 20 + 30)
                    if rc != 0:
                        res[name]["fail"] += 1
                        log("%s failed on %s: rc %s %s" % (name, label, rc, err.decode(errors="replace")[-300:]))
                        continue
                    n = json.loads(out)["samples"] if name.startswith("loopscope") else pyspy_samples(raw_path)
                    if n <= 0:
                        res[name]["fail"] += 1
                        continue
                    res[name]["samples"].append(n)
                    res[name]["cpu_s"].append(cpu.seconds)
                    res[name]["wall_s"].append(wall)
                    res[name]["cpu_us"].append(cpu.seconds * 1e6 / n)
                    if name.startswith("loopscope"):
                        res[name]["thread_us"].append(json.loads(out)["loop_thread_cpu_ns"] / 1000.0 / n)
                        with ChildCPU() as idle:  # the same process sampling for 0 s: its start-up
                            run_measured(argv[:-1] + ["0"], env=env)
                        res[name]["corrected"].append((cpu.seconds - idle.seconds) * 1e6 / n)
                    elif startup_cpu_ms.get((label, name)) is not None:
                        res[name]["corrected"].append((cpu.seconds - startup_cpu_ms[(label, name)] / 1000.0) * 1e6 / n)
            results[label] = res
            base = res[contenders[0]]["cpu_us"]
            for name in contenders:
                mine = res[name]["cpu_us"]
                ratios = [a / b for a, b in zip(mine, base)] if len(mine) == len(base) else []
                rows.append([label, name, fmt(summary(res[name]["samples"]), 0), fmt(summary(res[name]["wall_s"]), 1),
                             fmt(summary(res[name]["cpu_s"]), 2), fmt(summary(mine)),
                             fmt(summary(res[name]["corrected"])), fmt(summary(res[name]["thread_us"])),
                             "" if name == contenders[0] else fmt_ratio(summary(ratios)), res[name]["fail"]])
        finally:
            t.kill()
    text = table(["Python", "recorder (%d Hz, %d s, busy 50-deep target)" % (rate, seconds), "samples taken", "wall s",
                  "process CPU s", "CPU us/sample (whole process)", "CPU us/sample less start-up",
                  "sampling thread CPU us/sample", "whole-process CPU/sample vs loopscope (per-round)",
                  "failures"], rows)
    text += ("\n\nStart-up subtracted: loopscope's, the same loop run for 0 s in the same round; py-spy's, the median "
             "CPU of one whole `py-spy dump` of the same target (start, attach, one sample) from the dump section.")
    return text, results


def record_syscalls(interps, pyspy, plain_dir, strace, workdir, data):
    """System calls per sample of each recorder (strace -f -c over a 1 s recording, all of it:
    start-up included, so the figures are a little high for both)."""
    rows = []
    raw_path = os.path.join(workdir, "pyspy-strace.raw")
    for label, py in interps:
        t = deep_stack(py, label, 50, "busy")
        try:
            for name, argv, env in (
                    ("loopscope loop (plain copy)", [sys.executable, "-S", LOOP_RECORD, str(t.pid), "1000", "1"],
                     dict(os.environ, PYTHONPATH=plain_dir)),
                    ("py-spy record --nonblocking", [pyspy, "record", "--pid", str(t.pid), "--rate", "1000",
                                                     "--duration", "1", "--format", "raw", "-o", raw_path,
                                                     "--nonblocking"], None),
                    ("py-spy record", [pyspy, "record", "--pid", str(t.pid), "--rate", "1000", "--duration", "1",
                                       "--format", "raw", "-o", raw_path], None)):
                with tempfile.NamedTemporaryFile("r", suffix=".strace") as f:
                    proc = subprocess.run([strace, "-f", "-c", "-o", f.name] + argv, stdout=subprocess.PIPE,
                                          stderr=subprocess.DEVNULL, env=env)
                    counts = {}
                    for line in f.read().splitlines():
                        m = STRACE_LINE.match(line)
                        if m and m.group(3) != "total":
                            counts[m.group(3)] = int(m.group(1))
                if proc.returncode:
                    rows.append([label, name, "failed", ""])
                    continue
                n = json.loads(proc.stdout)["samples"] if name.startswith("loopscope") else pyspy_samples(raw_path)
                total = sum(counts.values())
                top = sorted(counts.items(), key=lambda kv: -kv[1])[:5]
                top += [(k, counts[k]) for k in ("ptrace", "wait4", "tgkill") if k in counts and k not in dict(top)]
                data.setdefault("syscalls", {})["%s %s" % (label, name)] = {"samples": n, "counts": counts}
                rows.append([label, name, "%.1f" % (total / max(n, 1)),
                             ", ".join("%s %.1f" % (k, v / max(n, 1)) for k, v in top)])
        finally:
            t.kill()
    return ("System calls per sample of each recorder (strace -f -c of a whole 1 s recording at 1000 Hz, start-up "
            "included; under strace the recorders run slower, so this counts calls, not time):\n\n" +
            table(["Python", "recorder", "syscalls/sample", "most frequent (per sample)"], rows))


# --- main -----------------------------------------------------------------------------------------


def machine_facts():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    git = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL).stdout.decode().strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "src"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL).stdout.decode().strip()
    if dirty:
        diff = subprocess.run(["git", "-C", ROOT, "diff", "HEAD", "--", "src"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL).stdout
        if diff:
            dirty += "\n diff sha1 " + __import__("hashlib").sha1(diff).hexdigest()[:12]
        else:
            dirty += "\n (new untracked files only)"
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": model,
        "kernel": platform.release(),
        "profiler python": platform.python_version(),
        "load average at start (1/5/15 min)": "%.2f %.2f %.2f" % os.getloadavg(),
        "git": git + (" + uncommitted changes in src/ (%s)" % ", ".join(l.split()[-1] for l in dirty.splitlines())
                      if dirty else " (src/ clean)"),
    }


SECTIONS = ("engine", "profile", "syscalls", "torn", "dump", "record")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 3.11 and 3.12 only (unless --versions), "
                        "fewer rounds, samples and seconds")
    parser.add_argument("--only", default=",".join(SECTIONS), help="sections to run, comma-separated: %s" %
                        ",".join(SECTIONS))
    parser.add_argument("--versions", default="", help="interpreters, e.g. 3.11,3.12,debian-3.11 (default: all)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (engine, dump); default 10")
    parser.add_argument("--samples", type=int, help="timed samples per engine measurement of 3.11 and 3.12 at depth "
                        "50 (a quarter of that for the other rows); default 20000")
    parser.add_argument("--record-seconds", type=int, help="py-spy record --duration (whole seconds); default 2")
    parser.add_argument("--record-rounds", type=int, help="rounds of the record comparison; default 10")
    parser.add_argument("--torn-seconds", type=float, help="seconds of back-to-back sampling per version; default 6")
    parser.add_argument("--json", help="also write every number to this file")
    parser.add_argument("--baseline", help="another checkout (e.g. `git worktree add /tmp/base HEAD`) whose "
                        "src/engine is measured beside this one in the engine section, in the same rounds")
    args = parser.parse_args()
    quick = args.quick
    args.rounds = args.rounds or (3 if quick else 10)
    args.samples = args.samples or (5000 if quick else 20000)
    args.warmup = 500
    args.record_seconds = args.record_seconds or 2
    args.record_rounds = args.record_rounds or (2 if quick else 10)
    args.torn_seconds = args.torn_seconds or (1.5 if quick else 6.0)
    args.torn_chunks = 3
    args.strace_samples = 500 if quick else 2000
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    for s in sections:
        if s not in SECTIONS:
            parser.error("unknown section %r" % s)
    wanted = [v.strip() for v in args.versions.split(",") if v.strip()]
    if quick and not wanted:
        wanted = list(PRIMARY)
    interps = interpreters(wanted)
    if not interps:
        sys.exit("no CPython 3.8-3.13 interpreter found")
    primary = [i for i in interps if i[0] in PRIMARY] or interps[:2]

    facts = machine_facts()
    pyspy, pyspy_version = find_pyspy()
    strace, strace_version = find_strace()
    facts["py-spy"] = pyspy_version or "missing"
    facts["strace"] = strace_version or "missing"
    facts["interpreters"] = ", ".join("%s (%s)" % (label, path) for label, path in interps)
    out = []
    command = "python " + " ".join([os.path.relpath(__file__, ROOT)] + sys.argv[1:])
    out.append("Command: `%s` (from the repository root, with .venv/bin first on PATH)\n" % command)
    out.append("\n".join("- %s: %s" % kv for kv in facts.items()))
    everything = {"facts": facts, "command": command, "args": vars(args)}
    workdir = tempfile.mkdtemp(prefix="ls-bench-")
    started = time.monotonic()
    try:
        loop_bin = build_engine_loop(workdir)
        plain_dir = plain_copy(workdir)
        if "engine" in sections:
            log("== engine")
            base_bin = build_engine_loop(workdir, args.baseline, "engine_loop_baseline") if args.baseline else None
            text, data = section_engine(args, interps, loop_bin, base_bin)
            out.append("\n### Engine CPU per sample of one thread (%d timed samples per measurement for 3.11/3.12 at "
                       "depth 50, %d for the other rows, after %d warm-up; %d interleaved rounds; "
                       "median [min-max])\n\n%s"
                       % (args.samples, args.samples // 4, args.warmup, args.rounds, text))
            everything["engine"] = data
        if "profile" in sections:
            perf = shutil.which("perf")
            if not perf or not loop_bin:
                log("profile: needs perf (apt-get install linux-perf) and a C compiler; skipped")
            else:
                log("== profile")
                engine_us = {}
                for key, v in (everything.get("engine") or {}).items():
                    label, mode, depth = key.split()
                    if v["c"]:
                        engine_us[(label, mode, int(depth))] = statistics.median(v["c"])
                text, data = section_profile(args, interps, loop_bin, perf, workdir, engine_us)
                out.append("\n### Where the engine's CPU time goes (perf record -e cpu-clock -g of the engine loop; "
                           "microseconds = share x the engine-alone median above)\n\n%s" % text)
                everything["profile"] = data
        if "syscalls" in sections:
            if not loop_bin:
                log("syscalls: needs the engine loop (a C compiler); skipped")
            else:
                log("== syscalls")
                text, data = section_syscalls(args, interps, loop_bin, strace)
                out.append("\n### System calls per sample, blocked target (strace: a run of %d samples minus a run "
                           "of none, after 20 warm-up samples)\n\n%s" % (args.strace_samples, text))
                everything["syscalls"] = data
        if "torn" in sections:
            log("== torn")
            text, data = section_torn(args, interps)
            out.append("\n### Torn and wrong samples on churn.py (4 threads recursing 1-30 deep with generators, "
                       "back-to-back sampling, %.1f s per version in %d interleaved chunks)\n\n%s"
                       % (args.torn_seconds, args.torn_chunks, text))
            everything["torn"] = data
        if "dump" in sections and pyspy:
            log("== dump")
            text, data = section_dump(args, primary, pyspy, plain_dir)
            out.append("\n### One whole dump, py-spy beside loopscope (50-deep target, %d interleaved rounds; median "
                       "[min-max])\n\n%s" % (args.rounds, text))
            everything["dump"] = data
        if "record" in sections and pyspy:
            log("== record")
            startup = {}
            for key, res in (everything.get("dump") or {}).items():
                label, target = key.split()
                if target != "busy50":
                    continue
                for name, short in (("loopscope dump (plain copy, python -S)", "loopscope loop (plain copy)"),
                                    ("py-spy dump", "py-spy record"),
                                    ("py-spy dump --nonblocking", "py-spy record --nonblocking")):
                    if res[name]["cpu"]:
                        startup[(label, short)] = statistics.median(res[name]["cpu"])
            text, data = section_record(args, primary, pyspy, plain_dir, workdir, startup)
            if strace:
                text += "\n\n" + record_syscalls(primary, pyspy, plain_dir, strace, workdir, data)
            out.append("\n### Continuous sampling at 1000 Hz, py-spy record beside a loopscope loop (%d interleaved "
                       "rounds; median [min-max])\n\n%s" % (args.record_rounds, text))
            everything["record"] = data
    finally:
        Target.kill_all()
        shutil.rmtree(workdir, ignore_errors=True)
    out.append("\nTotal benchmark time: %.0f s; load average at the end (1/5/15 min): %.2f %.2f %.2f"
               % ((time.monotonic() - started,) + os.getloadavg()))
    print("\n".join(out))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(everything, f, indent=1, default=str)


if __name__ == "__main__":
    main()
