"""The export formats, checked by tools we did not write.

One synthetic but realistic profile (build_profile) is exported in every format and read back by
the format's own tools: callgrind_annotate (callgrind, and pstats through pyprof2calltree),
`go tool pprof` (pprof), speedscope's JSON schema from its npm package plus the checks its
importer makes (speedscope), flamegraph.pl's and speedscope's line regexes (collapsed; neither
tool installs from a registry), pstats itself (pstats). Every check compares the tool's totals
and per-function figures with what a small reference computation over the profile says
(Reference). The profile has several threads (two of them with the same stack, and one stack in
two records), direct and mutual recursion, a 200-deep stack, two `helper` functions with the same
first line in two `utils.py` files, a function without a line (-1), non-ASCII names and files, a
name and a path with ';', '%' and spaces, a thread named like "Thread 104" and one with ';', an
empty stack (left out by every format) and stacks without CPU time.

The tools install through scripts/setup-dev.sh: pyprof2calltree and jsonschema from PyPI,
speedscope from npm into build/npm; valgrind's callgrind_annotate and go are the machine's.
A missing tool skips here and fails under CI=true (support.require).
"""
import gzip
import io
import json
import marshal
import os
import pstats
import re
import shutil
import subprocess
import sys
import urllib.parse
from collections import defaultdict

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from support import require  # noqa: E402

from loopscope import exports  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEEDSCOPE_SCHEMA = os.path.join(ROOT, "build", "npm", "node_modules", "speedscope", "dist", "release",
                                 "file-format-schema.json")
PERIOD_NS = 10_000_000

# --- the profile -------------------------------------------------------------------------------

# (name, file, first line)
FUNCTIONS = {
    "module": ("<module>", "/app/server.py", 1),
    "main": ("main", "/app/server.py", 10),
    "handle": ("Server.handle", "/app/server.py", 30),
    "helper_a": ("helper", "/app/pkg_a/utils.py", 5),
    "helper_b": ("helper", "/app/pkg_b/utils.py", 5),
    "fib": ("fib", "/app/server.py", 50),
    "ping": ("ping", "/app/server.py", 60),
    "pong": ("pong", "/app/server.py", 70),
    "deep": ("deep", "/app/server.py", 80),
    "run": ("run", "<frozen runpy>", 88),
    "unicode": ("Klass.método_名前", "/app/ünï/名前.py", 3),
    "odd": ("odd; name with spaces 42", "/app/we;ird dir/100% mod 1.py", 7),
    "noline": ("no_line", "/app/server.py", -1),
    "lambda": ("main.<locals>.<lambda>", "/app/server.py", 20),
    "partial": ("<partial stack>", "<loopscope>", 0),  # the root loopscope puts under a stack read in part
}

THREADS = ["MainThread", "worker-1", "Ünïcødé 線程", "pool; worker 2", "Thread 104"]

# (thread, [(function, line), ... ROOT FIRST], samples, wall_ns, cpu_ns)
RECORDS = [
    ("MainThread", [("module", 40), ("main", 12), ("handle", 33), ("helper_a", 7)], 50, 500_001_234, 410_000_700),
    ("MainThread", [("module", 40), ("main", 12), ("handle", 34), ("helper_b", 8)], 30, 300_000_499, 0),
    ("MainThread", [("module", 40), ("main", 14), ("fib", 52), ("fib", 53), ("fib", 53), ("fib", 55)],
     20, 200_000_500, 190_123_456),
    ("worker-1", [("run", 90), ("main", 13), ("ping", 61), ("pong", 71), ("ping", 62), ("pong", 72)],
     15, 150_000_000, 120_000_001),
    ("worker-1", [("run", 90)] + [("deep", 81)] * 200 + [("deep", 82)], 5, 50_000_000, 49_999_999),
    ("Ünïcødé 線程", [("module", 40), ("unicode", 4)], 12, 120_000_000, 60_000_000),
    ("pool; worker 2", [("module", 40), ("odd", 9), ("noline", -1)], 7, 70_000_000, 7_000_000),
    ("Thread 104", [("module", 40), ("main", 15), ("lambda", 20)], 3, 30_000_000, 0),
    # the same (thread, stack) again: a sum
    ("MainThread", [("module", 40), ("main", 12), ("handle", 33), ("helper_a", 7)], 10, 100_000_000, 90_000_000),
    # the same stack in another thread
    ("worker-1", [("module", 40), ("main", 12), ("handle", 33), ("helper_a", 7)], 4, 40_000_000, 39_999_000),
    # with line numbers off these two merge with stacks above
    ("MainThread", [("module", 40), ("main", 12), ("handle", 35), ("helper_b", 9)], 2, 20_000_000, 1_000),
    # a stack read only in part (torn, or deeper than the engine walks), under loopscope's root
    ("worker-1", [("partial", -1), ("deep", 81), ("deep", 82)], 6, 60_000_000, 59_000_000),
    # a sample without a Python frame: no format shows it
    ("MainThread", [], 9, 90_000_000, 0),
]

