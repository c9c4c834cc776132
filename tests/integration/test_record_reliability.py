# Continuous recording when the target does something awkward or the profiler itself is killed: a
# target that exits in the middle of 1 kHz sampling, one that execs another program or forks, 1,000
# threads, threads that start and end all the time, a 10,000-deep stack, a SIGKILL of loopscope,
# and a process that is not Python. Each asserts what happens (none may crash loopscope or the target,
# and every profile stays readable); every subprocess call has a timeout, and everything a test
# starts is killed at its end. The helpers come from test_record.py.
import json
import os
import signal
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_record import (SPLIT, TARGETS_DIR, THREADS, TIMEOUT_S, Recorded, assert_keeps_running,  # noqa: E402
                         assert_one_error_line, assert_windows_contiguous, loopscope, require,
                         run_loopscope, spawn, summary_of, supported_interpreters, wait_until)
from support import loopscope_command  # noqa: E402

from loopscope.storage import Profile  # noqa: E402

CHURN = os.path.join(TARGETS_DIR, "record_churn.py")
EXEC = os.path.join(TARGETS_DIR, "record_exec.py")
FORK = os.path.join(TARGETS_DIR, "record_fork.py")
RECURSION = os.path.join(TARGETS_DIR, "record_recursion.py")
RENAME = os.path.join(TARGETS_DIR, "record_rename.py")
DEPTH = 10000

__all__ = ["spawn"]  # a fixture, used by name


def started_target(spawn, tmp_path, command):
    """A target that prints "ready" once set up, started with spawn; waits for the line."""
    out_path = str(tmp_path / ("target-%d.out" % len(os.listdir(str(tmp_path)))))
    out = open(out_path, "w")
    try:
        target = spawn(command, stdout=out)
    finally:
        out.close()

    def ready():
        if not target.alive():
            pytest.fail("the target exited: %r" % target.wait())
        with open(out_path) as f:
            return "ready" in f.read()

    wait_until(ready, "the target is ready", timeout=60)
    return target


def attach_for(pid, profile, *options, duration=2):
    """`loopscope attach PID --duration D -o PROFILE`; the CompletedProcess and its wall time."""
    start = time.monotonic()
    result = run_loopscope("attach", pid, "--duration", duration, "-o", profile, *options, timeout=TIMEOUT_S)
    return result, time.monotonic() - start


def python_files_only(recorded, own_file):
    """Every file the profile names is the target's, the standard library's or a frozen module's:
    no garbage read from memory that was not what loopscope took it for. ("<loopscope>" holds the
    root loopscope puts under a stack it read only in part.)"""
    for path in recorded.files:
        assert path == own_file or path.startswith("<frozen") or "/python3." in path or path in ("<string>", "", "<loopscope>"), (
            "a frame names file %r" % path)


def test_target_exits_in_the_middle_of_1khz_sampling(tmp_path):
    """A program that ends (an exit code, or SIGKILL) while sampled 1,000 times a second: loopscope
    returns the program's code, and the profile is readable and has the samples up to the end."""
    cases = {"exit": (["--exit", "5"], 5), "sigkill": (["--kill-self", "9"], 128 + 9)}
    started = {}
    try:
        for name, (args, _) in cases.items():
            started[name] = loopscope("run", "--rate", "1000", "--window", "0.5", "-o", tmp_path / (name + ".lsp"),
                                      "--", sys.executable, SPLIT, "--seconds", "1", "--sleeper", "--worker", *args)
        for name, (_, code) in cases.items():
            result = started[name].wait()
            assert result.returncode == code, result
            samples, windows, late, failed, torn = summary_of(result.stderr)
            print("%s: %d samples, %d late, %d failed, %d torn" % (name, samples, late, failed, torn))
            recorded = Recorded(str(tmp_path / (name + ".lsp")))
            assert_windows_contiguous(recorded.windows)
            assert len(recorded.windows) == windows
            assert recorded.samples("heavy") > 0 and recorded.samples("worker_spin") > 0
            assert samples >= 300, "a second at 1 kHz"
            assert "end_unix_ns" in recorded.meta
    finally:
        for process in started.values():
            process.kill()


