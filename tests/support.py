"""Helpers shared by the test suites."""

import glob
import os
import socket
import subprocess
import sys
import time

import pytest


def require(condition, reason):
    """Stop the test unless `condition` holds: a skip on a developer machine, a failure in CI
    (CI=true), where a missing interpreter or build product means the job is set up wrong."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


# --- CPython interpreters for real-process tests, and running the loopscope CLI ---

PYENV_ROOT = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
SUPPORTED_MINORS = (8, 9, 10, 11, 12, 13)
DEBIAN_PYTHON = "/usr/bin/python3.11"


def pyenv_python(minor):
    """Path of pyenv's newest CPython 3.<minor> executable, or None."""
    pattern = os.path.join(PYENV_ROOT, "versions", "3.%d.*" % minor, "bin", "python3.%d" % minor)
    candidates = [path for path in glob.glob(pattern) if os.access(path, os.X_OK)]

    def micro(path):
        tail = path.split(os.sep)[-3].split(".")[2]  # versions/3.X.Y/bin/python3.X
        return int(tail) if tail.isdigit() else -1

    return max(candidates, key=micro) if candidates else None


def supported_interpreters():
    """[(id, path or None)] for every CPython loopscope must read: pyenv's 3.8 - 3.13 and Debian's
    statically linked 3.11. A None path is an interpreter this machine lacks."""
    found = [("3.%d" % minor, pyenv_python(minor)) for minor in SUPPORTED_MINORS]
    debian = DEBIAN_PYTHON if os.access(DEBIAN_PYTHON, os.X_OK) else None
    found.append(("debian-3.11", debian))
    return found


def loopscope_command(*args):
    """The command line that runs loopscope from the interpreter running the tests."""
    return [sys.executable, "-m", "loopscope"] + [str(arg) for arg in args]


def free_port():
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_listener(port, process, timeout_s=20):
    """Wait until something accepts connections on 127.0.0.1:port; fails the test, with the
    process's output when it was captured, if `process` ends first or timeout_s pass."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() >= deadline or process.poll() is not None:
                process.kill()
                pytest.fail("nothing listens on port %d: %r" % (port, process.communicate()))
            time.sleep(0.05)


def run_loopscope(*args, **kwargs):
    """Run loopscope with args; returns the CompletedProcess (UTF-8 text, both streams captured)."""
    kwargs.setdefault("timeout", 60)
    return subprocess.run(loopscope_command(*args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, encoding="utf-8", **kwargs)