META = {"pid": 4242, "hexversion": 0x30B07F0, "period_ns": PERIOD_NS, "start_unix_ns": 1_700_000_000_000_000_000,
        "duration_ns": 5_000_000_000, "command": "python3 /app/server.py --port 8080"}


def build_profile():
    """The profile dict of loopscope._engine.export, interned as loopscope.storage would."""
    strings, functions, frames, stacks = [""], [], [], []
    string_ids, function_ids, frame_ids, stack_ids = {"": 0}, {}, {}, {}

    def string(s):
        if s not in string_ids:
            string_ids[s] = len(strings)
            strings.append(s)
        return string_ids[s]

    def function(key):
        if key not in function_ids:
            name, file, first_line = FUNCTIONS[key]
            function_ids[key] = len(functions)
            functions.append((string(name), string(file), first_line))
        return function_ids[key]

    def frame(key, line):
        f = function(key)
        if (f, line) not in frame_ids:
            frame_ids[(f, line)] = len(frames)
            frames.append((f, line))
        return frame_ids[(f, line)]

    threads = [(1000 + i, 140000 + i, string(name)) for i, name in enumerate(THREADS)]
    records = []
    for thread, chain, samples, wall, cpu in RECORDS:
        leaf_first = tuple(frame(key, line) for key, line in reversed(chain))
        if leaf_first not in stack_ids:
            stack_ids[leaf_first] = len(stacks)
            stacks.append(list(leaf_first))
        records.append((THREADS.index(thread), stack_ids[leaf_first], samples, wall, cpu, samples, samples))
    return {"strings": strings, "functions": functions, "frames": frames, "stacks": stacks, "threads": threads,
            "records": records, "meta": dict(META)}


class Reference:
    """What the exports must say, computed straight from RECORDS (not from the profile dict)."""

    def __init__(self):
        self.records = [r for r in RECORDS if r[1]]
        self.totals = [sum(r[2 + i] for r in self.records) for i in range(3)]  # samples, wall, cpu

    @staticmethod
    def display(key):
        """Function display name: the ambiguous `helper` gets its file and first line."""
        name, file, first = FUNCTIONS[key]
        if sum(1 for other in FUNCTIONS.values() if other[0] == name) > 1:
            return "%s [%s:%d]" % (name, file, first) if first >= 0 else "%s [%s]" % (name, file)
        return name

    def by_stack(self):
        """{root-first chain: [samples, wall_ns, cpu_ns]} over all threads."""
        stacks = defaultdict(lambda: [0, 0, 0])
        for _, chain, *w in self.records:
            for i in range(3):
                stacks[tuple(chain)][i] += w[i]
        return stacks

    def self_by_function(self, index):
        out = defaultdict(int)
        for _, chain, *w in self.records:
            out[chain[-1][0]] += w[index]
        return out

    def inclusive_by_function(self, index):
        """Each function counted once per sample, however often it recurses."""
        out = defaultdict(int)
        for _, chain, *w in self.records:
            for key in {k for k, _ in chain}:
                out[key] += w[index]
        return out

    def self_by_frame(self, index):
        out = defaultdict(int)
        for _, chain, *w in self.records:
            out[chain[-1]] += w[index]
        return out


REF = Reference()


def run(args, **kwargs):
    kwargs.setdefault("timeout", 600)
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, encoding="utf-8", **kwargs)


@pytest.fixture(scope="module")
def profile():
    return build_profile()


def us(ns):
    """Nanoseconds as the callgrind export's microseconds (rounded half up)."""
    return ns // 1000 + (ns % 1000 >= 500)


