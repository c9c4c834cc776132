"""Real recordings that several test suites look at: recorded once per test session, on demand."""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from support import loopscope_command  # noqa: E402

TARGETS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "targets")
SWITCH = os.path.join(TARGETS_DIR, "dashboard_switch.py")


def record_switch(directory, phase_s=3.0, rate=200, extra=()):
    """Record tests/targets/dashboard_switch.py (fast() for phase_s seconds, then slow()) with
    `loopscope run` into directory/switch.lsp; returns (profile path, the target's phase times:
    {fast_ns, switch_ns, end_ns}). Fails with the whole output when the recording does not work."""
    path = os.path.join(directory, "switch.lsp")
    command = loopscope_command("run", "--rate", rate, "--no-serve", "--no-html", "-q", "-o", path, *extra,
                                "--", sys.executable, SWITCH, path, phase_s)
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, encoding="utf-8",
                          timeout=60 + 4 * phase_s, stdin=subprocess.DEVNULL)
    if done.returncode != 0 or not done.stdout.strip():
        raise AssertionError("recording the switch workload failed: exit %s\n%s\n%s"
                             % (done.returncode, done.stdout, done.stderr))
    return path, json.loads(done.stdout.strip().splitlines()[-1])


def hot_line(path=SWITCH):
    """The line number of the line marked '# hot line' in a target."""
    with open(path, encoding="utf-8") as f:
        for number, text in enumerate(f, 1):
            if "# hot line" in text:
                return number
    raise AssertionError("no hot line in %s" % path)