def test_target_execs_another_program(tmp_path):
    """The target replaces itself (execv, same pid) with `sleep` or with a new Python. What happens:
    the recording goes on until the process ends and loopscope returns the new program's exit code;
    samples after the exec fail (counted as failed: the new program is not recorded, and nothing
    read from its memory is taken for Python frames); the profile holds the program before the exec."""
    cases = {"sleep": 0, "python": 4}
    started = {}
    try:
        for name in cases:
            started[name] = loopscope("run", "--window", "0.5", "-o", tmp_path / (name + ".lsp"), EXEC, name)
        for name, code in cases.items():
            result = started[name].wait()
            assert result.returncode == code, result
            exec_ns = int(result.stdout.split()[0])
            samples, windows, late, failed, torn = summary_of(result.stderr)
            print("exec to %s: %d samples, %d failed, %d windows" % (name, samples, failed, windows))
            recorded = Recorded(str(tmp_path / (name + ".lsp")))
            assert_windows_contiguous(recorded.windows)
            assert recorded.samples("before_exec") > 0
            assert "after_exec" not in recorded.functions
            python_files_only(recorded, EXEC)
            after = [w for w in recorded.windows if w["start_unix_ns"] > exec_ns + 0.1e9]
            assert after, "the recording ended at the exec (%s)" % recorded.windows
            # after the exec every tick failed: no good samples, only failed ticks
            assert all(w["samples"] == 0 and w["failed"] > 0 for w in after), after
            assert recorded.windows[-1]["end_unix_ns"] > exec_ns + 0.8e9, "recorded until the new program ended"
    finally:
        for process in started.values():
            process.kill()


def test_thousand_threads(spawn, tmp_path):
    target = started_target(spawn, tmp_path, [sys.executable, THREADS, "1000"])
    start = time.monotonic()
    dump = run_loopscope("dump", "--json", target.pid, timeout=TIMEOUT_S)
    dump_s = time.monotonic() - start
    assert dump.returncode == 0, dump.stderr
    threads = json.loads(dump.stdout)["threads"]
    assert len(threads) == 1001
    assert sum(1 for t in threads if any(f["function"] == "blocked_worker" for f in t["frames"])) == 1000
    assert {t["python_name"] for t in threads} == {"blocked-%d" % i for i in range(1000)} | {None}

    profile = str(tmp_path / "threads.lsp")
    result, attach_s = attach_for(target.pid, profile, "--window", "1", duration=2)
    assert result.returncode == 0, result
    samples, windows, late, failed, torn = summary_of(result.stderr)
    recorded = Recorded(profile)
    print("1,001 threads: `dump` %.1fs; recording 2 s at 100 Hz: %d samples (%.1f/s achieved), %d late, "
          "%d failed, %d torn; attach took %.1fs" % (dump_s, samples, samples / 2.0, late, failed, torn, attach_s))
    assert samples >= 2 and failed == 0
    assert len(recorded.thread_rows) == 1001, "every thread is recorded"
    assert {t["name"] for t in recorded.thread_rows} == {"blocked-%d" % i for i in range(1000)} | {"MainThread"}
    assert recorded.functions["blocked_worker"]["samples"] >= 1000 * samples * 0.99
    assert target.alive()


def test_threads_starting_and_ending_at_1khz(tmp_path):
    profile = str(tmp_path / "churn.lsp")
    process = loopscope("run", "--rate", "1000", "--window", "0.5", "-o", profile, "--", sys.executable, CHURN, "3")
    try:
        result = process.wait()
    finally:
        process.kill()
    assert result.returncode == 0, result
    created = int(result.stdout.split("created ")[1].split()[0])
    samples, windows, late, failed, torn = summary_of(result.stderr)
    recorded = Recorded(profile)
    thread_samples = recorded.total["samples"]
    print("%d threads created; %d samples, %d late, %d failed; %d of %d thread samples torn (%.3f%%); "
          "%d threads in the profile" % (created, samples, late, failed, torn, thread_samples,
                                         100.0 * torn / max(1, thread_samples + torn), len(recorded.thread_rows)))
    assert created > 100
    assert samples >= 1000, "3 s at 1 kHz"
    assert torn <= 0.03 * (thread_samples + torn)
    assert_windows_contiguous(recorded.windows)
    assert len(recorded.thread_rows) > 10, "short-lived threads were seen"
    assert recorded.samples("short_lived") > 0 and recorded.samples("spawner") > 0
    python_files_only(recorded, CHURN)
    export = run_loopscope("export", profile, "--format", "speedscope", "-o", tmp_path / "churn.json",
                           timeout=TIMEOUT_S)
    assert export.returncode == 0, export.stderr


