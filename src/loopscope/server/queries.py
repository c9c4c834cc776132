# queries.py - what every dashboard view shows, computed from a profile file: pure functions of a
# storage.Profile and plain arguments, returning JSON-ready dicts (the HTTP layer only parses and
# serialises; the HTML report calls the same functions).
"""Dashboard queries over a loopscope.storage.Profile.

Times are Unix nanoseconds; a range is [start_ns, end_ns), None for an open end. `weight` is
"wall" (wall-clock nanoseconds), "cpu" (CPU nanoseconds) or "samples". `thread` is None (all) or a
thread's native id / name as Profile.profile_dict() takes it.

    summary(profile)                                   meta, time range, threads, sources
    timeline(profile, start, end, points)              samples/s, CPU %, threads per bin, and
                                                       each thread's samples / CPU / on-CPU / GIL
    flame(profile, start, end, thread, weight, by_line)       the call tree (calltree.call_tree)
    functions(profile, start, end, thread, weight, by_line)   self and inclusive per function/line
    source(profile, path, start, end, thread, weight)         a stored file with per-line heat
    diff(profile, base, comparison, thread, weight, by_line)  two ranges in one tree, per second
"""

import os
import threading
from collections import OrderedDict

from loopscope.server import calltree

MAX_POINTS = 2000


def summary(profile):
    start, end = profile.time_range()
    meta = profile.meta
    count, _ = profile.window_count()
    return {
        "command": meta.get("command"),
        "pid": meta.get("pid"),
        "python_version": meta.get("python_version"),
        "rate_hz": meta.get("rate_hz"),
        "window_s": meta.get("window_s"),
        "mode": meta.get("mode", "wall"),
        "loopscope_version": meta.get("loopscope_version"),
        "start_unix_ns": start,
        "end_unix_ns": end,
        "finished": profile.finished(),
        "windows": count,
        "threads": profile.threads(),
        "sources": profile.sources(),
    }


def timeline(profile, start_ns=None, end_ns=None, points=300):
    """Bins of consecutive windows over the range (Profile.timeline): at most `points` of them.
    Each bin: start/end, windows, samples, samples_per_s, cpu_percent (of one core, the whole
    process), late, failed, threads (how many had samples); and per thread, a list per bin of
    [samples, cpu_ns, on_cpu, gil] (null where the thread had no sample)."""
    points = max(1, min(int(points), MAX_POINTS))
    series = profile.timeline(start_ns, end_ns, points)
    bins = series["bins"]
    for i, b in enumerate(bins):
        seconds = max(1, b["end_unix_ns"] - b["start_unix_ns"]) / 1e9
        b["samples_per_s"] = b["samples"] / seconds
        b["cpu_percent"] = 100.0 * b["process_cpu_ns"] / (seconds * 1e9)
        b["threads"] = sum(1 for cells in series["threads"].values() if i in cells)
    described = {t["id"]: t for t in profile.threads()}
    threads = []
    for thread, cells in sorted(series["threads"].items()):
        if thread not in described:
            continue
        row = [None] * len(bins)
        for i, (samples, _wall, cpu, on_cpu, gil) in cells.items():
            row[i] = [samples, cpu, on_cpu, gil]
        threads.append({"native_id": described[thread]["native_id"], "name": described[thread]["name"], "bins": row})
    return {"step_windows": series["step_windows"], "bins": bins, "threads": threads}


class SelectionCache:
    """The last few profile dicts, keyed by file, its version, ranges and thread: the flame graph,
    the table and the source view of one selection are three requests but one query."""

    def __init__(self, size=4):
        self.size = size
        self.entries = OrderedDict()
        self.lock = threading.Lock()

    def get(self, profile, ranges, thread):
        """Profile.profile_dicts(ranges, thread): one dict per (start_ns, end_ns) range."""
        ranges = tuple(tuple(r) for r in ranges)
        key = (os.path.abspath(profile.path), profile.version(), ranges, thread)
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        data = profile.profile_dicts(ranges, thread)
        with self.lock:
            self.entries[key] = data
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return data


SELECTIONS = SelectionCache()


def selection(profile, start_ns, end_ns, thread):
    """The profile dict of a range and thread (shared: callers must not change it), and its
    duration in seconds."""
    data = SELECTIONS.get(profile, [(start_ns, end_ns)], thread)[0]
    return data, seconds_of(data)


