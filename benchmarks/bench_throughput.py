"""Throughput of loopscope's recording: the highest sampling rate it sustains on a 50-deep busy
single-threaded target without falling behind, and its own CPU per sample.

    .venv/bin/python benchmarks/bench_throughput.py             # 10 rounds x 9 configurations x 5 s, ~8 minutes
    .venv/bin/python benchmarks/bench_throughput.py --quick     # a smoke run: 2 rounds of 1.5 s
    .venv/bin/python benchmarks/bench_throughput.py --rates 10000,20000 --seconds 10 --json /tmp/t.json

The target is workloads/deep_busy.py 50: one thread, 50 frames deep, spinning in its innermost frame
(its top frame changes all the time). The recording is loopscope's own path (what `loopscope run`
and `attach` do, as loopscope.recorder.record does it): a Session, a Sampler(rate_hz=R, window_s=1,
os_info=True) sampling on its C thread, and this process's main thread taking the closed windows
every 0.2 s into a ProfileWriter (a real profile file, in a temporary directory). Each
configuration records for --seconds; every round runs each configuration once, in an order that
rotates. Quoted per configuration, median (min-max) over the rounds:

  achieved   samples / elapsed (the sampler's own counters: Sampler.status())
  late %     ticks skipped because the sampler was behind / all ticks (samples + late + failed);
             "sustains" = median late < 1 %
  CPU/sample the sampling thread's CPU time (status sampler_cpu_ns) / ticks, in microseconds; and
             the whole recording process's CPU (rusage: sampler + draining + writing) / ticks
  core %     the sampling thread's CPU / elapsed: the share of one core it takes
  sys %      the part of the sampling thread's CPU spent in the kernel (/proc/self/task/TID/stat),
             i.e. in its system calls (process_vm_readv, the /proc reads, clock_nanosleep)

Besides the rates (1k, 2k, 5k, 10k, 20k, 50k by default), two diagnostic configurations:
  no-os-info@R  os_info=False: no per-thread /proc/PID/task/TID/{stat,schedstat} reads (no thread
                state or CPU time): shows what those reads cost
  slack1us@R    this process's timer slack set to 1 us (prctl PR_SET_TIMERSLACK) before the sampler
                thread starts (it inherits it): shows how much of the lateness at high rates is
                the kernel's default 50 us timer slack on clock_nanosleep

--perf RATE adds where the sampling thread's CPU goes at that rate: one more recording, with
`perf record -e cpu-clock -g -t TID` on the sampling thread, summarised from `perf report
--children` as the share of its CPU samples under each system call (process_vm_readv, with its page
pinning, copying and access check; the /proc preads; clock_nanosleep) and in user space, and the top
symbols by self time (perf itself slows the thread down a little; the shares are what matter).
--perf-only runs just that.

Timings never go into unit tests; this script is where they live. Needs the right to read the
target's memory (it is this script's child). Prints markdown; --json writes every run.
"""

import argparse
import ctypes
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import types

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "workloads"))
import harness  # noqa: E402
from harness import log  # noqa: E402

from loopscope import _engine  # noqa: E402
from loopscope.recorder import DRAIN_INTERVAL_S, profile_meta  # noqa: E402
from loopscope.storage import ProfileWriter  # noqa: E402

TARGET = os.path.join(harness.HERE, "deep_busy.py")
DEPTH = 50
DEFAULT_RATES = (1000, 2000, 5000, 10000, 20000, 50000)
DEFAULT_EXTRA = ("no-os-info@10000", "no-os-info@20000", "slack1us@20000")
PR_SET_TIMERSLACK = 29
PR_GET_TIMERSLACK = 30
CLK_TCK = os.sysconf("SC_CLK_TCK")


def set_timer_slack(ns):
    """Set this thread's timer slack (threads created later inherit it); returns the previous value."""
    previous = timer_slack()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_TIMERSLACK, ctypes.c_ulong(ns), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_TIMERSLACK)")
    return previous


