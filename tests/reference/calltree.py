"""Pure-Python reference of loopscope.server.calltree (whose merging runs in C,
src/engine/calltree.c): the same call tree, per-function and per-line sums, written for clarity.
tests/unit/test_calltree.py checks that both agree."""

import collections

WEIGHT_INDEX = {"samples": 2, "wall": 3, "cpu": 4}


def series(profile, weight, threads=None):
    """{stack index: summed weight} of a profile dict's records (optionally only thread indices in
    `threads`); stacks of weight 0 are left out, and so are empty stacks."""
    sums = collections.Counter()
    for thread, stack, *weights in profile["records"]:
        if threads is None or thread in threads:
            sums[stack] += weights[WEIGHT_INDEX[weight] - 2]
    return {stack: total for stack, total in sums.items() if total > 0 and profile["stacks"][stack]}


def call_tree(profile, all_series, by_line=False):
    """The merged call tree of the series (see the module docstring) as a dict of lists."""
    frames = profile["frames"]
    n_series = len(all_series)
    node_key = frames if by_line else [(function, 0) for function, _ in frames]
    children = {}          # (parent node, (function, line)) -> node
    parent, key = [-1], [(-1, 0)]
    self_w = [[0] for _ in all_series]
    total_w = [[0] for _ in all_series]
    stack_path = {}        # stack index -> the nodes on its path, root first
    stacks = profile["stacks"]
    for k, weights in enumerate(all_series):
        for stack, value in weights.items():
            path = stack_path.get(stack)
            if path is None:
                path = []
                node = 0
                for frame in reversed(stacks[stack]):
                    child_key = (node, node_key[frame])
                    child = children.get(child_key)
                    if child is None:
                        child = len(parent)
                        children[child_key] = child
                        parent.append(node)
                        key.append(node_key[frame])
                        for lists in (self_w, total_w):
                            for column in lists:
                                column.append(0)
                    path.append(child)
                    node = child
                stack_path[stack] = path
            totals = total_w[k]
            totals[0] += value
            for node in path:
                totals[node] += value
            self_w[k][path[-1] if path else 0] += value
    order = depth_first_order(parent, key, profile)
    new_index = {old: new for new, old in enumerate(order)}
    return {
        "parent": [new_index[parent[old]] if parent[old] >= 0 else -1 for old in order],
        "function": [key[old][0] for old in order],
        "line": [key[old][1] for old in order],
        "self": [[column[old] for old in order] for column in self_w],
        "total": [[column[old] for old in order] for column in total_w],
        "series": n_series,
    }


def depth_first_order(parent, key, profile):
    """Node indices root first, each node's children sorted by (function name, file, line, key)."""
    names = function_names(profile)
    files = [profile["strings"][file] for _, file, _ in profile["functions"]]
    kids = [[] for _ in parent]
    for node in range(1, len(parent)):
        kids[parent[node]].append(node)
    order, todo = [], [0]
    while todo:
        node = todo.pop()
        order.append(node)
        if kids[node]:
            ordered = sorted(kids[node], key=lambda c: (names[key[c][0]], files[key[c][0]], key[c][1], key[c]))
            todo.extend(reversed(ordered))
    return order


def function_names(profile):
    strings = profile["strings"]
    return [strings[name] for name, _, _ in profile["functions"]]


def per_function(profile, weights, by_line=False):
    """{(function, line or 0): [self, total]} over one series; a function (or line) that appears
    twice in a stack (recursion) counts once in its total."""
    frames = profile["frames"]
    stacks = profile["stacks"]
    sums = {}
    for stack, value in weights.items():
        frame_list = stacks[stack]
        keys = [frames[f] if by_line else (frames[f][0], 0) for f in frame_list]
        keys = [tuple(k) for k in keys]
        for k in set(keys):
            entry = sums.get(k)
            if entry is None:
                entry = sums[k] = [0, 0]
            entry[1] += value
        sums[keys[0]][0] += value
    return sums


def per_line_of_file(profile, weights, file_index):
    """{line: [self, total]} of the lines of one file (by string index of its path): self when the
    line is the leaf, total when it is anywhere in the stack (once per stack)."""
    frames = profile["frames"]
    functions = profile["functions"]
    stacks = profile["stacks"]
    in_file = {f for f, (function, _) in enumerate(frames) if functions[function][1] == file_index}
    sums = {}
    for stack, value in weights.items():
        frame_list = stacks[stack]
        lines = {frames[f][1] for f in frame_list if f in in_file}
        for line in lines:
            entry = sums.get(line)
            if entry is None:
                entry = sums[line] = [0, 0]
            entry[1] += value
        if frame_list[0] in in_file:
            sums[frames[frame_list[0]][1]][0] += value
    return sums