def callgrind_reference():
    """(totals, self, inclusive): the (samples, wall_us, cpu_us) totals, and the self and
    inclusive costs per function key, in the callgrind export's units: each distinct stack's
    times (all threads together) rounded to microseconds once."""
    stacks = REF.by_stack()
    cost = {chain: (w[0], us(w[1]), us(w[2])) for chain, w in stacks.items()}
    totals = tuple(sum(c[i] for c in cost.values()) for i in range(3))
    self_cost, incl = defaultdict(lambda: [0, 0, 0]), defaultdict(lambda: [0, 0, 0])
    for chain, c in cost.items():
        for i in range(3):
            self_cost[chain[-1][0]][i] += c[i]
            for key in {k for k, _ in chain}:
                incl[key][i] += c[i]
    return totals, self_cost, incl


def weight_total(weight):
    return REF.totals[weight]


def export(profile, fmt, tmp_path, weight=0, lines=True, name=None):
    path = tmp_path / (name or exports.default_filename(fmt, "profile-w%d-%s" % (weight, "lines" if lines else "fn")))
    exports.write_export(fmt, profile, str(path), weight=weight, lines=lines)
    return path


# --- collapsed -----------------------------------------------------------------------------------

FLAMEGRAPH_LINE = re.compile(r"^(.*)\s+?(\d+(?:\.\d*)?)$")  # flamegraph.pl's input regex
SPEEDSCOPE_LINE = re.compile(r"^(.*) (\d+)$")  # speedscope's src/import/bg-flamegraph.ts


def collapsed_reference(weight, lines):
    """{(thread, frame, ...): count} that the collapsed export must give, unescaped."""
    out = defaultdict(int)
    for thread, chain, *w in REF.records:
        frames = [thread]
        for key, line in chain:
            name, file, _ = FUNCTIONS[key]
            frames.append("%s (%s:%d)" % (name, file, line) if lines and line >= 0 else "%s (%s)" % (name, file))
        out[tuple(frames)] += w[weight]
    return {k: v for k, v in out.items() if v}


@pytest.mark.parametrize("lines", [True, False], ids=["lines", "functions"])
@pytest.mark.parametrize("weight", [0, 1, 2], ids=["samples", "wall", "cpu"])
def test_collapsed_reads_back_through_flamegraph_and_speedscope_regexes(profile, tmp_path, weight, lines):
    text = export(profile, "collapsed", tmp_path, weight, lines).read_bytes().decode("utf-8")
    assert text.endswith("\n")
    lines_out = text[:-1].split("\n")
    assert lines_out == sorted(lines_out, key=lambda s: s.encode("utf-8")), "lines not sorted"
    got = {}
    for line in lines_out:
        flame = FLAMEGRAPH_LINE.match(line)
        speed = SPEEDSCOPE_LINE.match(line)
        assert flame and speed, "invalid line %r" % line
        assert flame.group(1) == speed.group(1) and flame.group(2) == speed.group(2)
        # flamegraph.pl reads a second number column if the stack itself ends in blank + number
        assert not FLAMEGRAPH_LINE.match(flame.group(1)), "stack would be misread as differential: %r" % line
        frames = tuple(urllib.parse.unquote(part, errors="strict") for part in flame.group(1).split(";"))
        assert frames not in got, "stack written twice: %r" % line
        got[frames] = int(flame.group(2))
    assert got == collapsed_reference(weight, lines)
    assert sum(got.values()) == weight_total(weight)


def test_collapsed_escapes_separators_and_round_trips(tmp_path):
    names = ["semi;colon", "per%cent", "new\nline", "car\rriage", "tab\tend 12", "ünï 名前"]
    strings = [""] + names + ["/tmp/a;b%c.py", "T;1"]
    profile = {"strings": strings, "functions": [(i + 1, len(names) + 1, 1) for i in range(len(names))],
               "frames": [(i, 2) for i in range(len(names))], "stacks": [list(range(len(names)))],
               "threads": [(1, 1, len(strings) - 1)], "records": [(0, 0, 3, 30, 20, 3, 3)], "meta": {}}
    text = export(profile, "collapsed", tmp_path, 0, True).read_bytes().decode("utf-8")
    assert text.count("\n") == 1
    line = text[:-1]
    assert "\r" not in line and "\n" not in line
    match = SPEEDSCOPE_LINE.match(line)
    assert match and FLAMEGRAPH_LINE.match(line).group(2) == "3"
    frames = [urllib.parse.unquote(part) for part in match.group(1).split(";")]
    assert frames == ["T;1"] + ["%s (/tmp/a;b%%c.py:2)" % n for n in reversed(names)]
    # without a file, a leaf name ending in blank + digits must not lose its digits to the count
    profile["functions"] = [(i + 1, 0, 1) for i in range(len(names))]
    text = export(profile, "collapsed", tmp_path, 0, True, name="nofile.txt").read_bytes().decode("utf-8")
    stack, count = FLAMEGRAPH_LINE.match(text[:-1]).groups()
    assert count == "3" and not FLAMEGRAPH_LINE.match(stack)
    assert urllib.parse.unquote(stack.split(";")[-1]) == "semi;colon"
    assert urllib.parse.unquote(stack.split(";")[1]) == "ünï 名前"


