# The call tree, per-function and per-line sums built in C (loopscope.server.calltree over
# src/engine/calltree.c) against the pure-Python reference (tests/reference/calltree.py), on random
# profiles with recursion, shared prefixes, empty stacks and zero weights; and the C builder's
# refusal of malformed input.
import os
import random
import sys
from array import array

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from reference import calltree as reference  # noqa: E402

from loopscope import _engine  # noqa: E402
from loopscope.server import calltree  # noqa: E402


def random_profile(rng, n_stacks):
    n_files = rng.randint(1, 4)
    strings = [""] + ["/f%d.py" % i for i in range(n_files)] + ["fn%d" % i for i in range(12)]
    functions = [(1 + n_files + i, 1 + rng.randrange(n_files), i) for i in range(12)]
    # the same name in two files, to exercise the ordering by (name, line)
    functions.append((1 + n_files, 1 + (n_files - 1), 99))
    # line -1: a frame whose line the engine could not tell
    frames = list({(rng.randrange(len(functions)), rng.randint(-1, 6)) for _ in range(40)})
    stacks = []
    for _ in range(n_stacks):
        if stacks and rng.random() < 0.6:
            base = rng.choice(stacks)
            stack = base[rng.randrange(len(base) + 1):] if base else []
        else:
            stack = []
        stack = [rng.randrange(len(frames)) for _ in range(rng.randint(0, 6))] + stack
        stacks.append(stack)
    records = []
    for s in range(n_stacks):
        for thread in range(rng.randint(0, 2)):
            n = rng.choice([0, 1, 3, 10])
            records.append((thread, s, n, n * 1000 + rng.randint(0, 9), n * 10, n, 0))
    return {"strings": strings, "functions": functions, "frames": frames, "stacks": stacks,
            "records": records, "threads": [(1, 1, "a"), (2, 2, "b")]}


@pytest.mark.parametrize("seed", range(40))
def test_c_builder_matches_the_reference(seed):
    rng = random.Random(seed)
    profile = random_profile(rng, rng.choice([0, 1, 5, 60]))
    for by_line in (False, True):
        wall = calltree.series(profile, "wall")
        samples = calltree.series(profile, "samples", threads={0})
        assert wall == reference.series(profile, "wall")
        got = calltree.call_tree(profile, [wall, samples], by_line)
        want = reference.call_tree(profile, [wall, samples], by_line)
        assert plain(got) == want
        assert calltree.per_function(profile, wall, by_line) == reference.per_function(profile, wall, by_line)
        for file_index in range(1, 4):
            assert calltree.per_line_of_file(profile, wall, file_index) == \
                reference.per_line_of_file(profile, wall, file_index)


def test_recursion_counts_once_per_key_but_twice_in_the_tree():
    data = {"strings": ["", "a", "b", "f.py"], "functions": [(1, 3, 1), (2, 3, 5)],
            "frames": [(0, 2), (0, 3), (1, 6)], "stacks": [[2, 1, 0], [0]],
            "records": [(0, 0, 1, 10, 0, 0, 0), (0, 1, 1, 5, 0, 0, 0)], "threads": [(1, 1, "t")]}
    weights = calltree.series(data, "wall")
    tree = calltree.call_tree(data, [weights])
    assert tree["total"][0].tolist() == [15, 15, 10, 10]
    assert tree["self"][0].tolist() == [0, 5, 0, 10]
    assert tree["parent"].tolist() == [-1, 0, 1, 2] and tree["function"].tolist() == [-1, 0, 0, 1]
    sums = calltree.per_function(data, weights)
    assert sums[(0, 0)] == [5, 15]
    assert sums[(1, 0)] == [10, 10]


def plain(value):
    """value with its arrays as lists (the reference builds lists)."""
    if isinstance(value, array):
        return value.tolist()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def u32(values):
    return array("I", values)


@pytest.mark.parametrize("offsets, frames, frame_key, key_rank, weights, n_series, message", [
    ([0, 2], [0, 5], [0, 0], [0], [1], 1, "out of range"),      # frame 5 of 2
    ([0, 1], [0], [3], [0], [1], 1, "out of range"),              # key 3 of 1
    ([0, 3], [0], [0], [0], [1], 1, "do not match"),              # offsets past the frames
    ([0, 1], [0], [0], [0], [1, 2], 1, "do not match"),           # weights of 2 stacks for 1
    ([1, 1], [0], [0], [0], [1], 1, "out of range"),              # offsets must start at 0
    ([0, 2, 1], [0, 0], [0], [0], [1, 1], 1, "out of range"),     # decreasing offsets
    ([0, 1], [0], [0], [0], [1], 0, "1 to 64 series"),
])
def test_malformed_input_is_refused(offsets, frames, frame_key, key_rank, weights, n_series, message):
    with pytest.raises(ValueError, match=message):
        _engine.call_tree(u32(offsets), u32(frames), u32(frame_key), u32(key_rank), array("Q", weights), n_series)


def test_wrong_buffer_types_are_refused():
    with pytest.raises(TypeError, match="unsigned 32-bit"):
        _engine.call_tree(array("d", [0.0]), u32([]), u32([]), u32([]), array("Q"), 1)
    with pytest.raises(TypeError, match="unsigned 64-bit"):
        _engine.call_tree(u32([0]), u32([]), u32([]), u32([]), u32([]), 1)
