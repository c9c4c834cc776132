# The errors of `loopscope dump`, on real processes: a missing pid, a process that is not Python, an
# unsupported CPython, a process the user may not read, and one that has exited (a zombie). Each must
# exit non-zero with exactly one line on stderr, `loopscope: error: ...` with the documented phrase,
# and print nothing on stdout, with and without --json.
import contextlib
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from support import (PYENV_ROOT, loopscope_command, require, run_loopscope,  # noqa: E402
                     supported_interpreters)

ERROR_PREFIX = "loopscope: error:"
UNPRIVILEGED_UID = 65534  # nobody
READY_SCRIPT = "import sys, time\nsys.stdout.write('ready\\n')\nsys.stdout.flush()\ntime.sleep(120)\n"


@pytest.fixture(params=["text", "json"])
def output_flags(request):
    return ["--json"] if request.param == "json" else []


def assert_error(result, *phrases):
    """result failed with one `loopscope: error:` line on stderr containing every phrase."""
    assert result.returncode != 0, "exited 0; stdout:\n%s" % result.stdout
    assert result.stdout == "", "errors go to stderr only; stdout:\n%s" % result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, "expected one line on stderr, got:\n%s" % result.stderr
    message = lines[0]
    assert message.startswith(ERROR_PREFIX), message
    for phrase in phrases:
        assert phrase.lower() in message.lower(), "%r not in %r" % (phrase, message)


def process_state(pid):
    """The one-letter state in /proc/PID/stat (after the parenthesized command name)."""
    with open("/proc/%d/stat" % pid) as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]


def wait_until(condition, what, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting until " + what)
        time.sleep(0.01)


@contextlib.contextmanager
def running(argv, ready_line=False):
    """A child process for the duration of the block; killed and reaped afterwards. With
    ready_line, waits until the child prints a line (a Python target that has started)."""
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        if ready_line:
            assert process.stdout.readline() == b"ready\n", "%s did not start" % argv
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 9)
        process.wait()
        process.stdout.close()


def free_pid():
    """A pid that no process or thread has now (searched down from the top of the pid range)."""
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = int(f.read())
    for pid in range(pid_max - 1, 300, -1):
        if not os.path.exists("/proc/%d" % pid):
            return pid
    pytest.fail("no free pid")


def a_supported_python():
    for _, path in supported_interpreters():
        if path:
            return path
    require(False, "no supported CPython (3.8 - 3.13) is installed")


def test_no_such_process(output_flags):
    result = run_loopscope("dump", free_pid(), *output_flags)
    assert_error(result, "no process with pid")


def test_not_a_python_process(output_flags):
    sleep = shutil.which("sleep")
    require(sleep is not None, "no `sleep` executable")
    with running([sleep, "60"]) as process:
        wait_until(lambda: os.path.basename(os.path.realpath("/proc/%d/exe" % process.pid))
                   == os.path.basename(os.path.realpath(sleep)), "sleep has been exec'd")
        result = run_loopscope("dump", process.pid, *output_flags)
    assert_error(result, "not a python process")


def test_unsupported_cpython(output_flags):
    pattern = os.path.join(PYENV_ROOT, "versions", "3.7.*", "bin", "python3.7")
    pythons = sorted(glob.glob(pattern))
    require(bool(pythons), "CPython 3.7 is not installed (%s)" % pattern)
    with running([pythons[-1], "-c", READY_SCRIPT], ready_line=True) as process:
        result = run_loopscope("dump", process.pid, *output_flags)
    assert_error(result, "unsupported", "3.7")


def test_process_exited(output_flags):
    # a zombie: the child has exited and is not reaped until `running` ends
    with running([a_supported_python(), "-c", "pass"]) as process:
        wait_until(lambda: process_state(process.pid) == "Z", "the child is a zombie")
        result = run_loopscope("dump", process.pid, *output_flags)
        assert process_state(process.pid) == "Z"
    assert_error(result, "exited")


def run_unprivileged(argv, env=None):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, encoding="utf-8",
                          user=UNPRIVILEGED_UID, group=UNPRIVILEGED_UID, extra_groups=[],
                          cwd="/", env=env, timeout=60)