# --- callgrind -----------------------------------------------------------------------------------

ANNOTATE = shutil.which("callgrind_annotate")
ANNOTATE_NUMBER = re.compile(r"\s*([\d,]+|\.)(?: \(\s*[\d.]+%\))?(?=\s)")


def annotate(path, *options):
    require(ANNOTATE, "callgrind_annotate is missing (Debian package valgrind)")
    result = run([ANNOTATE, "--auto=no", "--threshold=100"] + list(options) + [str(path)])
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    return result.stdout


def annotate_table(stdout):
    """(program totals, {file:function: (event, ...)}) from callgrind_annotate's output."""
    totals, rows = None, {}
    for line in stdout.splitlines():
        values, pos = [], 0
        while True:
            match = ANNOTATE_NUMBER.match(line, pos)
            if not match:
                break
            values.append(0 if match.group(1) == "." else int(match.group(1).replace(",", "")))
            pos = match.end()
        label = line[pos:].strip()
        if not values or not label:
            continue
        values = tuple(values)
        if label.startswith("PROGRAM TOTALS"):
            totals = values
        else:
            rows[label] = values
    return totals, rows


def callgrind_key(key):
    name, file, _ = FUNCTIONS[key]
    return "%s:%s" % (file, Reference.display(key))


def parse_callgrind(text):
    """Our own strict reading of a callgrind file: header order, name compression (each id
    defined once), calls, and the per-function self / incoming / outgoing costs."""
    lines = text.split("\n")
    assert lines[0] == "# callgrind format"
    events_at = next(i for i, line in enumerate(lines) if line.startswith("events:"))
    header = lines[:events_at]
    for prefix in ("version: 1", "creator: loopscope", "positions: line", "event: samples"):
        assert any(line.startswith(prefix) for line in header), prefix
    assert all(not line.startswith(("fl=", "fn=", "totals:")) for line in header)
    names = {"fl": {}, "fn": {}}
    space = {"fl": "fl", "fi": "fl", "fe": "fl", "cfl": "fl", "cfi": "fl", "fn": "fn", "cfn": "fn"}
    self_cost, incoming, outgoing = defaultdict(lambda: [0] * 3), defaultdict(lambda: [0] * 3), defaultdict(lambda: [0] * 3)
    file = fn = cfile = cfn = None
    pending_call = None
    totals = None
    for line in lines[events_at + 1:]:
        if not line:
            continue
        match = re.match(r"^(fl|fi|fe|fn|cfl|cfi|cfn)=\((\d+)\)(?: (.*))?$", line)
        if match:
            kind, ident, name = match.groups()
            table = names[space[kind]]
            if name is not None:
                assert ident not in table, "id (%s) of %s defined twice" % (ident, space[kind])
                table[ident] = name
            assert ident in table, "id (%s) used before its definition" % ident
            value = table[ident]
            if kind == "fl":
                file = value
            elif kind == "fn":
                fn = "%s:%s" % (file, value)
            elif kind == "cfl":
                cfile = value
            elif kind == "cfn":
                assert cfile is not None, "cfn= without its own cfl="
                cfn, cfile = "%s:%s" % (cfile, value), None
            continue
        assert not re.match(r"^\w+=", line) or line.startswith("calls="), "unexpected line %r" % line
        if line.startswith("calls="):
            count, target = line[6:].split()
            assert int(count) >= 1 and int(target) >= 0
            pending_call = cfn
            continue
        if line.startswith("totals:"):
            totals = tuple(int(v) for v in line.split()[1:])
            continue
        numbers = [int(v) for v in line.split()]
        assert len(numbers) == 4 and numbers[0] >= 0, line
        target = incoming[pending_call] if pending_call else self_cost[fn]
        for i in range(3):
            target[i] += numbers[1 + i]
            if pending_call:
                outgoing[fn][i] += numbers[1 + i]
        pending_call = None
    assert pending_call is None
    return {"names": names, "self": self_cost, "incoming": incoming, "outgoing": outgoing, "totals": totals}


