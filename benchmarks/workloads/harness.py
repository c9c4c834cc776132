# harness.py - what bench_accuracy.py, bench_overhead.py and bench_throughput.py share: the machine
# facts the results must quote, waiting for a quiet machine, finding py-spy, starting a target that
# says "ready PID", waiting for a child with its resource usage, and the statistics we quote.
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)
ROOT = os.path.dirname(BENCH)
PYSPY_INSTALL = "py-spy not found: install it with `%s -m pip install py-spy` (or put py-spy on PATH)" % (
    os.path.join(ROOT, ".venv", "bin", "python"))


def log(*args):
    sys.stderr.write(" ".join(str(a) for a in args) + "\n")
    sys.stderr.flush()


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def find_pyspy(required=False):
    """The py-spy executable (next to this interpreter, else on PATH), or None."""
    candidates = [os.path.join(os.path.dirname(sys.executable), "py-spy"), shutil.which("py-spy")]
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return path
    if required:
        sys.exit(PYSPY_INSTALL)
    log(PYSPY_INSTALL + "; its columns are skipped")
    return None


def find_loopscope():
    path = os.path.join(os.path.dirname(sys.executable), "loopscope")
    return [path] if os.access(path, os.X_OK) else [sys.executable, "-m", "loopscope"]


def tool_version(command):
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=10).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine_facts(pyspy=None):
    """The facts every result must quote, as [(name, value)]."""
    from loopscope import __version__

    facts = [
        ("date", datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S %Z").strip()),
        ("host", platform.node()),
        ("kernel", platform.release()),
        ("nproc", str(os.cpu_count())),
        ("CPU", cpu_model()),
        ("python (targets and loopscope)", "%s (%s)" % (platform.python_version(), sys.executable)),
        ("loopscope", __version__),
    ]
    if pyspy:
        facts.append(("py-spy", tool_version([pyspy, "--version"])))
    facts.append(("load average (1, 5, 15 min) before", loadavg()))
    return facts


def facts_markdown(facts):
    return "\n".join("- %s: %s" % (name, value) for name, value in facts)


def wait_quiet(max_s, threshold=1.0, every_s=30.0):
    """Poll the 1-minute load average until it is below threshold or max_s passed; returns
    (quiet, waited_s, load)."""
    start = time.monotonic()
    while True:
        load = loadavg()
        if float(load.split()[0]) < threshold:
            return True, time.monotonic() - start, load
        if time.monotonic() - start >= max_s:
            return False, time.monotonic() - start, load
        log("load average %s: waiting for the 1-minute load to drop below %.1f (%.0f s so far)"
            % (load, threshold, time.monotonic() - start))
        time.sleep(every_s)


def start_target(command, stdin=None, ready_timeout=30.0):
    """Start command (it prints "ready PID" on stdout when ready); returns the Popen."""
    proc = subprocess.Popen(command, stdin=stdin, stdout=subprocess.PIPE, text=True, bufsize=1)
    result = []
    reader = threading.Thread(target=lambda: result.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(ready_timeout)
    line = result[0] if result else ""
    if not line.startswith("ready"):
        proc.kill()
        proc.wait()
        raise RuntimeError("target %s did not start (it said %r)" % (command, line))
    return proc


def wait_rusage(proc, timeout_s=None):
    """Wait for a Popen child; returns its (user + system) CPU seconds, or None when it was reaped
    already (bench_overhead.py's paired runs met that at their very end, after every slice, a few
    times: the figures are complete then, and only this count is lost). With a timeout the child
    is killed when it passes."""
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        try:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status
            return usage.ru_utime + usage.ru_stime
        if deadline is not None and time.monotonic() > deadline:
            proc.kill()
            deadline = None
        time.sleep(0.01)


def kill(proc):
    if proc and proc.poll() is None:
        proc.kill()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            pass


def spread(values, fmt="%.3f"):
    """"median (min-max)" of values."""
    if not values:
        return "-"
    return (fmt + " (" + fmt + "-" + fmt + ")") % (statistics.median(values), min(values), max(values))


def quartiles(values):
    """(q1, median, q3) of values (inclusive method)."""
    if len(values) < 2:
        v = values[0] if values else float("nan")
        return v, v, v
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], statistics.median(values), q[2]
