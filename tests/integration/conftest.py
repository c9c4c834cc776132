# Fixtures for the real-process tests: which interpreters and scenarios tests are parametrized by,
# and a pool that starts every target the session needs at once (in parallel), waits for each one's
# ground truth, runs `loopscope dump` on it once per output mode, and kills all targets at the end.
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from support import require, run_loopscope, supported_interpreters  # noqa: E402

TARGETS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "targets")
TRUTH_TIMEOUT_SECONDS = 30.0

# scenario name -> target script in tests/targets (see each script's header for what it blocks on)
SCENARIOS = {
    "nested_calls": "nested_calls.py",
    "qualnames": "qualnames.py",
    "comprehensions": "comprehensions.py",
    "generators": "generators.py",
    "coroutines": "coroutines.py",
    "decorators": "decorators.py",
    "deep_recursion": "deep_recursion.py",
    "many_threads": "many_threads.py",
    "unicode_names": "ünïcødé_名前.py",
    "far_lines": "far_lines.py",
    "long_linetable": "long_linetable.py",
    "thread_names": "thread_names.py",
}

INTERPRETERS = supported_interpreters()
INTERPRETER_PATHS = dict(INTERPRETERS)


def _parametrized_by_marker(metafunc, name):
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0]
        if isinstance(names, str):
            names = [part.strip() for part in names.split(",")]
        if name in names:
            return True
    return False


def pytest_generate_tests(metafunc):
    """Tests taking `interpreter` run under every supported CPython; tests taking `scenario` run
    on every scenario unless they choose their own with a parametrize marker."""
    if "interpreter" in metafunc.fixturenames and not _parametrized_by_marker(metafunc, "interpreter"):
        ids = [name for name, _ in INTERPRETERS]
        metafunc.parametrize("interpreter", ids, ids=ids)
    if "scenario" in metafunc.fixturenames and not _parametrized_by_marker(metafunc, "scenario"):
        metafunc.parametrize("scenario", list(SCENARIOS), ids=list(SCENARIOS))


def task_count(pid):
    try:
        return len(os.listdir("/proc/%d/task" % pid))
    except OSError:
        return -1


class Target:
    """One target script running under one interpreter, with its ground truth and dumps."""

    def __init__(self, interpreter, scenario, python, workdir):
        self.interpreter = interpreter
        self.scenario = scenario
        self.python = python
        self.workdir = workdir
        self.truth_path = os.path.join(workdir, "truth.json")
        self.stderr_path = os.path.join(workdir, "stderr.txt")
        self.process = None
        self._truth = None
        self._dumps = {}

    def start(self):
        script = os.path.join(TARGETS_DIR, SCENARIOS[self.scenario])
        generated = os.path.join(self.workdir, "generated")
        os.mkdir(generated)
        with open(self.stderr_path, "wb") as stderr:
            # -E: none of the test venv's PYTHON* variables; -s: no user site; -B: no .pyc files
            self.process = subprocess.Popen(
                [self.python, "-E", "-s", "-B", script, self.truth_path, generated],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
                cwd=self.workdir, start_new_session=True)

    @property
    def pid(self):
        return self.process.pid

    def stderr_text(self):
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def truth(self):
        """The target's ground truth, once its reporter thread has written it and exited."""
        if self._truth is not None:
            return self._truth
        deadline = time.monotonic() + TRUTH_TIMEOUT_SECONDS
        while not os.path.exists(self.truth_path):
            self._fail_if_dead()
            if time.monotonic() > deadline:
                pytest.fail("%s: no ground truth after %.0fs; stderr:\n%s"
                            % (self, TRUTH_TIMEOUT_SECONDS, self.stderr_text()))
            time.sleep(0.02)
        with open(self.truth_path, encoding="utf-8") as f:
            truth = json.load(f)
        # the reporter thread is gone once the process has exactly the threads the truth lists
        while task_count(self.pid) != len(truth["threads"]):
            self._fail_if_dead()
            if time.monotonic() > deadline:
                pytest.fail("%s: %d threads in the process, %d in the truth"
                            % (self, task_count(self.pid), len(truth["threads"])))
            time.sleep(0.02)
        self._truth = truth
        return truth

    def _fail_if_dead(self):
        if self.process.poll() is not None:
            pytest.fail("%s exited with %s before the dump; stderr:\n%s"
                        % (self, self.process.returncode, self.stderr_text()))

    def dump(self, json_output=True):
        """The CompletedProcess of `loopscope dump PID [--json]`, run once per mode."""
        if json_output not in self._dumps:
            self.truth()
            args = ["dump", self.pid] + (["--json"] if json_output else [])
            self._dumps[json_output] = run_loopscope(*args)
            self._fail_if_dead()
        return self._dumps[json_output]

    def dump_document(self):
        """The parsed JSON document of a successful `dump --json`; fails the test otherwise."""
        result = self.dump(json_output=True)
        if result.returncode != 0:
            pytest.fail("%s: loopscope dump --json exited %d; stderr:\n%s"
                        % (self, result.returncode, result.stderr))
        try:
            return json.loads(result.stdout)
        except ValueError as error:
            pytest.fail("%s: dump --json printed invalid JSON (%s):\n%s"
                        % (self, error, result.stdout[:2000]))

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait()

    def __str__(self):
        return "target %s under %s (pid %s)" % (self.scenario, self.interpreter,
                                                self.process.pid if self.process else "-")


class TargetPool:
    """Targets keyed by (interpreter, scenario). On first use it starts every pair the collected
    tests ask for, so they come up in parallel while the first tests run."""

    def __init__(self, session):
        self.session = session
        self.workdir = tempfile.mkdtemp(prefix="loopscope-targets-")
        self.targets = {}
        self.started = False

    def _wanted(self):
        wanted = []
        for item in self.session.items:
            params = getattr(getattr(item, "callspec", None), "params", {})
            if "interpreter" in params and "scenario" in params:
                key = (params["interpreter"], params["scenario"])
                if INTERPRETER_PATHS.get(key[0]) and key not in wanted:
                    wanted.append(key)
        return wanted

    def _start(self, key):
        interpreter, scenario = key
        workdir = os.path.join(self.workdir, "%s-%s" % (interpreter, scenario))
        os.mkdir(workdir)
        target = Target(interpreter, scenario, INTERPRETER_PATHS[interpreter], workdir)
        self.targets[key] = target
        target.start()
        return target

    def get(self, interpreter, scenario):
        python = INTERPRETER_PATHS[interpreter]
        require(python is not None, "CPython %s is not installed" % interpreter)
        if not self.started:
            self.started = True
            for key in self._wanted():
                self._start(key)
        key = (interpreter, scenario)
        return self.targets.get(key) or self._start(key)

    def close(self):
        for target in self.targets.values():
            target.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def target_pool(request):
    pool = TargetPool(request.session)
    yield pool
    pool.close()


@pytest.fixture
def target(target_pool, interpreter, scenario):
    """The running target of this test's scenario under its interpreter (truth not yet awaited)."""
    return target_pool.get(interpreter, scenario)