def test_callgrind_reads_clean_in_callgrind_annotate(profile, tmp_path):
    path = export(profile, "callgrind", tmp_path)
    totals, self_cost, incl = callgrind_reference()

    annotated_totals, exclusive = annotate_table(annotate(path))
    assert annotated_totals == totals
    assert {k: v for k, v in exclusive.items() if any(v)} == {callgrind_key(k): tuple(v) for k, v in self_cost.items()}

    annotated_totals, inclusive = annotate_table(annotate(path, "--inclusive=yes"))
    assert annotated_totals == totals
    expected = {callgrind_key(k): tuple(v) for k, v in incl.items()}
    assert inclusive == expected
    # the top of the inclusive list: the module, main, Server.handle, then helper (pkg_a)
    ranked = sorted(inclusive, key=lambda k: (-inclusive[k][0], k))
    assert ranked[:4] == [callgrind_key(k) for k in ("module", "main", "handle", "helper_a")]
    # recursion counts a sample once: nothing above the total
    assert all(v[i] <= totals[i] for v in inclusive.values() for i in range(3))

    tree = annotate(path, "--inclusive=yes", "--tree=caller")
    assert "< /app/server.py:main (96x)" in tree  # Server.handle's caller, 96 samples
    assert "*  /app/pkg_b/utils.py:helper [/app/pkg_b/utils.py:5]" in tree


def test_callgrind_structure_and_consistency(profile, tmp_path):
    text = export(profile, "callgrind", tmp_path).read_text(encoding="utf-8")
    parsed = parse_callgrind(text)
    totals, self_cost, incl = callgrind_reference()
    assert parsed["totals"] == totals
    assert "cmd: python3 /app/server.py --port 8080" in text and "pid: 4242" in text
    # KCachegrind keys a function by name + file basename: the two utils.py helpers must differ
    fn_names = set(parsed["names"]["fn"].values())
    assert {"helper [/app/pkg_a/utils.py:5]", "helper [/app/pkg_b/utils.py:5]"} <= fn_names
    assert len(fn_names) == len(parsed["names"]["fn"])
    # incoming = self + outgoing for every called function that is not part of a recursion: it
    # appears once in each of its stacks, and the function it calls there is not above it
    recursive = set()
    for _, chain, *_ in REF.records:
        keys = [k for k, _ in chain]
        for i, key in enumerate(keys):
            if keys.count(key) > 1 or (i + 1 < len(keys) and keys[i + 1] in keys[:i]):
                recursive.add(key)
    assert recursive == {"fib", "ping", "pong", "deep"}
    checked = 0
    for key in FUNCTIONS:
        name = callgrind_key(key)
        if key in recursive or name not in parsed["incoming"]:
            continue
        expected = [parsed["self"][name][i] + parsed["outgoing"][name][i] for i in range(3)]
        assert parsed["incoming"][name] == expected, key
        checked += 1
    assert checked == 8
    # a called function's inclusive cost (its incoming calls) counts each sample once
    for key in ("fib", "ping", "pong", "deep"):
        assert parsed["incoming"][callgrind_key(key)] == incl[key]


def test_callgrind_without_lines_puts_costs_on_first_lines(profile, tmp_path):
    path = export(profile, "callgrind", tmp_path, lines=False)
    text = path.read_text(encoding="utf-8")
    totals, self_cost, incl = callgrind_reference()
    assert annotate_table(annotate(path, "--inclusive=yes"))[1] == {callgrind_key(k): tuple(v) for k, v in incl.items()}
    block = text.split("\nfn=(%d)" % (list(FUNCTIONS).index("helper_b") + 1))[1].split("\nfl=")[0]
    assert "\n5 32 " in block  # both lines of helper (pkg_b) on its first line, 30 + 2 samples


# --- pprof ---------------------------------------------------------------------------------------

def go_binary():
    return shutil.which("go") or next((p for p in ("/usr/local/go/bin/go", "/usr/lib/go/bin/go") if os.access(p, os.X_OK)),
                                      None)


@pytest.fixture(scope="module")
def pprof_tool():
    """The path of `go tool pprof` (built into the go cache on first use, offline)."""
    go = go_binary()
    require(go, "go is missing (it gives `go tool pprof`)")
    result = run([go, "tool", "-n", "pprof"], timeout=900)
    require(result.returncode == 0, "go tool -n pprof failed: %s" % result.stderr)
    return result.stdout.strip()