def seconds_of(data):
    return data["meta"]["duration_ns"] / 1e9


def describe_functions(data):
    strings = data["strings"]
    return [{"name": strings[name], "file": strings[file], "first_line": first_line}
            for name, file, first_line in data["functions"]]


def flame(profile, start_ns=None, end_ns=None, thread=None, weight="wall", by_line=False):
    data, seconds = selection(profile, start_ns, end_ns, thread)
    weights = calltree.series(data, weight)
    tree = calltree.call_tree(data, [weights], by_line)
    return {
        "functions": describe_functions(data),
        "nodes": {"parent": tree["parent"], "function": tree["function"], "line": tree["line"],
                  "self": tree["self"][0], "total": tree["total"][0]},
        "weight": weight,
        "seconds": seconds,
        "samples": sum(record[2] for record in data["records"]),
        "start_unix_ns": data["meta"]["start_unix_ns"],
        "duration_ns": data["meta"]["duration_ns"],
    }


def functions(profile, start_ns=None, end_ns=None, thread=None, weight="wall", by_line=False):
    """Rows [function, line, self, total] sorted by self then total, largest first, with the
    grand total (the sum over every stack) for percentages."""
    data, seconds = selection(profile, start_ns, end_ns, thread)
    weights = calltree.series(data, weight)
    sums = calltree.per_function(data, weights, by_line)
    rows = sorted(([function, line, s, t] for (function, line), (s, t) in sums.items()),
                  key=lambda row: (-row[2], -row[3], row[0], row[1]))
    return {
        "functions": describe_functions(data),
        "rows": rows,
        "grand_total": sum(weights.values()),
        "weight": weight,
        "seconds": seconds,
    }


def source(profile, path, start_ns=None, end_ns=None, thread=None, weight="wall"):
    """The stored text of `path` with [line, self, total] per sampled line, or None when the
    profile holds no file of that path (the HTTP layer answers 404: it serves nothing else)."""
    text = profile.source(path)
    if text is None:
        return None
    data, seconds = selection(profile, start_ns, end_ns, thread)
    weights = calltree.series(data, weight)
    lines = []
    if path in data["strings"]:
        sums = calltree.per_line_of_file(data, weights, data["strings"].index(path))
        lines = sorted([line, s, t] for line, (s, t) in sums.items())
    hottest = max(lines, key=lambda row: (row[1], row[2]))[0] if lines else None
    return {"path": path, "text": text, "lines": lines, "hottest_line": hottest,
            "grand_total": sum(weights.values()), "weight": weight, "seconds": seconds}


def diff(profile, base, comparison, thread=None, weight="wall", by_line=False):
    """Baseline and comparison ranges ((start_ns, end_ns) each) merged into one tree whose nodes
    carry both weights, and the functions sorted by the change of their self time per second
    (growth first). Weights are raw; divide by base_seconds / seconds to compare rates."""
    base_data, data = SELECTIONS.get(profile, [base, comparison], thread)
    base_seconds, seconds = seconds_of(base_data), seconds_of(data)
    base_weights = calltree.series(base_data, weight)
    cmp_weights = calltree.series(data, weight)
    tree, (base_sums, cmp_sums) = calltree.analyse(data, [base_weights, cmp_weights], by_line)
    rows = []
    for key in set(base_sums) | set(cmp_sums):
        b = base_sums.get(key, (0, 0))
        c = cmp_sums.get(key, (0, 0))
        change = rate(c[0], seconds) - rate(b[0], base_seconds)
        total_change = rate(c[1], seconds) - rate(b[1], base_seconds)
        rows.append([key[0], key[1], b[0], b[1], c[0], c[1], change, total_change])
    rows.sort(key=lambda row: (-row[6], -row[7], row[0], row[1]))
    return {
        "functions": describe_functions(data),
        "nodes": {"parent": tree["parent"], "function": tree["function"], "line": tree["line"],
                  "base_self": tree["self"][0], "base_total": tree["total"][0],
                  "self": tree["self"][1], "total": tree["total"][1]},
        "rows": rows,
        "base_seconds": base_seconds,
        "seconds": seconds,
        "weight": weight,
    }


def rate(value, seconds):
    return value / seconds if seconds > 0 else 0.0
