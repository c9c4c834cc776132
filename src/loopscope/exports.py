"""Writing a profile in the formats other tools read.

A profile is the dict that loopscope._engine.export takes (see src/loopscope/_engine_export.c):
interned strings, functions, frames, stacks (leaf first), threads and records
(thread, stack, samples, wall_ns, cpu_ns, on_cpu, gil). Four formats are written by the C engine:
callgrind (KCachegrind, callgrind_annotate), pprof (`go tool pprof`; gzipped here), speedscope JSON
and collapsed stacks (flamegraph.pl). pstats (cProfile's marshal format, for `python -m pstats`,
snakeviz, pyprof2calltree) is built here, because it is a marshal of a Python dict.

The weight (0 samples, 1 wall, 2 cpu, or those names) matters for the single-valued formats:
collapsed counts (samples, or integer nanoseconds), speedscope weights (nanoseconds: wall for
samples and wall, cpu for cpu), pprof's default sample type, and pstats times (samples x period,
wall or cpu seconds). callgrind always carries samples, wall and cpu (microseconds).
Samples whose stack is empty have no function and are left out of every format.
"""
import gzip
import marshal
import os
from collections import defaultdict

from loopscope import _engine

FORMATS = ("callgrind", "pprof", "speedscope", "collapsed", "pstats")

# the file name ending each format is written with by default
EXTENSIONS = {
    "callgrind": ".callgrind",
    "pprof": ".pb.gz",
    "speedscope": ".speedscope.json",
    "collapsed": ".collapsed.txt",
    "pstats": ".pstats",
}

WEIGHTS = {"samples": 0, "wall": 1, "cpu": 2}

# pstats cannot load an empty dict ("Cannot create or construct a pstats.Stats object"): a
# profile without samples is written as this one entry with zero counts
EMPTY_PSTATS_KEY = ("~", 0, "<no samples>")


def weight_code(weight):
    """The engine's weight number for 0/1/2 or 'samples'/'wall'/'cpu'."""
    code = WEIGHTS.get(weight, weight)
    if code not in (0, 1, 2):
        raise ValueError("weight must be one of samples, wall, cpu (or 0, 1, 2), not %r" % (weight,))
    return code


def weight_for(fmt, mode):
    """The weight an export gets for a recording's headline mode ('wall' or 'cpu'): collapsed stacks
    count samples in wall mode (flamegraph.pl calls its counts samples, and at a fixed rate they are
    proportional to wall time), CPU nanoseconds in cpu mode; the other formats take the mode."""
    if fmt == "collapsed" and mode == "wall":
        return "samples"
    return mode


def default_filename(fmt, stem="loopscope"):
    """`stem` plus the format's usual ending ('loopscope.pb.gz')."""
    if fmt not in EXTENSIONS:
        raise ValueError("unknown export format %r (one of %s)" % (fmt, ", ".join(FORMATS)))
    return stem + EXTENSIONS[fmt]


def export_bytes(fmt, profile, weight=0, lines=True):
    """The file contents of `profile` in format `fmt` (pprof gzipped, pstats marshalled)."""
    weight = weight_code(weight)
    if fmt == "pstats":
        stats = pstats_dict(profile, weight) or {EMPTY_PSTATS_KEY: (0, 0, 0.0, 0.0, {})}
        return marshal.dumps(stats)
    if fmt not in FORMATS:
        raise ValueError("unknown export format %r (one of %s)" % (fmt, ", ".join(FORMATS)))
    data = _engine.export(fmt, profile, weight, bool(lines))
    if fmt == "pprof":
        data = gzip.compress(data, mtime=0)  # mtime 0: the same profile gives the same bytes
    return data


def write_export(fmt, profile, path_or_file, weight=0, lines=True):
    """Write `profile` in format `fmt` to a path or a binary file object; returns the byte count."""
    data = export_bytes(fmt, profile, weight, lines)
    if hasattr(path_or_file, "write"):
        path_or_file.write(data)
    else:
        with open(os.fspath(path_or_file), "wb") as f:
            f.write(data)
    return len(data)


def _stack_totals(profile):
    """{stack id: [samples, wall_ns, cpu_ns]} over all threads, empty stacks left out."""
    stacks = profile["stacks"]
    totals = {}
    for record in profile["records"]:
        stack = record[1]
        if not stacks[stack]:
            continue
        sums = totals.setdefault(stack, [0, 0, 0])
        for i in range(3):
            sums[i] += record[2 + i]
    return totals


def pstats_dict(profile, weight=0):
    """The profile as cProfile's stats dict: {(filename, first_line, funcname): (cc, nc, tt, ct,
    callers)}, callers being {caller_key: (nc, cc, tt, ct)} (pstats' order, swapped against the
    outer tuple). Times in seconds: samples x period (or wall when the period is unknown), wall or
    cpu time. tt is the time a function was the leaf; ct counts each sample once even under
    recursion; nc = cc is the number of samples with the function on the stack (at least 1). A
    call is counted where the callee is first entered from the root of a stack (as in the
    callgrind export), so each caller entry sums to the callee's own figures, and every caller is
    itself an entry. A first line of -1 becomes 0."""
    weight = weight_code(weight)
    strings, functions, frames = profile["strings"], profile["functions"], profile["frames"]
    period_s = (profile.get("meta") or {}).get("period_ns", 0) / 1e9

    # work on small integers: key ids, one per distinct pstats key
    keys, key_ids = [], {}
    for name_id, file_id, first_line in functions:
        key = (strings[file_id], max(first_line, 0), strings[name_id])
        if key not in key_ids:
            key_ids[key] = len(keys)
            keys.append(key)
    key_of_frame = [key_ids[(strings[functions[f][1]], max(functions[f][2], 0), strings[functions[f][0]])]
                    for f, _ in frames]
    nkeys = len(keys)
    entries = {}  # key id -> [nc, tt, ct]
    edges = {}  # callee id * nkeys + caller id -> [nc, tt, ct]
    for stack_id, (samples, wall_ns, cpu_ns) in _stack_totals(profile).items():
        if weight == 0:
            value = samples * period_s if period_s else wall_ns / 1e9
        else:
            value = (wall_ns if weight == 1 else cpu_ns) / 1e9
        if not samples and not value:
            continue
        chain = [key_of_frame[frame] for frame in profile["stacks"][stack_id]]  # leaf first
        for key in set(chain):
            entry = entries.get(key)
            if entry is None:
                entry = entries[key] = [0, 0.0, 0.0]
            entry[0] += samples
            entry[2] += value
        entries[chain[0]][1] += value
        entered = {chain[-1]: None}  # callee -> the edge that entered it (None: the root)
        for i in range(len(chain) - 2, -1, -1):
            callee = chain[i]
            if callee in entered:
                continue
            edge_key = callee * nkeys + chain[i + 1]
            edge = edges.get(edge_key)
            if edge is None:
                edge = edges[edge_key] = [0, 0.0, 0.0]
            edge[0] += samples
            edge[2] += value
            entered[callee] = edge
        leaf_edge = entered[chain[0]]
        if leaf_edge is not None:
            leaf_edge[1] += value
    callers = defaultdict(list)
    for edge_key, (nc, tt, ct) in edges.items():
        callee, caller = divmod(edge_key, nkeys)
        nc = max(nc, 1)
        callers[callee].append((keys[caller], (nc, nc, tt, ct)))
    stats = {}
    for key_id in sorted(entries, key=keys.__getitem__):
        nc, tt, ct = entries[key_id]
        nc = max(nc, 1)
        stats[keys[key_id]] = (nc, nc, tt, ct, dict(sorted(callers.get(key_id, ()))))
    return stats
