# calltree.py - merges a profile's stacks into the call tree a flame graph draws, and adds them up
# per function and per line for the tables and the source heat map.
"""Pure functions over a profile dict (loopscope.storage.Profile.profile_dict()).

A *series* is {stack index: weight} for one selection (a time range and thread). Several series
over the same profile dict make one tree whose nodes carry a weight per series; the diff view uses
two (baseline, comparison).

call_tree() returns the nodes in depth-first order, as parallel arrays (siblings by function name,
then file, then line), so a client lays a flame graph out in one pass:
    parent[i] < i (the root, 0, has parent -1), function[i] (index into the profile's functions,
    -1 for the root), line[i] (0 when the tree is by function) as array('i'); self[k][i],
    total[k][i] per series k as array('Q'). (server/jsontext.py writes arrays as JSON lists.)
Stacks are stored leaf first; the tree is root first. The merging runs in C
(src/engine/calltree.c); this module maps the profile's functions and lines to its keys and ranks.
"""

import itertools
from array import array

from loopscope import _engine

WEIGHT_INDEX = {"samples": 2, "wall": 3, "cpu": 4}


def series(profile, weight, threads=None):
    """{stack index: summed weight} of a profile dict's records (optionally only thread indices in
    `threads`); stacks of weight 0 are left out, and so are empty stacks."""
    column = WEIGHT_INDEX[weight]
    stacks = profile["stacks"]
    sums = {}
    for record in profile["records"]:
        if threads is not None and record[0] not in threads:
            continue
        value = record[column]
        stack = record[1]
        if value and stacks[stack]:
            sums[stack] = sums.get(stack, 0) + value
    return sums


def call_tree(profile, all_series, by_line=False):
    """The merged call tree of the series (see the module docstring) as a dict of arrays."""
    return analyse(profile, all_series, by_line)[0]


def analyse(profile, all_series, by_line=False):
    """(the call tree of the series, [per-key sums of each series]) from one pass of the C builder;
    the sums are as per_function() returns them."""
    tree, key_function, key_line = build(profile, all_series, by_line)
    if by_line:
        functions = _engine.gather(tree["key"], array("i", key_function), -1)
        lines = _engine.gather(tree["key"], array("i", key_line), 0)
    else:  # the keys are the functions
        functions, lines = tree["key"], array("i", [0]) * len(tree["key"])
    result = {
        "parent": tree["parent"],
        "function": functions,
        "line": lines,
        "self": tree["self"],
        "total": tree["total"],
        "series": len(all_series),
    }
    sums = [{(key_function[k], key_line[k]): [self_w[k], total_w[k]] for k in range(len(total_w)) if total_w[k]}
            for self_w, total_w in zip(tree["key_self"], tree["key_total"])]
    return result, sums


def build(profile, all_series, by_line, frame_key=None, key_rank=None):
    """Run the C builder (loopscope._engine.call_tree) over the profile's stacks and the series.
    Keys are functions, or frames (function and line) when by_line, unless frame_key and key_rank
    are given. Returns (its answer, key -> function, key -> line)."""
    frames = profile["frames"]
    stacks = profile["stacks"]
    if frame_key is None:
        names = function_names(profile)
        if by_line:
            frame_key = array("I", range(len(frames)))
            key_function = [function for function, _ in frames]
            key_line = [line for _, line in frames]
        else:
            frame_key = array("I", (function for function, _ in frames))
            key_function = list(range(len(profile["functions"])))
            key_line = [0] * len(key_function)
        files = [profile["strings"][file] for _, file, _ in profile["functions"]]
        order = sorted(range(len(key_function)),
                       key=lambda k: (names[key_function[k]], files[key_function[k]], key_line[k], key_function[k]))
        key_rank = array("I", [0]) * len(order)
        for rank, k in enumerate(order):
            key_rank[k] = rank
    else:
        key_function = key_line = None
    offsets, flat = profile.get("stack_offsets"), profile.get("stack_frames")
    if offsets is None or flat is None:
        offsets = array("I", itertools.accumulate(map(len, stacks), initial=0))
        flat = array("I", itertools.chain.from_iterable(stacks))
    weights = array("Q", [0]) * (len(all_series) * len(stacks))
    for k, series_weights in enumerate(all_series):
        base = k * len(stacks)
        for stack, value in series_weights.items():
            weights[base + stack] = value
    tree = _engine.call_tree(offsets, flat, frame_key, key_rank, weights, len(all_series))
    return tree, key_function, key_line


def function_names(profile):
    strings = profile["strings"]
    return [strings[name] for name, _, _ in profile["functions"]]


def per_function(profile, weights, by_line=False):
    """{(function, line or 0): [self, total]} over one series; a function (or line) that appears
    twice in a stack (recursion) counts once in its total."""
    return analyse(profile, [weights], by_line)[1][0]


def per_line_of_file(profile, weights, file_index):
    """{line: [self, total]} of the lines of one file (by string index of its path): self when the
    line is the leaf, total when it is anywhere in the stack (once per stack). Lines are whatever
    the frames say, -1 (no line) included."""
    frames = profile["frames"]
    functions = profile["functions"]
    lines = sorted({line for function, line in frames if functions[function][1] == file_index})
    key_of_line = {line: key for key, line in enumerate(lines)}
    other = len(lines)  # the one key of every frame outside the file
    frame_key = array("I", (key_of_line[line] if functions[function][1] == file_index else other
                            for function, line in frames))
    key_rank = array("I", range(other + 1))
    tree, _, _ = build(profile, [weights], False, frame_key, key_rank)
    self_w, total_w = tree["key_self"][0], tree["key_total"][0]
    return {line: [self_w[key], total_w[key]] for key, line in enumerate(lines) if total_w[key]}