def recursion_interpreters():
    """3.8 (frames on the heap), 3.11 (the first frames in data stacks), 3.13 (debug offsets)."""
    wanted = ("3.8", "3.11", "3.13")
    return [name for name, _ in supported_interpreters() if name in wanted]


@pytest.mark.parametrize("interpreter", recursion_interpreters())
def test_ten_thousand_deep_recursion(spawn, tmp_path, interpreter):
    python = dict(supported_interpreters())[interpreter]
    require(python is not None, "CPython %s is not installed" % interpreter)
    target = started_target(spawn, tmp_path, [python, RECURSION, DEPTH])
    dump = run_loopscope("dump", "--json", target.pid, timeout=TIMEOUT_S)
    assert dump.returncode == 0, dump.stderr
    deep = max(json.loads(dump.stdout)["threads"], key=lambda t: len(t["frames"]))
    if interpreter in ("3.8", "3.9", "3.10"):
        assert len(deep["frames"]) >= DEPTH or deep["truncated"], "a short stack must be flagged truncated"
    else:
        assert len(deep["frames"]) >= DEPTH and not deep["truncated"]
    if not deep["truncated"]:
        assert [f["function"] for f in deep["frames"]].count("descend") == DEPTH
        assert deep["frames"][-1]["function"] == "bottom"

    profile = str(tmp_path / "deep.lsp")
    result, attach_s = attach_for(target.pid, profile)
    assert result.returncode == 0, result
    samples, windows, late, failed, torn = summary_of(result.stderr)
    recorded = Recorded(profile)
    print("%s, %d frames deep: %d samples in 2 s (%.0f/s), %d late, %d torn; attach took %.1fs"
          % (interpreter, recorded.depth, samples, samples / 2.0, late, torn, attach_s))
    assert samples >= 4
    assert recorded.depth >= DEPTH if not deep["truncated"] else recorded.depth > 0
    assert recorded.samples("bottom") > 0
    assert target.alive()


def test_a_stack_deeper_than_the_limit_is_kept_under_a_partial_stack_root(spawn, tmp_path):
    """A stack deeper than the engine walks (16,384 frames) is recorded as its innermost 16,384
    frames under one "<partial stack>" root (file "<loopscope>"), never as if it were whole, and no
    whole stack gets that root. On the newest interpreter of 3.11+ (Python calls there take no C
    stack, so 20,000 levels are cheap)."""
    newest = [(name, path) for name, path in supported_interpreters()
              if path and name.startswith("3.") and int(name.split(".")[1]) >= 11]
    require(newest, "no CPython 3.11 or later is installed")
    target = started_target(spawn, tmp_path, [newest[-1][1], RECURSION, "20000"])
    profile = str(tmp_path / "deeper.lsp")
    result, _ = attach_for(target.pid, profile, "--rate", "50")
    assert result.returncode == 0, result
    with Profile(profile) as recorded:
        data = recorded.profile_dict(None, None, None)
    strings, functions, frames, stacks = data["strings"], data["functions"], data["frames"], data["stacks"]

    def name_and_file(frame_id):
        name_id, file_id, _ = functions[frames[frame_id][0]]
        return strings[name_id], strings[file_id]

    deep = whole = 0
    for record in data["records"]:
        stack = [name_and_file(frame_id) for frame_id in stacks[record[1]]]  # leaf first
        if any(name == "descend" for name, _ in stack):
            deep += record[2]
            assert stack[-1] == ("<partial stack>", "<loopscope>"), stack[-3:]
            assert stack[0][0] == "bottom" and len(stack) == 16384 + 1
            assert [name for name, _ in stack[1:-1]] == ["descend"] * 16383
        else:
            whole += record[2]
            assert all(name != "<partial stack>" for name, _ in stack), stack
    assert deep >= 50, "2 s at 50 Hz of the deep thread"
    assert whole > 0, "the main thread (in join) is whole"
    assert target.alive()