def timer_slack():
    """This thread's timer slack in ns (prctl PR_GET_TIMERSLACK)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.restype = ctypes.c_long
    return libc.prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0)


def thread_times(tid):
    """(user s, system s) of one thread of this process, or None."""
    try:
        with open("/proc/self/task/%d/stat" % tid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def own_tids():
    return {int(t) for t in os.listdir("/proc/self/task")}


def record_once(pid, config, seconds, workdir, label):
    """Record the target under one configuration; returns the numbers."""
    kind, rate = config.split("@") if "@" in config else ("rate", config)
    rate = int(rate)
    options = types.SimpleNamespace(rate=rate, window=1.0, mode="wall", threads="all", duration=seconds)
    session = _engine.Session(pid)
    previous_slack = set_timer_slack(1000) if kind == "slack1us" else None
    try:
        sampler = _engine.Sampler(session, rate_hz=rate, window_s=1.0, main_thread_only=False,
                                  os_info=kind != "no-os-info", duration_s=float(seconds))
        path = os.path.join(workdir, label + ".lsp")
        writer = ProfileWriter(path, profile_meta(session, ["deep_busy.py", str(DEPTH)], options))
        before = own_tids()
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        sampler.start()
    finally:
        if previous_slack is not None:
            set_timer_slack(previous_slack)
    sampler_tids = own_tids() - before
    split = None
    windows = 0

    def drain():
        nonlocal windows
        interned, closed = sampler.take()
        writer.add_interned(interned)
        for window in closed:
            writer.add_window(window)
            windows += 1

    try:
        while True:
            time.sleep(DRAIN_INTERVAL_S)
            times = [thread_times(t) for t in sampler_tids]
            times = [t for t in times if t]
            if times:
                split = (sum(t[0] for t in times), sum(t[1] for t in times))
            drain()
            if sampler.status()["state"] != "running":
                break
    finally:
        sampler.stop()
        drain()
        writer.close(time.time_ns())
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    status = sampler.status()
    os.unlink(path)
    ticks = status["ticks"]
    all_ticks = status["samples"] + status["late"] + status["failed"]
    elapsed = status["elapsed_ns"] / 1e9
    process_cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    return {
        "config": config, "rate": rate, "kind": kind, "state": status["state"],
        "ticks": ticks, "samples": status["samples"], "late": status["late"], "failed": status["failed"],
        "torn_threads": status["torn_threads"], "elapsed_s": elapsed, "windows": windows,
        "achieved_hz": status["samples"] / elapsed if elapsed else 0.0,
        "late_pct": 100.0 * status["late"] / all_ticks if all_ticks else 0.0,
        "sampler_cpu_s": status["sampler_cpu_ns"] / 1e9,
        "sampler_us_per_tick": status["sampler_cpu_ns"] / 1e3 / ticks if ticks else 0.0,
        "process_us_per_tick": process_cpu * 1e6 / ticks if ticks else 0.0,
        "core_pct": 100.0 * status["sampler_cpu_ns"] / status["elapsed_ns"] if status["elapsed_ns"] else 0.0,
        "sys_pct": 100.0 * split[1] / (split[0] + split[1]) if split and split[0] + split[1] > 0 else None,
    }


PERF_GROUPS = (
    ("process_vm_readv (reading the target's memory)", "__x64_sys_process_vm_readv"),
    ("  of which pinning the target's pages", "pin_user_pages_remote"),
    ("  of which copying", "copy_page_to_iter"),
    ("  of which the ptrace access check (mm_access)", "mm_access"),
    ("pread of /proc/PID/task/TID/{stat,schedstat}", "__x64_sys_pread64"),
    ("  of which formatting /proc/.../stat (do_task_stat)", "do_task_stat"),
    ("clock_nanosleep (sleeping and waking)", "__x64_sys_clock_nanosleep"),
    ("all system calls", "do_syscall_64"),
)


def parse_perf_report(text):
    """{symbol: (children %, self %)} from `perf report --stdio --sort sym -g none` output."""
    found = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0].endswith("%") and parts[1].endswith("%") and parts[2].startswith("["):
            try:
                found.setdefault(parts[3], (float(parts[0][:-1]), float(parts[1][:-1])))
            except ValueError:
                pass
    return found


def perf_breakdown(pid, rate, seconds, workdir):
    """Where the sampling thread's CPU goes at `rate` (perf record on that thread); a dict, or None."""
    perf = shutil.which("perf")
    if not perf:
        log("perf not found (Debian: apt-get install linux-perf): no CPU breakdown")
        return None
    data = os.path.join(workdir, "perf.data")
    session = _engine.Session(pid)
    sampler = _engine.Sampler(session, rate_hz=rate, window_s=1.0, os_info=True, duration_s=float(seconds) + 1.0)
    before = own_tids()
    sampler.start()
    tids = own_tids() - before
    command = [perf, "record", "-q", "-e", "cpu-clock", "-F", "20000", "-g", "-t", ",".join(map(str, tids)),
               "-o", data, "--", "sleep", str(seconds)]
    recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while sampler.status()["state"] == "running":
        sampler.take()
        time.sleep(DRAIN_INTERVAL_S)
    sampler.stop()
    sampler.take()
    _, err = recorder.communicate(timeout=60)
    status = sampler.status()
    if recorder.returncode != 0 or not os.path.exists(data):
        log("perf record failed: %s" % err.strip())
        return None

    def perf_report(children):
        return subprocess.run([perf, "report", "-i", data, "--stdio", "--children" if children else "--no-children",
                               "--sort", "sym", "-g", "none"], capture_output=True, text=True, timeout=300).stdout

    inclusive = parse_perf_report(perf_report(True))
    self_time = parse_perf_report(perf_report(False))
    groups = [(label, inclusive.get(symbol, (0.0, 0.0))[0]) for label, symbol in PERF_GROUPS]
    syscalls = inclusive.get("do_syscall_64", (0.0, 0.0))[0]
    groups.append(("user space (the engine: walking frames, interning, aggregating) and the rest", 100.0 - syscalls))
    top = sorted(((v[1], k) for k, v in self_time.items()), reverse=True)[:15]
    return {"rate": rate, "command": command, "groups": groups, "top_self": top,
            "sampler_us_per_tick": status["sampler_cpu_ns"] / 1e3 / status["ticks"] if status["ticks"] else 0.0,
            "late_pct": 100.0 * status["late"] / max(1, status["samples"] + status["late"] + status["failed"])}


