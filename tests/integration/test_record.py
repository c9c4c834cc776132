# Continuous recording on real processes: `loopscope run`, `loopscope attach` and `loopscope export`,
# checked on what a user looks at: the exit code, the signals that reach the program, the profile file
# and its windows, what the profile says the program did (against what the program measured of
# itself), the options, the exports and the errors.
#
# Independent recordings start together (a module fixture starts a group of them at once and each
# test waits for its own), so the file runs in about a minute or less. Every subprocess call has a
# timeout, and every process a test starts is killed at its end, with its children (each is started
# in a session of its own). The helpers here are shared with test_record_reliability.py.
import calendar
import datetime
import gzip
import json
import os
import platform
import pstats
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from support import loopscope_command, require, run_loopscope, supported_interpreters  # noqa: E402

from loopscope.storage import Profile  # noqa: E402

TARGETS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "targets")
SPLIT = os.path.join(TARGETS_DIR, "record_split.py")
PHASES = os.path.join(TARGETS_DIR, "record_phases.py")
THREADS = os.path.join(TARGETS_DIR, "record_threads.py")
TIMEOUT_S = 90  # no recording here lasts more than a few seconds; this only stops a hang
ERROR_PREFIX = "loopscope: error:"
SUMMARY = re.compile(r"loopscope: (\d+) samples in (\d+) windows \((\d+) late, (\d+) failed, (\d+) torn threads\)")
WEIGHTS = ("samples", "wall_ns", "cpu_ns", "on_cpu", "gil")


# --- processes ---

class Finished:
    def __init__(self, returncode, stdout, stderr):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr

    def __repr__(self):
        return "exit %s\n--- stdout:\n%s\n--- stderr:\n%s" % (
            self.returncode, self.stdout[-3000:], self.stderr[-3000:])


class Started:
    """A process in a session of its own (it and its children are killed together), with stdin
    from /dev/null and both output streams captured."""

    def __init__(self, command, cwd=None, stdout=subprocess.PIPE):
        self.command = [str(part) for part in command]
        self.process = subprocess.Popen(self.command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=stdout,
                                        stderr=subprocess.PIPE, encoding="utf-8", errors="replace",
                                        start_new_session=True)
        self.finished = None

    @property
    def pid(self):
        return self.process.pid

    def alive(self):
        return self.process.poll() is None

    def signal(self, signum):
        self.process.send_signal(signum)

    def wait(self, timeout=TIMEOUT_S):
        """The Finished process; fails the test (after killing it) if it runs past the timeout."""
        if self.finished is None:
            try:
                out, err = self.process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                out, err = self.process.communicate()
                pytest.fail("%s did not end within %ss\n%s" % (" ".join(self.command), timeout,
                                                                  Finished(None, out or "", err or "")))
            self.finished = Finished(self.process.returncode, out or "", err or "")
        return self.finished

    def kill(self):
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # the group outlives its leader
        except (ProcessLookupError, PermissionError):
            pass
        if self.process.poll() is None:
            self.process.wait()


def loopscope(*args, **kwargs):
    """loopscope started in the background (see Started)."""
    return Started(loopscope_command(*args), **kwargs)


@pytest.fixture
def spawn():
    """spawn(command, cwd=None) -> Started; everything spawned is killed when the test ends."""
    started = []

    def start(command, **kwargs):
        process = Started(command, **kwargs)
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