def pprof(tool, path, *options):
    result = run([tool, "-symbolize=none", "-nodefraction=0", "-edgefraction=0"] + list(options) + [str(path)])
    assert result.returncode == 0, result.stderr
    return result.stdout


# pprof prints a tiny share in exponent form ("9.7e-05%")
PPROF_ROW = re.compile(r"^\s*(\d+)(?:ns)?\s+[\d.e+-]+%\s+[\d.e+-]+%\s+(\d+)(?:ns)?\s+[\d.e+-]+%\s+(.*)$")


def pprof_top(stdout):
    total = re.search(r"Showing nodes accounting for (\d+)(?:ns)?, 100% of (\d+)(?:ns)? total", stdout)
    assert total and total.group(1) == total.group(2), stdout
    rows = {}
    for line in stdout.splitlines():
        match = PPROF_ROW.match(line)
        if match:
            rows[match.group(3)] = (int(match.group(1)), int(match.group(2)))
    return int(total.group(1)), rows


def frame_label(key, line):
    name, file, _ = FUNCTIONS[key]
    return "%s %s:%d" % (Reference.display(key), file, line) if line > 0 else "%s %s" % (Reference.display(key), file)


@pytest.mark.parametrize("weight", [0, 1, 2], ids=["samples", "wall", "cpu"])
def test_pprof_top_matches_our_totals(profile, tmp_path, pprof_tool, weight):
    path = export(profile, "pprof", tmp_path, weight)
    sample_index = ["samples", "wall", "cpu"][weight]
    # the weight picks the default sample type; -sample_index picks any
    for options in ([], ["-sample_index=%s" % sample_index]):
        out = pprof(pprof_tool, path, "-top", "-unit=ns", *options)
        assert "Type: %s" % sample_index in out
        total, rows = pprof_top(out)
        assert total == weight_total(weight)
        flat, cum = REF.self_by_function(weight), REF.inclusive_by_function(weight)
        assert rows == {Reference.display(k): (flat.get(k, 0), cum[k]) for k in cum if cum[k] or flat.get(k)}


def test_pprof_lines_traces_and_header(profile, tmp_path, pprof_tool):
    path = export(profile, "pprof", tmp_path)
    with gzip.open(str(path)) as f:
        assert f.read(2)  # gzipped, as pprof files are
    total, rows = pprof_top(pprof(pprof_tool, path, "-top", "-lines"))
    assert total == REF.totals[0]
    flat = REF.self_by_frame(0)
    cum = defaultdict(int)
    for _, chain, samples, *_ in REF.records:
        for frame in set(chain):
            cum[frame] += samples
    assert rows == {frame_label(*frame): (flat.get(frame, 0), cum[frame]) for frame in cum}

    traces = pprof(pprof_tool, path, "-traces")
    for thread in THREADS:
        assert "thread:  %s\n" % thread in traces
    raw = pprof(pprof_tool, path, "-raw")
    assert "samples/count[dflt] wall/nanoseconds cpu/nanoseconds" in raw
    assert "PeriodType: wall nanoseconds" in raw and "Period: %d" % PERIOD_NS in raw
    assert "Duration: 5s" in raw and "Time: 2023-11-14 22:13:20 +0000 UTC" in raw
    assert "Comment: python3 /app/server.py --port 8080" in raw


def test_pprof_without_lines_has_one_location_per_function(profile, tmp_path, pprof_tool):
    path = export(profile, "pprof", tmp_path, lines=False)
    total, rows = pprof_top(pprof(pprof_tool, path, "-top", "-lines"))
    assert total == REF.totals[0]
    flat, cum = REF.self_by_function(0), REF.inclusive_by_function(0)
    assert rows == {frame_label(k, FUNCTIONS[k][2]): (flat.get(k, 0), cum[k]) for k in cum}


