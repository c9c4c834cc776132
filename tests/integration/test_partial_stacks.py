# Stacks that can be read only in part, on real processes: a <= 3.10 chain that ends at a running
# generator's frame whose f_back is gone (tests/targets/generator_cut.py makes one that stays) is
# never a whole stack. `dump` flags it truncated, and a recording keeps its frames under the
# "<partial stack>" root. (Deeper than the walk's limit: test_record_reliability.py.)
import json
import os
import sqlite3
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from support import require, run_loopscope, supported_interpreters  # noqa: E402

from loopscope.storage import Profile  # noqa: E402

TARGET = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "targets", "generator_cut.py")
HEAP_FRAME_VERSIONS = ("3.8", "3.9", "3.10")


@pytest.fixture(params=HEAP_FRAME_VERSIONS)
def cut_target(request):
    """A generator_cut.py process, ready (its generator's f_back cleared), killed afterwards."""
    python = dict(supported_interpreters())[request.param]
    require(python is not None, "CPython %s is not installed" % request.param)
    process = subprocess.Popen([python, TARGET], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "ready", "the target did not start"
        yield process.pid
    finally:
        process.kill()
        process.wait()


def test_dump_flags_a_chain_ending_at_a_generator_as_truncated(cut_target):
    result = run_loopscope("dump", "--json", cut_target)
    assert result.returncode == 0, result.stderr
    (thread,) = json.loads(result.stdout)["threads"]
    assert [frame["function"] for frame in thread["frames"]] == ["gen"]
    assert thread["truncated"], "a chain that ends at a generator's frame passed for a whole stack"
    text = run_loopscope("dump", cut_target)
    assert "stack truncated" in text.stdout and "outer frames could not be read" in text.stdout


def test_recording_keeps_it_under_the_partial_stack_root(cut_target, tmp_path):
    profile = str(tmp_path / "cut.lsp")
    result = run_loopscope("attach", cut_target, "--duration", "1", "--rate", "50", "-o", profile)
    assert result.returncode == 0, result.stderr
    with Profile(profile) as recorded:
        data = recorded.profile_dict(None, None, None)
    strings, functions, frames, stacks = data["strings"], data["functions"], data["frames"], data["stacks"]
    shapes = set()
    for record in data["records"]:
        names = tuple(strings[functions[frames[frame_id][0]][0]] for frame_id in stacks[record[1]])
        shapes.add(names)  # leaf first
    assert shapes == {("gen", "<partial stack>")}, shapes
    with sqlite3.connect(profile) as db:
        assert db.execute("SELECT SUM(samples) FROM windows").fetchone()[0] >= 25, "1 s at 50 Hz"