def wait_until(condition, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out after %.0fs waiting until %s" % (timeout, what))
        time.sleep(0.01)


def process_state(pid):
    """The one-letter state in /proc/PID/stat, and the CPU time (utime + stime, in ticks)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return fields[0], int(fields[11]) + int(fields[12])


def assert_keeps_running(pid, what="the target"):
    """pid is alive, neither stopped nor a zombie, and uses CPU (it is a busy target)."""
    state, ticks = process_state(pid)
    assert state in "RSD", "%s is in state %s after the recording" % (what, state)
    deadline = time.monotonic() + 10
    while process_state(pid)[1] == ticks:
        assert time.monotonic() < deadline, "%s uses no CPU any more" % what
        time.sleep(0.05)


def assert_one_error_line(result, *phrases):
    assert result.returncode != 0, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(ERROR_PREFIX), "want one error line:\n%r" % result
    assert "Traceback" not in result.stderr
    for phrase in phrases:
        assert phrase.lower() in lines[0].lower(), "%r not in %r" % (phrase, lines[0])


def summary_of(stderr):
    """(samples, windows, late, failed, torn) from loopscope's last line, or None."""
    found = SUMMARY.findall(stderr)
    return tuple(map(int, found[-1])) if found else None


# --- what a profile says ---

def new_weights():
    return dict.fromkeys(WEIGHTS, 0)


def add_weights(total, record):
    for name, value in zip(WEIGHTS, record[2:]):
        total[name] += value


class Recorded:
    """A profile (or a range / thread of it) added up as a user reads it:
    functions[name]: weights of the stacks that contain the function (each stack counted once);
    threads[native id]: totals; thread_functions[native id][name]: as functions, per thread;
    leaf_lines[(function, line)]: samples whose innermost frame is there; depth: the deepest stack."""

    def __init__(self, path, start_ns=None, end_ns=None, thread=None):
        self.path = path
        with Profile(path) as profile:
            self.meta = profile.meta
            self.windows = profile.windows()
            self.thread_rows = profile.threads()
            self.time_range = profile.time_range()
            data = profile.profile_dict(start_ns, end_ns, thread)
        strings, functions, frames, stacks = data["strings"], data["functions"], data["frames"], data["stacks"]
        self.functions = defaultdict(new_weights)
        self.threads = defaultdict(new_weights)
        self.thread_functions = defaultdict(lambda: defaultdict(new_weights))
        self.thread_names = {}
        self.leaf_lines = defaultdict(int)
        self.files = set()
        self.depth = 0
        for record in data["records"]:
            native_id, _, name_id = data["threads"][record[0]]
            self.thread_names[native_id] = strings[name_id]
            add_weights(self.threads[native_id], record)
            stack = stacks[record[1]]  # leaf first
            self.depth = max(self.depth, len(stack))
            names = set()
            for frame_id in stack:
                name_id, file_id, _ = functions[frames[frame_id][0]]
                names.add(strings[name_id])
                self.files.add(strings[file_id])
            for name in names:
                add_weights(self.functions[name], record)
                add_weights(self.thread_functions[native_id][name], record)
            if stack:
                function_id, line = frames[stack[0]]
                self.leaf_lines[(strings[functions[function_id][0]], line)] += record[2]
        self.total = new_weights()
        for weights in self.threads.values():
            for name in WEIGHTS:
                self.total[name] += weights[name]

    def samples(self, function):
        return self.functions[function]["samples"] if function in self.functions else 0

    def thread(self, native_id):
        assert native_id in self.threads, "thread %s not in %s: %s" % (native_id, self.path, self.thread_names)
        return self.threads[native_id]


def assert_windows_contiguous(windows):
    assert windows, "no windows"
    assert [w["index"] for w in windows] == list(range(len(windows))), "window indices have gaps"
    for before, after in zip(windows, windows[1:]):
        assert after["start_unix_ns"] == before["end_unix_ns"], "windows %d and %d are not contiguous" % (
            before["index"], after["index"])
    for w in windows:
        assert w["end_unix_ns"] > w["start_unix_ns"]


def assert_window_samples(windows, rate, window_s, min_share=0.5, late_share=0.35):
    """Each full window ticked rate x window times (ticks = samples + failed, plus the late ticks the
    sampler skipped: a window's `samples` are the good samples, `failed` the ticks that read nothing),
    most of them good samples."""
    ticks = rate * window_s
    full = windows[:-1] or windows
    for w in full:
        assert abs(w["end_unix_ns"] - w["start_unix_ns"] - window_s * 1e9) < 1e6, "window %d is not %ss long" % (
            w["index"], window_s)
        assert abs(w["samples"] + w["failed"] + w["late"] - ticks) <= max(2, 0.1 * ticks), (
            "window %d: %d samples + %d failed + %d late, want about %d ticks" % (
                w["index"], w["samples"], w["failed"], w["late"], ticks))
        assert w["samples"] >= min_share * ticks, "window %d: only %d good samples of %d ticks" % (
            w["index"], w["samples"], ticks)
    late = sum(w["late"] for w in full)
    assert late <= late_share * ticks * len(full), "%d late of %d ticks" % (late, ticks * len(full))


def read_json(path):
    with open(path) as f:
        return json.load(f)


def target_lines(path, *texts):
    """The line numbers of the lines of file `path` that contain any of `texts`."""
    with open(path) as f:
        return {number for number, line in enumerate(f, 1) if any(text in line for text in texts)}


def collapsed_functions(path):
    """{thread name: set of function names} of a collapsed-stacks export."""
    found = defaultdict(set)
    with open(path) as f:
        for line in f:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            assert count.isdigit(), line
            parts = stack.split(";")
            found[parts[0]].update(re.sub(r" \([^()]*\)$", "", part) for part in parts[1:])
    return found


def all_functions(per_thread):
    return set().union(*per_thread.values()) if per_thread else set()


# --- recordings started together ---

class Group:
    """Recordings that run at the same time: start(name, ...) for each, then get(name) waits for one."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.started = {}
        self.extra = {}

    def start(self, name, args, cwd=None, **extra):
        self.started[name] = loopscope(*args, cwd=cwd or self.workdir)
        self.extra[name] = extra

    def get(self, name):
        return self.started[name].wait()

    def path(self, *parts):
        return os.path.join(self.workdir, *parts)

    def kill(self):
        for process in self.started.values():
            process.kill()


@pytest.fixture(scope="module")
def rate_runs(tmp_path_factory):
    """--rate 50 and --rate 1000 on a sleeping target, together, before the busier groups start (the
    first test of this file uses them): a loaded machine makes a 1 kHz sampler late."""
    group = Group(str(tmp_path_factory.mktemp("rates")))
    for rate in (50, 1000):
        group.start("rate%d" % rate, ["run", "-q", "--rate", rate, "--window", "0.5", "--duration", "1.6",
                                      "-o", group.path("rate%d.lsp" % rate), "--", sys.executable, THREADS, "2"])
    yield group
    group.kill()


@pytest.fixture(scope="module")
def interpreter_runs(tmp_path_factory):
    """`loopscope run -- PYTHON record_split.py` under every installed interpreter, all at once."""
    group = Group(str(tmp_path_factory.mktemp("interpreters")))
    for name, python in supported_interpreters():
        if python:
            group.start(name, ["run", "-q", "--window", "0.5", "-o", group.path(name + ".lsp"), "--",
                               python, "-E", "-s", "-B", SPLIT, "--seconds", "1.5", "--exit", "3", "--sleeper",
                               "--truth", group.path(name + ".json")])
    yield group
    group.kill()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The option and accuracy recordings, all at once."""
    group = Group(str(tmp_path_factory.mktemp("runs")))
    p = group.path
    # the accuracy recording: --duration ends it and then stops the program with SIGTERM
    group.start("split", ["run", "--duration", "3", "--window", "0.5", "--rate", "100", "-o", p("split.lsp"), "--",
                          sys.executable, SPLIT, "--forever", "--sleeper", "--on-term", p("split.term"),
                          "--truth", p("split.json")])
    group.start("options", ["run", "--threads", "main", "--mode", "cpu", "--quiet", "--export", "pprof,pstats",
                            "-o", p("options.lsp"), SPLIT, "--seconds", "1.5", "--worker"])
    os.mkdir(p("exports"))
    group.start("export_dir", ["run", "-q", "--export", "speedscope,collapsed", "--export-dir", p("exports"),
                               "-o", p("export_dir.lsp"), SPLIT, "--seconds", "1"])
    os.mkdir(p("default"))
    group.start("default", ["run", SPLIT, "--seconds", "1", "--exit", "3", "--truth", "truth.json",
                            "alpha", "beta"], cwd=p("default"))
    group.start("signal", ["run", "-q", "-o", p("signal.lsp"), SPLIT, "--seconds", "0.5", "--kill-self",
                           int(signal.SIGUSR1)])
    group.start("phases", ["run", "-q", "--window", "0.25", "-o", p("phases.lsp"), PHASES, p("phases.lsp"), "2"])
    yield group
    group.kill()


# --- the rate (first: it wants a machine as quiet as it can get) ---

def test_rate_sets_the_samples_per_window(rate_runs):
    counts = {}
    for rate in (50, 1000):
        result = rate_runs.get("rate%d" % rate)
        assert result.returncode == 128 + signal.SIGTERM, "--duration stopped the program: %r" % result
        recorded = Recorded(rate_runs.path("rate%d.lsp" % rate))
        assert recorded.meta["rate_hz"] == rate
        print("--rate %d: windows (samples, late) %s"
              % (rate, [(w["samples"], w["late"]) for w in recorded.windows]))
        assert_windows_contiguous(recorded.windows)
        # a loaded machine delays a 1 kHz sampler (those ticks are counted late), so the share of
        # ticks sampled is only loosely bounded; the ticks themselves follow the rate exactly
        assert_window_samples(recorded.windows, rate, 0.5, min_share=0.3, late_share=0.7)
        full = recorded.windows[:-1]
        counts[rate] = sum(w["samples"] for w in full) / len(full)
    print("samples per window: %s" % counts)
    assert counts[1000] > 6 * counts[50], counts


# --- run: every interpreter ---

def test_run_records_each_interpreter(interpreter, interpreter_runs):
    """`loopscope run -- PYTHON app.py`: exit code, version, the CPU split, sleeping vs busy threads."""
    python = dict(supported_interpreters())[interpreter]
    require(python is not None, "CPython %s is not installed" % interpreter)
    result = interpreter_runs.get(interpreter)
    assert result.returncode == 3, result
    truth = read_json(interpreter_runs.path(interpreter + ".json"))
    recorded = Recorded(interpreter_runs.path(interpreter + ".lsp"))
    assert recorded.meta["python_version"].split(".")[:2] == truth["python_version"].split(".")[:2]
    assert recorded.meta["pid"] == truth["pid"]
    assert recorded.meta["command"][0] == python
    assert recorded.samples("heavy") > recorded.samples("light") > 0

    main = recorded.thread(truth["pid"])
    assert recorded.thread_names[truth["pid"]] == "MainThread"
    busy = recorded.functions["spin"]
    assert busy["gil"] >= 0.8 * busy["samples"], "main thread spinning: %s" % busy
    assert busy["on_cpu"] >= 0.8 * busy["samples"], "main thread spinning: %s" % busy
    sleeper = recorded.thread(truth["native_ids"]["sleeper"])
    # the program's own name for it (threading.Thread.name), not the OS's
    assert recorded.thread_names[truth["native_ids"]["sleeper"]] == "sleeper"
    assert sleeper["samples"] >= 0.5 * main["samples"]
    assert sleeper["wall_ns"] >= 0.5 * main["wall_ns"]
    assert sleeper["cpu_ns"] <= 0.05 * sleeper["wall_ns"], "a sleeping thread: %s" % sleeper
    assert sleeper["gil"] <= 0.1 * sleeper["samples"], "a sleeping thread: %s" % sleeper
    assert sleeper["on_cpu"] <= 0.3 * sleeper["samples"], "a sleeping thread: %s" % sleeper


def test_run_records_the_exact_python_version(interpreter, interpreter_runs):
    """The profile names the CPython that ran, micro version included. (`run` attaches while the
    interpreter starts; on 3.8 - 3.10 the version string it reads is written during startup.)"""
    python = dict(supported_interpreters())[interpreter]
    require(python is not None, "CPython %s is not installed" % interpreter)
    assert interpreter_runs.get(interpreter).returncode == 3
    truth = read_json(interpreter_runs.path(interpreter + ".json"))
    meta = Recorded(interpreter_runs.path(interpreter + ".lsp")).meta
    assert meta["python_version"] == truth["python_version"]
    major, minor, micro = map(int, truth["python_version"].split("."))
    assert meta["hexversion"] >> 8 == (major << 16 | minor << 8 | micro)


# --- run: the program's side ---

def test_run_script_with_this_interpreter_default_name_and_exit_code(runs):
    """`loopscope run app.py args`: this interpreter, the arguments passed, its exit code, and the
    profile under the default name in the working directory."""
    result = runs.get("default")
    assert result.returncode == 3, result
    truth = read_json(runs.path("default", "truth.json"))
    assert truth["argv"] == ["alpha", "beta"]
    assert truth["python_version"] == platform.python_version()
    names = [n for n in os.listdir(runs.path("default")) if n.endswith(".lsp")]
    assert len(names) == 1, os.listdir(runs.path("default"))
    match = re.fullmatch(r"loopscope-record_split-(\d+)-(\d{8}-\d{6})\.lsp", names[0])
    assert match, names[0]
    assert int(match.group(1)) == truth["pid"]
    stamp = calendar.timegm(time.strptime(match.group(2), "%Y%m%d-%H%M%S"))  # local time, read as UTC
    local_now = calendar.timegm(time.localtime())
    assert 0 <= local_now - stamp < 120, "the name's time %s is not about now" % match.group(2)
    assert names[0] in result.stderr, "the status names the file: %r" % result
    recorded = Recorded(runs.path("default", names[0]))
    assert recorded.meta["command"] == [sys.executable, SPLIT, "--seconds", "1", "--exit", "3",
                                        "--truth", "truth.json", "alpha", "beta"]
    assert recorded.meta["cwd"] == runs.path("default")
    assert recorded.samples("heavy") > 0
    assert summary_of(result.stderr), result


def test_run_returns_128_plus_signal_when_the_program_is_killed(runs):
    result = runs.get("signal")
    assert result.returncode == 128 + signal.SIGUSR1, result
    assert result.stderr == "", "--quiet: %r" % result
    assert Recorded(runs.path("signal.lsp")).total["samples"] > 0


def test_sigterm_to_run_reaches_the_program_and_the_last_window_is_written(spawn, tmp_path):
    profile, term_file, truth = (str(tmp_path / name) for name in ("p.lsp", "term.txt", "truth.json"))
    process = spawn(loopscope_command("run", "--window", "0.5", "-o", profile, SPLIT, "--forever",
                                      "--on-term", term_file, "--truth", truth))
    wait_until(lambda: os.path.exists(profile), "the recording starts")
    time.sleep(1.3)
    sent_ns = time.time_ns()
    process.signal(signal.SIGTERM)
    result = process.wait()
    assert result.returncode == 42, "the program's own exit code after its handler: %r" % result
    with open(term_file) as f:
        assert "SIGTERM handled" in f.read()
    recorded = Recorded(profile)
    # the program ran after_sigterm() (0.3 CPU seconds) after the signal: it was recorded, so the
    # recording went on to the program's end and its last window was written
    assert recorded.samples("after_sigterm") > 0, "nothing recorded after the signal"
    assert_windows_contiguous(recorded.windows)
    end = recorded.meta["end_unix_ns"]
    assert recorded.windows[-1]["end_unix_ns"] > sent_ns
    assert 0 <= end - recorded.windows[-1]["end_unix_ns"] < 0.5e9
    assert summary_of(result.stderr)[1] == len(recorded.windows)


def test_sigint_to_run_reaches_the_program(spawn, tmp_path):
    """SIGINT sent to loopscope (not from a terminal) interrupts the program: KeyboardInterrupt ends
    it, loopscope returns 128 + SIGINT and closes the profile."""
    profile = str(tmp_path / "p.lsp")
    process = spawn(loopscope_command("run", "-q", "--window", "0.5", "-o", profile, SPLIT, "--forever"))
    wait_until(lambda: os.path.exists(profile), "the recording starts")
    time.sleep(1.0)
    process.signal(signal.SIGINT)
    result = process.wait()
    assert result.returncode == 128 + signal.SIGINT, result
    assert "KeyboardInterrupt" in result.stderr, "the program's traceback: %r" % result
    recorded = Recorded(profile)
    assert_windows_contiguous(recorded.windows)
    assert recorded.samples("heavy") > 0
    assert 0 <= recorded.meta["end_unix_ns"] - recorded.windows[-1]["end_unix_ns"] < 0.5e9


# --- what is recorded is right ---

def test_cpu_split_between_functions_matches_the_program(runs):
    """heavy() takes three times the CPU of light() by the program's own thread_time: the profile
    shows about that split, in samples and in CPU time, and heavy's loop is the hot spot."""
    result = runs.get("split")
    truth = read_json(runs.path("split.json"))
    recorded = Recorded(runs.path("split.lsp"))
    heavy, light = recorded.functions["heavy"], recorded.functions["light"]
    true_share = truth["light"] / (truth["heavy"] + truth["light"])
    sample_share = light["samples"] / (heavy["samples"] + light["samples"])
    cpu_share = light["cpu_ns"] / (heavy["cpu_ns"] + light["cpu_ns"])
    print("light's share: %.3f by the program, %.3f by samples, %.3f by CPU time (%d + %d samples)"
          % (true_share, sample_share, cpu_share, heavy["samples"], light["samples"]))
    assert abs(sample_share - true_share) < 0.1, result
    assert abs(cpu_share - true_share) < 0.1, result
    # the CPU time in the profile is the CPU time the program measured (the recording covered the
    # whole loop: it started before it and --duration stopped the program, ending the loop)
    measured = (truth["heavy"] + truth["light"]) * 1e9
    recorded_cpu = heavy["cpu_ns"] + light["cpu_ns"]
    assert 0.7 * measured < recorded_cpu < 1.3 * measured, (recorded_cpu, measured)

    # on top, in the main thread: heavy(), and the loop of spin() as the hottest line
    user_functions = {name: w["samples"] for name, w in recorded.thread_functions[truth["pid"]].items()
                      if name not in ("<module>", "main", "spin")}
    assert max(user_functions, key=user_functions.get) == "heavy", user_functions
    main_thread = Recorded(runs.path("split.lsp"), thread="MainThread")
    hottest = max(main_thread.leaf_lines, key=main_thread.leaf_lines.get)
    assert hottest[0] == "spin" and hottest[1] in target_lines(SPLIT, "while time.thread_time() - start", "pass"), (
        hottest)


def test_sleeping_thread_has_wall_time_but_no_cpu_and_no_gil(runs):
    runs.get("split")
    truth = read_json(runs.path("split.json"))
    recorded = Recorded(runs.path("split.lsp"))
    main, sleeper = recorded.thread(truth["pid"]), recorded.thread(truth["native_ids"]["sleeper"])
    loop = recorded.thread_functions[truth["pid"]]["spin"]  # the main loop, which the sleeper outlives
    print("main %s\nits loop %s\nsleeper %s" % (main, loop, sleeper))
    assert sleeper["samples"] >= 0.9 * loop["samples"]
    assert sleeper["wall_ns"] >= 0.9 * loop["wall_ns"]
    assert sleeper["cpu_ns"] <= 0.02 * main["cpu_ns"]
    assert sleeper["on_cpu"] <= 0.3 * sleeper["samples"]
    assert sleeper["gil"] <= 0.1 * sleeper["samples"]
    assert main["gil"] >= 0.85 * main["samples"], "a busy thread holds the GIL most of the time"
    assert main["on_cpu"] >= 0.85 * main["samples"]
    assert main["cpu_ns"] >= 0.1 * main["wall_ns"]  # even on a loaded machine it gets some CPU


def test_duration_and_windows(runs):
    """--duration 3 --window 0.5: six contiguous windows of about rate x window samples each; then
    the program is stopped with SIGTERM (its handler runs) and loopscope returns its exit code."""
    result = runs.get("split")
    assert result.returncode == 42, result
    assert os.path.exists(runs.path("split.term")), "the program got no SIGTERM after --duration"
    assert "stopping the program" in result.stderr
    recorded = Recorded(runs.path("split.lsp"))
    windows = recorded.windows
    print("windows (samples, late): %s" % [(w["samples"], w["late"]) for w in windows])
    assert 6 <= len(windows) <= 7, windows
    assert_windows_contiguous(windows)
    span = (windows[-1]["end_unix_ns"] - windows[0]["start_unix_ns"]) / 1e9
    assert 2.9 <= span <= 3.2, span
    assert_window_samples(windows, 100, 0.5)
    assert recorded.meta["rate_hz"] == 100 and recorded.meta["window_s"] == 0.5 and recorded.meta["mode"] == "wall"
    assert summary_of(result.stderr)[1] == len(windows)


# --- options ---

def test_threads_main_mode_cpu_quiet_and_exports_next_to_the_profile(runs):
    result = runs.get("options")
    assert result.returncode == 0, result
    assert result.stderr == "", "--quiet prints nothing: %r" % result.stderr
    recorded = Recorded(runs.path("options.lsp"))
    assert recorded.meta["mode"] == "cpu" and recorded.meta["threads"] == "main"
    assert [t["name"] for t in recorded.thread_rows] == ["MainThread"]
    assert "worker_spin" not in recorded.functions and recorded.samples("heavy") > 0
    with gzip.open(runs.path("options.pb.gz")) as f:
        assert len(f.read()) > 0
    stats = pstats.Stats(runs.path("options.pstats")).stats
    names = {name for _, _, name in stats}
    assert "heavy" in names and "worker_spin" not in names, names


def test_export_and_export_dir(runs):
    result = runs.get("export_dir")
    assert result.returncode == 0, result
    assert sorted(os.listdir(runs.path("exports"))) == ["export_dir.collapsed.txt", "export_dir.speedscope.json"]
    with open(runs.path("exports", "export_dir.speedscope.json")) as f:
        speedscope = json.load(f)
    assert "heavy" in [frame["name"] for frame in speedscope["shared"]["frames"]]
    assert "heavy" in all_functions(collapsed_functions(runs.path("exports", "export_dir.collapsed.txt")))


BAD_OPTIONS = {
    "rate 0": (["--rate", "0"], "--rate"),
    "rate 20000": (["--rate", "20000"], "--rate"),
    "unknown export": (["--export", "pprof,bogus"], "bogus"),
    "window 0": (["--window", "0"], "--window"),
    "duration 0": (["--duration", "0"], "--duration"),
}


@pytest.mark.parametrize("case", list(BAD_OPTIONS) + ["existing output"])
def test_bad_options_exit_2_before_starting_anything(case, tmp_path):
    started = tmp_path / "started.json"
    existing = tmp_path / "existing.lsp"
    existing.write_text("keep me")
    options, phrase = BAD_OPTIONS.get(case, (["-o", str(existing)], "exists"))
    result = run_loopscope("run", *options, SPLIT, "--seconds", "0", "--truth", started, timeout=TIMEOUT_S)
    assert result.returncode == 2, result
    assert_one_error_line(result, phrase)
    assert not started.exists(), "the program ran although the options are wrong"
    assert existing.read_text() == "keep me"


def test_bad_options_of_attach_exit_2(tmp_path):
    result = run_loopscope("attach", os.getpid(), "--rate", "0", "-o", tmp_path / "x.lsp", timeout=TIMEOUT_S)
    assert result.returncode == 2
    assert_one_error_line(result, "--rate")
    assert not (tmp_path / "x.lsp").exists()


# --- attach ---

@pytest.fixture
def busy_target(spawn, tmp_path):
    """record_split.py running until SIGTERM (then it exits 42), once its main loop has started."""
    ready = tmp_path / "ready"
    target = spawn([sys.executable, SPLIT, "--forever", "--sleeper", "--on-term", tmp_path / "term",
                    "--ready", ready])
    wait_until(ready.exists, "the target is ready")
    return target


def assert_target_unharmed(target, tmp_path):
    """Still running and using CPU; and its SIGTERM handler still works (it exits with 42)."""
    assert target.alive(), "the target ended: %r" % target.wait()
    assert_keeps_running(target.pid)
    target.signal(signal.SIGTERM)
    assert target.wait(timeout=30).returncode == 42
    assert (tmp_path / "term").exists()


def test_attach_duration_leaves_the_target_running(busy_target, tmp_path):
    profile = tmp_path / "attach.lsp"
    result = run_loopscope("attach", busy_target.pid, "--duration", "3", "--window", "0.5", "-o", profile,
                           timeout=TIMEOUT_S)
    assert result.returncode == 0, result
    recorded = Recorded(str(profile))
    print("windows (samples, late): %s" % [(w["samples"], w["late"]) for w in recorded.windows])
    assert 6 <= len(recorded.windows) <= 7
    assert_windows_contiguous(recorded.windows)
    assert_window_samples(recorded.windows, 100, 0.5)
    assert recorded.samples("heavy") > recorded.samples("light") > 0
    assert recorded.meta["command"][:2] == [sys.executable, SPLIT]
    assert_target_unharmed(busy_target, tmp_path)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_ends_attach_cleanly_with_every_window(busy_target, spawn, tmp_path, signum):
    profile = str(tmp_path / "attach.lsp")
    process = spawn(loopscope_command("attach", busy_target.pid, "--window", "0.5", "-o", profile))
    wait_until(lambda: os.path.exists(profile), "the recording starts")
    time.sleep(1.6)
    process.signal(signum)
    result = process.wait()
    assert result.returncode == 0, result
    samples, windows, late, failed, torn = summary_of(result.stderr)
    recorded = Recorded(profile)
    assert len(recorded.windows) == windows >= 3
    assert_windows_contiguous(recorded.windows)
    assert sum(w["samples"] for w in recorded.windows) == samples
    start, end = recorded.time_range
    assert end == recorded.meta["end_unix_ns"], "the recording was closed"
    assert 0 <= recorded.windows[0]["start_unix_ns"] - start < 0.5e9
    assert 0 <= end - recorded.windows[-1]["end_unix_ns"] < 0.3e9, "the last window was written"
    assert_target_unharmed(busy_target, tmp_path)


# --- export ---

def export(profile, *args, **kwargs):
    return run_loopscope("export", profile, *args, timeout=TIMEOUT_S, **kwargs)


@pytest.fixture(scope="module")
def phases(runs):
    """(profile path, marker) of record_phases.py: fast() for 2 s, then slow() for 2 s."""
    result = runs.get("phases")
    assert result.returncode == 0, result
    marker = json.loads(result.stdout.strip().splitlines()[-1])
    return runs.path("phases.lsp"), marker


def exported_functions(profile, tmp_path, *args):
    output = str(tmp_path / ("export-%d.txt" % len(os.listdir(str(tmp_path)))))
    result = export(profile, "--format", "collapsed", "-o", output, *args)
    assert result.returncode == 0, result
    assert result.stderr.strip() == "loopscope: wrote %s" % output
    return collapsed_functions(output)


def test_export_time_range_in_seconds_from_the_start(phases, tmp_path):
    profile, marker = phases
    start_ns = Profile(profile).meta["start_unix_ns"]
    switch_s = (marker["switch_ns"] - start_ns) / 1e9
    print("fast from %.3fs, slow from %.3fs to %.3fs" % ((marker["fast_ns"] - start_ns) / 1e9, switch_s,
                                                         (marker["end_ns"] - start_ns) / 1e9))
    everything = all_functions(exported_functions(profile, tmp_path))
    assert {"fast", "slow", "helper_wait"} <= everything
    # offsets half a second inside each phase (windows are 0.25 s; a range takes whole windows)
    before = all_functions(exported_functions(profile, tmp_path, "--to", "%.3f" % (switch_s - 0.5)))
    assert "fast" in before and "slow" not in before, before
    after = all_functions(exported_functions(profile, tmp_path, "--from", "%.3fs" % (switch_s + 0.5)))
    assert "slow" in after and "fast" not in after, after
    # the literal forms of the issue, when the phases line up with them (the program started its
    # first phase within 0.25 s of the recording: it usually does)
    if 1.75 <= switch_s <= 2.2:
        assert "slow" not in all_functions(exported_functions(profile, tmp_path, "--to", "1.5"))
        assert "fast" not in all_functions(exported_functions(profile, tmp_path, "--from", "2.5"))


def local_clock(unix_s):
    return datetime.datetime.fromtimestamp(unix_s).strftime("%H:%M:%S")


def test_export_time_range_by_wall_clock(phases, tmp_path):
    profile, marker = phases
    switch_s = marker["switch_ns"] / 1e9
    # whole seconds 0.3 to 1.3 s inside each phase (each lasts 2 s)
    to_clock, from_clock = local_clock(int(switch_s - 0.3)), local_clock(int(switch_s + 1.3))
    before = all_functions(exported_functions(profile, tmp_path, "--to", to_clock))
    assert "fast" in before and "slow" not in before, (to_clock, before)
    after = all_functions(exported_functions(profile, tmp_path, "--from", from_clock))
    assert "slow" in after and "fast" not in after, (from_clock, after)


def test_export_one_thread(phases, tmp_path):
    profile, marker = phases
    main_only = exported_functions(profile, tmp_path, "--thread", "MainThread")
    assert list(main_only) == ["MainThread"]
    assert {"fast", "slow"} <= main_only["MainThread"] and "helper_wait" not in main_only["MainThread"]
    helper = exported_functions(profile, tmp_path, "--thread", str(marker["helper_native_id"]))
    assert len(helper) == 1
    functions = all_functions(helper)
    assert "helper_wait" in functions and "fast" not in functions and "slow" not in functions
    result = export(profile, "--format", "collapsed", "-o", tmp_path / "none.txt", "--thread", "NoSuchThread")
    assert_one_error_line(result, "NoSuchThread")


@pytest.mark.parametrize("fmt", ["callgrind", "pprof", "speedscope", "pstats"])
def test_export_formats_default_output_name(phases, tmp_path, fmt):
    profile, _ = phases
    copy = str(tmp_path / "copy.lsp")
    shutil.copy(profile, copy)
    result = export(copy, "--format", fmt)
    assert result.returncode == 0, result
    written = result.stderr.strip().rpartition(" ")[2]
    assert os.path.dirname(written) == str(tmp_path) and os.path.getsize(written) > 0, result


def test_export_of_damaged_or_foreign_files_fails_clearly(phases, tmp_path):
    profile, _ = phases
    size = os.path.getsize(profile)
    text = tmp_path / "notes.lsp"
    text.write_text("this is not a profile\n")
    truncated = tmp_path / "truncated.lsp"
    shutil.copy(profile, str(truncated))
    with open(str(truncated), "r+b") as f:
        f.truncate(size // 3)
    scrambled = tmp_path / "scrambled.lsp"
    shutil.copy(profile, str(scrambled))
    with open(str(scrambled), "r+b") as f:
        f.seek(100)  # past SQLite's magic: the header's fields and every page
        f.write(bytes((i * 7919) & 0xFF for i in range(size - 200)))
    for path, phrase in [(text, "not a loopscope profile"), (truncated, "damaged"), (scrambled, "damaged"),
                         (tmp_path / "missing.lsp", "does not exist")]:
        result = export(path, "--format", "collapsed", "-o", tmp_path / "out.txt")
        assert_one_error_line(result, phrase, str(path))
    assert not (tmp_path / "out.txt").exists()


def test_export_bad_time_fails_clearly(phases, tmp_path):
    profile, _ = phases
    result = export(profile, "--format", "collapsed", "--from", "yesterday", "-o", tmp_path / "out.txt")
    assert result.returncode == 2
    assert_one_error_line(result, "yesterday")