# --- speedscope ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def speedscope_schema():
    require(os.path.exists(SPEEDSCOPE_SCHEMA),
            "speedscope's schema is missing (npm install --prefix build/npm speedscope: scripts/setup-dev.sh)")
    try:
        import jsonschema
    except ImportError:
        require(False, "jsonschema is missing (pip install jsonschema)")
    with open(SPEEDSCOPE_SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    return jsonschema.Draft7Validator(schema)


def check_speedscope(validator, document):
    """The schema, then what speedscope's importer checks and the schema does not."""
    errors = sorted(validator.iter_errors(document), key=str)
    assert not errors, [e.message for e in errors]
    frames = document["shared"]["frames"]
    assert document["profiles"]
    assert 0 <= document.get("activeProfileIndex", 0) < len(document["profiles"])
    for prof in document["profiles"]:
        assert prof["type"] == "sampled" and prof["unit"] == "nanoseconds"
        assert len(prof["samples"]) == len(prof["weights"])
        assert all(isinstance(w, int) and w >= 0 for w in prof["weights"])
        assert all(0 <= i < len(frames) and isinstance(i, int) for stack in prof["samples"] for i in stack)
        assert prof["startValue"] == 0 and prof["endValue"] == sum(prof["weights"])


@pytest.mark.parametrize("lines", [True, False], ids=["lines", "functions"])
@pytest.mark.parametrize("weight", [0, 1, 2], ids=["samples", "wall", "cpu"])
def test_speedscope_validates_against_its_schema(profile, tmp_path, speedscope_schema, weight, lines):
    raw = export(profile, "speedscope", tmp_path, weight, lines).read_bytes()
    document = json.loads(raw.decode("utf-8"))
    check_speedscope(speedscope_schema, document)
    assert document["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    assert document["exporter"] == "loopscope@0.1.0" and document["activeProfileIndex"] == 0
    index = 2 if weight == 2 else 1  # nanoseconds: wall, or cpu
    frames = document["shared"]["frames"]
    got = defaultdict(int)
    for prof in document["profiles"]:
        for stack, w in zip(prof["samples"], prof["weights"]):
            got[(prof["name"],) + tuple((frames[i]["name"], frames[i]["file"], frames[i].get("line")) for i in stack)] += w
    expected = defaultdict(int)
    for thread, chain, *w in REF.records:
        if w[index]:
            key = tuple((FUNCTIONS[k][0], FUNCTIONS[k][1], (line if lines else FUNCTIONS[k][2])) for k, line in chain)
            expected[(thread,) + tuple((n, f, None if line < 0 else line) for n, f, line in key)] += w[index]
    assert dict(got) == dict(expected)
    assert sum(p["endValue"] for p in document["profiles"]) == REF.totals[index]


def test_speedscope_json_escaping(tmp_path, speedscope_schema):
    names = ['quo"te', "back\\slash", "new\nline\ttab", "ctl\x01\x1f\x7f", "line\u2028sep", "émoji 😀 名前", "<lambda>"]
    strings = [""] + names + ["/tmp/ü \"x\".py", 'thread "1"\n']
    profile = {"strings": strings, "functions": [(i + 1, len(names) + 1, i) for i in range(len(names))],
               "frames": [(i, 2 * i) for i in range(len(names))], "stacks": [list(range(len(names)))],
               "threads": [(1, 1, len(strings) - 1)], "records": [(0, 0, 3, 30, 20, 3, 3)], "meta": {"command": "a\"b\\c"}}
    raw = export(profile, "speedscope", tmp_path).read_bytes()
    document = json.loads(raw.decode("utf-8", errors="strict"))
    check_speedscope(speedscope_schema, document)
    assert [f["name"] for f in document["shared"]["frames"]] == names
    assert {f["file"] for f in document["shared"]["frames"]} == {"/tmp/ü \"x\".py"}
    assert document["profiles"][0]["name"] == 'thread "1"\n' and document["name"] == "a\"b\\c"
    assert document["profiles"][0]["samples"] == [list(reversed(range(len(names))))]


# --- pstats --------------------------------------------------------------------------------------

def pstats_key(key):
    name, file, first = FUNCTIONS[key]
    return (file, max(first, 0), name)


@pytest.mark.parametrize("weight", [0, 1, 2], ids=["samples", "wall", "cpu"])
def test_pstats_loads_and_adds_up(profile, tmp_path, weight):
    path = export(profile, "pstats", tmp_path, weight)
    stream = io.StringIO()
    stats = pstats.Stats(str(path), stream=stream)
    stats.sort_stats("cumulative").print_stats()
    stats.print_callers()
    stats.print_callees()
    assert "function calls in" in stream.getvalue()
    seconds = [lambda w: w[0] * PERIOD_NS / 1e9, lambda w: w[1] / 1e9, lambda w: w[2] / 1e9][weight]
    assert stats.total_tt == pytest.approx(seconds(REF.totals))
    raw = marshal.loads(path.read_bytes())
    assert raw == exports.pstats_dict(profile, weight)
    index = weight
    tt, ct = REF.self_by_function(index), REF.inclusive_by_function(index)
    nc = REF.inclusive_by_function(0)
    scale = PERIOD_NS / 1e9 if weight == 0 else 1e-9
    assert set(raw) == {pstats_key(k) for k in ct}
    for key in ct:
        cc_, nc_, tt_, ct_, callers = raw[pstats_key(key)]
        assert cc_ == nc_ == max(nc[key], 1)
        assert tt_ == pytest.approx(tt.get(key, 0) * scale) and ct_ == pytest.approx(ct[key] * scale)
        for caller, (c_nc, c_cc, c_tt, c_ct) in callers.items():
            assert caller in raw, "caller %r is not an entry" % (caller,)
            assert c_nc == c_cc >= 1
        if callers:  # the callers' shares add up to the callee's own figures
            assert sum(c[3] for c in callers.values()) == pytest.approx(ct_)
            assert sum(c[2] for c in callers.values()) == pytest.approx(tt_)
            assert sum(c[0] for c in callers.values()) == nc_


def test_pstats_through_pyprof2calltree_and_callgrind_annotate(profile, tmp_path):
    converter = shutil.which("pyprof2calltree", path=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    require(converter, "pyprof2calltree is missing (pip install pyprof2calltree)")
    path = export(profile, "pstats", tmp_path)
    out = tmp_path / "converted.callgrind"
    result = run([converter, "-i", str(path), "-o", str(out)])
    assert result.returncode == 0, result.stderr
    _, exclusive = annotate_table(annotate(out))
    ns = PERIOD_NS
    self_samples = REF.self_by_function(0)
    assert sum(v[0] for v in exclusive.values()) == pytest.approx(REF.totals[0] * ns, abs=len(FUNCTIONS))
    _, inclusive = annotate_table(annotate(out, "--inclusive=yes"))
    incl = REF.inclusive_by_function(0)
    for key in ("main", "handle", "fib", "ping", "deep", "helper_a", "helper_b"):
        name, file, _ = FUNCTIONS[key]
        assert inclusive["%s:%s" % (file, name)][0] == pytest.approx(incl[key] * ns, abs=2), key
        assert exclusive["%s:%s" % (file, name)][0] == pytest.approx(self_samples.get(key, 0) * ns, abs=2), key


# --- all formats ---------------------------------------------------------------------------------

def empty_profile():
    return {"strings": [""], "functions": [], "frames": [], "stacks": [[]], "threads": [(1, 1, 0)],
            "records": [(0, 0, 5, 50, 0, 0, 0)], "meta": {}}


def test_empty_profile_writes_valid_files(tmp_path, speedscope_schema, pprof_tool):
    profile = empty_profile()
    assert export(profile, "collapsed", tmp_path).read_bytes() == b""
    text = export(profile, "callgrind", tmp_path).read_text()
    assert parse_callgrind(text)["totals"] == (0, 0, 0)
    annotate(export(profile, "callgrind", tmp_path))
    check_speedscope(speedscope_schema, json.loads(export(profile, "speedscope", tmp_path).read_text()))
    raw = pprof(pprof_tool, export(profile, "pprof", tmp_path), "-raw")
    assert "samples/count[dflt] wall/nanoseconds cpu/nanoseconds" in raw
    stats = pstats.Stats(str(export(profile, "pstats", tmp_path)), stream=io.StringIO())
    assert stats.total_tt == 0 and list(stats.stats) == [exports.EMPTY_PSTATS_KEY]


@pytest.mark.parametrize("fmt", exports.FORMATS)
def test_exports_are_deterministic_and_take_file_objects(profile, fmt):
    first, second = io.BytesIO(), io.BytesIO()
    assert exports.write_export(fmt, profile, first) == len(first.getvalue()) > 0
    exports.write_export(fmt, build_profile(), second)
    assert first.getvalue() == second.getvalue()


def test_bad_arguments():
    with pytest.raises(ValueError):
        exports.export_bytes("svg", build_profile())
    with pytest.raises(ValueError):
        exports.export_bytes("collapsed", build_profile(), weight="bytes")
    assert exports.default_filename("pprof", "x") == "x.pb.gz"
    assert set(exports.EXTENSIONS) == set(exports.FORMATS)
    assert exports.export_bytes("collapsed", build_profile(), weight="cpu") == exports.export_bytes(
        "collapsed", build_profile(), weight=2)