def perf_markdown(result):
    out = ["### Where the sampling thread's CPU goes at %d Hz (perf)\n" % result["rate"],
           "`%s` on the sampling thread of one more %d Hz recording (under perf: %.1f us/sample, late %.2f %%). "
           "Shares of the thread's CPU samples, inclusive (`perf report --children`):\n"
           % (" ".join(["perf"] + [os.path.basename(a) if a.endswith("perf.data") else a for a in result["command"][1:]]),
              result["rate"], result["sampler_us_per_tick"], result["late_pct"]),
           "| where | share of the sampler's CPU % |", "|---|---|"]
    out += ["| %s | %.1f |" % (label, pct) for label, pct in result["groups"]]
    out += ["", "Top symbols by self time: " + ", ".join("%s %.1f %%" % (sym, pct) for pct, sym in result["top_self"]), ""]
    return "\n".join(out)


def report(runs, configs, args, facts, load_after, quiet_note, elapsed_s):
    out = []
    w = out.append
    w("## Throughput (bench_throughput.py)\n")
    if quiet_note:
        w(quiet_note + "\n")
    w("Command: `%s`\n" % " ".join([os.path.relpath(sys.executable, harness.ROOT)] + sys.argv))
    w(harness.facts_markdown(facts))
    w("- load average after: %s" % load_after)
    w("- target: `%s %d` (one thread, 50 frames, busy); %d rounds of %g s per configuration; took %.0f s\n"
      % (os.path.relpath(TARGET, harness.ROOT), DEPTH, args.rounds, args.seconds, elapsed_s))
    w("| configuration | achieved samples/s | late % | sampler CPU us/sample | process CPU us/sample | sampler % of a core | sampler sys % | sustains (median late < 1 %) |")
    w("|---|---|---|---|---|---|---|---|")
    best = None
    for config in configs:
        rs = [r for r in runs if r["config"] == config]
        if not rs:
            continue
        late = [r["late_pct"] for r in rs]
        sustains = harness.quartiles(late)[1] < 1.0
        if sustains and "@" not in config:
            best = max(best or 0, rs[0]["rate"])
        sys_pct = [r["sys_pct"] for r in rs if r["sys_pct"] is not None]
        w("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            config if "@" in config else "%s Hz" % config,
            harness.spread([r["achieved_hz"] for r in rs], "%.0f"), harness.spread(late, "%.2f"),
            harness.spread([r["sampler_us_per_tick"] for r in rs], "%.2f"),
            harness.spread([r["process_us_per_tick"] for r in rs], "%.2f"),
            harness.spread([r["core_pct"] for r in rs], "%.1f"),
            harness.spread(sys_pct, "%.0f"), "yes" if sustains else "no"))
    w("")
    w("Highest rate of the sweep sustained (median late < 1 %%): %s.\n" % ("%d Hz" % best if best else "none"))
    failed = [r for r in runs if r["state"] not in ("stopped", "running")]
    if failed:
        w("Runs that did not end normally: %s\n" % ", ".join("%s (%s)" % (r["config"], r["state"]) for r in failed))
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 rounds of 1.5 s (smoke test)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=5.0, help="recording length per configuration")
    parser.add_argument("--rates", help="comma-separated rates (default %s)" % ",".join(map(str, DEFAULT_RATES)))
    parser.add_argument("--extra", help="diagnostic configurations, KIND@RATE with KIND no-os-info or slack1us "
                                        "(default %s; 'none' for none)" % ",".join(DEFAULT_EXTRA))
    parser.add_argument("--python", default=sys.executable, help="the target's interpreter")
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="S",
                        help="first wait up to S seconds for the 1-minute load average to drop below 1")
    parser.add_argument("--json", metavar="FILE", help="also write every run as JSON")
    parser.add_argument("--perf", type=int, metavar="RATE", help="also break the sampling thread's CPU down with perf at RATE")
    parser.add_argument("--perf-only", action="store_true", help="only the perf breakdown (needs --perf)")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds = 2, 1.5
    if args.perf_only:
        if not args.perf:
            sys.exit("--perf-only needs --perf RATE")
        args.rounds = 0
    rates = [int(r) for r in args.rates.split(",")] if args.rates else list(DEFAULT_RATES)
    extra = [] if args.extra == "none" else (args.extra.split(",") if args.extra else list(DEFAULT_EXTRA))
    configs = [str(r) for r in rates] + extra
    quiet_note = None
    if args.wait_quiet:
        quiet, waited, load = harness.wait_quiet(args.wait_quiet)
        if not quiet:
            quiet_note = ("**The machine never got quiet: after waiting %.0f s the load average was %s; "
                          "these numbers were taken on a busy machine.**" % (waited, load))
    facts = harness.machine_facts()
    facts.append(("timer slack of the sampler's parent thread (ns)", str(timer_slack())))
    target = harness.start_target([args.python, TARGET, str(DEPTH)])
    workdir = tempfile.mkdtemp(prefix="bench_throughput.")
    runs = []
    started = time.monotonic()
    try:
        time.sleep(0.5)
        for rnd in range(1, args.rounds + 1):
            k = (rnd - 1) % len(configs)
            order = configs[k:] + configs[:k]
            log("round %d of %d, load %s" % (rnd, args.rounds, harness.loadavg()))
            for config in order:
                r = record_once(target.pid, config, args.seconds, workdir, "r%d-%s" % (rnd, config.replace("@", "-")))
                r["round"] = rnd
                runs.append(r)
                log("  %-18s achieved %7.0f/s late %6.2f%%  sampler %.2f us/sample (%.1f%% of a core, sys %s%%)  process %.2f us/sample" % (
                    config, r["achieved_hz"], r["late_pct"], r["sampler_us_per_tick"], r["core_pct"],
                    "?" if r["sys_pct"] is None else "%.0f" % r["sys_pct"], r["process_us_per_tick"]))
        perf = perf_breakdown(target.pid, args.perf, max(args.seconds, 3.0), workdir) if args.perf else None
    finally:
        target.send_signal(signal.SIGKILL)
        target.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    load_after = harness.loadavg()
    if runs:
        print(report(runs, configs, args, facts, load_after, quiet_note, time.monotonic() - started))
    else:
        print("## Throughput (bench_throughput.py)\n\nCommand: `%s`\n" % " ".join(
            [os.path.relpath(sys.executable, harness.ROOT)] + sys.argv))
        print(harness.facts_markdown(facts))
        print("- load average after: %s\n" % load_after)
    if perf:
        print(perf_markdown(perf))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"facts": facts, "load_after": load_after, "runs": runs, "perf": perf}, f, indent=1)


if __name__ == "__main__":
    main()