def installed_package_modules():
    """[(module name, file)] for the installed loopscope package, its submodules and any top-level
    loopscope extension, as the test interpreter finds them (without running any of them)."""
    probe = ("import importlib.util, pkgutil, loopscope\n"
             "names = ['loopscope']\n"
             "names += [m.name for m in pkgutil.walk_packages(loopscope.__path__, 'loopscope.')]\n"
             "names += [m.name for m in pkgutil.iter_modules()\n"
             "          if m.name.lstrip('_').startswith('loopscope') and m.name != 'loopscope']\n"
             "for name in names:\n"
             "    spec = importlib.util.find_spec(name)\n"
             "    if spec is not None and spec.has_location:\n"
             "        print(name, spec.origin)\n")
    result = subprocess.run([sys.executable, "-c", probe], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, encoding="utf-8", timeout=60)
    assert result.returncode == 0, "cannot import loopscope:\n" + result.stderr
    return [line.split(" ", 1) for line in result.stdout.splitlines() if " " in line]


def copy_package_for(tree, modules):
    """Copy the loopscope package (whole package directories, with their data files, then each
    module file where it belongs) into `tree`, readable by everyone, so that a user who cannot
    read the test venv (e.g. one under /root) can import the same code."""
    for name, path in modules:
        parts = name.split(".")
        if os.path.basename(path).startswith("__init__."):
            shutil.copytree(os.path.dirname(path), os.path.join(tree, *parts), dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__"))
    for name, path in modules:
        parts = name.split(".")
        if not os.path.basename(path).startswith("__init__."):
            destination = os.path.join(tree, *(parts[:-1] + [os.path.basename(path)]))
            os.makedirs(os.path.dirname(destination), exist_ok=True)
            shutil.copy2(path, destination)
    for directory, _, files in os.walk(tree):
        os.chmod(directory, 0o755)
        for name in files:
            os.chmod(os.path.join(directory, name), 0o644)


@contextlib.contextmanager
def unprivileged_loopscope():
    """A command prefix that runs `python -m loopscope` as the unprivileged user, and its env.
    The test venv's interpreter may sit where that user cannot go (pyenv under /root, mode 700);
    then the package is copied to a world-readable directory and run by a system interpreter of
    the same minor version (its extension is built for that ABI)."""
    try:
        usable = run_unprivileged([sys.executable, "-c", "import loopscope"]).returncode == 0
    except OSError:  # cannot even execute it
        usable = False
    if usable:
        yield loopscope_command(), None
        return
    system_python = "/usr/bin/python%d.%d" % sys.version_info[:2]
    require(os.access(system_python, os.X_OK),
            "user %d cannot run %s and there is no %s to run a copy of loopscope with"
            % (UNPRIVILEGED_UID, sys.executable, system_python))
    tree = tempfile.mkdtemp(prefix="loopscope-unprivileged-")
    try:
        os.chmod(tree, 0o755)
        copy_package_for(tree, installed_package_modules())
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": tree, "LANG": "C.UTF-8"}
        check = run_unprivileged([system_python, "-c", "import loopscope"], env=env)
        require(check.returncode == 0, "user %d cannot import a copy of loopscope with %s:\n%s"
                % (UNPRIVILEGED_UID, system_python, check.stderr))
        yield [system_python, "-m", "loopscope"], env
    finally:
        shutil.rmtree(tree, ignore_errors=True)


def test_permission_denied(output_flags):
    require(os.geteuid() == 0, "needs root, to run a root-owned target and switch to user %d"
            % UNPRIVILEGED_UID)
    with unprivileged_loopscope() as (command, env):
        with running([a_supported_python(), "-c", READY_SCRIPT], ready_line=True) as process:
            assert os.stat("/proc/%d" % process.pid).st_uid == 0
            result = run_unprivileged(command + ["dump", str(process.pid)] + output_flags, env=env)
    assert_error(result, "permission denied", "CAP_SYS_PTRACE", "ptrace_scope")