def test_a_thread_renamed_while_recorded_gets_its_new_name(spawn, tmp_path):
    """A thread the program renames (t.name = ...) after loopscope has named it is shown by its new
    name: the name is read again about once a second."""
    target = started_target(spawn, tmp_path, [sys.executable, RENAME])
    profile = str(tmp_path / "rename.lsp")
    recording = spawn(loopscope_command("attach", target.pid, "--duration", "4", "--rate", "100", "-o", profile))
    wait_until(lambda: os.path.exists(profile), "the recording starts")

    def names():
        try:
            with Profile(profile) as recorded:
                return {row["name"] for row in recorded.threads()}
        except Exception:
            return set()  # not written yet

    wait_until(lambda: "first-name" in names(), "the thread is named as the program first named it", timeout=20)
    target.signal(signal.SIGUSR1)
    assert recording.wait().returncode == 0
    final = names()
    assert "second-name" in final and "first-name" not in final, final


def test_sigkill_of_loopscope_keeps_the_closed_windows(spawn, tmp_path):
    ready = tmp_path / "ready"
    target = spawn([sys.executable, SPLIT, "--forever", "--on-term", tmp_path / "term", "--ready", ready])
    wait_until(ready.exists, "the target is ready")
    profile = str(tmp_path / "killed.lsp")
    process = spawn(loopscope_command("attach", target.pid, "--duration", "60", "--window", "0.5", "-o", profile))
    wait_until(lambda: os.path.exists(profile), "the recording starts")
    time.sleep(2.5)
    killed_ns = time.time_ns()
    process.signal(signal.SIGKILL)
    assert process.wait().returncode == -signal.SIGKILL

    recorded = Recorded(profile)
    windows = recorded.windows
    print("windows after the kill: %s" % [(w["index"], w["samples"]) for w in windows])
    assert "end_unix_ns" not in recorded.meta, "the writer was killed: the file was never closed"
    assert recorded.time_range[1] == windows[-1]["end_unix_ns"]
    assert_windows_contiguous(windows)
    # windows close every 0.5 s and are written within 0.2 s: all but the last one or two are in
    assert windows[-1]["end_unix_ns"] >= killed_ns - 1.2e9, (windows[-1]["end_unix_ns"] - killed_ns) / 1e9
    assert len(windows) >= 3
    assert recorded.samples("heavy") > 0
    exported = run_loopscope("export", profile, "--format", "pprof", "-o", tmp_path / "killed.pb.gz",
                             timeout=TIMEOUT_S)
    assert exported.returncode == 0, exported.stderr
    assert_keeps_running(target.pid)


def test_attach_to_a_process_that_is_not_python(spawn, tmp_path):
    sleeper = spawn(["sleep", "60"])
    wait_until(lambda: os.path.exists("/proc/%d/exe" % sleeper.pid) and os.readlink(
        "/proc/%d/exe" % sleeper.pid).endswith("sleep"), "sleep runs")
    profile = tmp_path / "sleep.lsp"
    result = run_loopscope("attach", sleeper.pid, "--duration", "1", "-o", profile, timeout=TIMEOUT_S)
    assert result.returncode == 5, result
    assert_one_error_line(result, "not a Python process", str(sleeper.pid))
    assert not profile.exists()
    assert sleeper.alive()


def test_target_forks(tmp_path):
    """The target forks while recorded: the parent goes on being recorded (the child is another
    process: it is not)."""
    profile = str(tmp_path / "fork.lsp")
    process = loopscope("run", "--window", "0.5", "-o", profile, FORK)
    try:
        result = process.wait()
    finally:
        process.kill()
    assert result.returncode == 0, result
    fork_ns = int(result.stdout.split()[0])
    recorded = Recorded(profile)
    assert_windows_contiguous(recorded.windows)
    assert recorded.samples("before_fork") > 0
    assert "child_work" not in recorded.functions
    after = Recorded(profile, start_ns=fork_ns + int(0.6e9))
    assert after.samples("after_fork") > 0 and "before_fork" not in after.functions
    later = [w for w in recorded.windows if w["start_unix_ns"] > fork_ns][:-1]
    assert later, recorded.windows
    for w in later:
        assert w["samples"] - w["failed"] >= 25, "samples go on after the fork: %s" % later
