"""Line-table decoders against CPython itself, on every standard-library code object.

For each CPython on this machine (pyenv 3.8 .. 3.13 and Debian's /usr/bin/python3.11),
tools/dump_code_tables.py runs under that interpreter and records every code object's raw line
table together with CPython's PyCode_Addr2Line answer at every instruction offset (and
co_lines() on 3.10+). The checks, per interpreter and per code object:

(a) the pure-Python reference (tests/reference/linetable.py) answers like PyCode_Addr2Line at
    every offset, including -1 (a frame that has not started);
(b) the C decoder (loopscope._engine.linetable_decode) returns exactly the reference's ranges,
    and both reject the same corrupted tables;
(c) on 3.10+, the ranges are co_lines() once units are mapped and adjacent equal lines merged.

A missing interpreter is a skip on a developer machine and a failure in CI (tests/support.py).
The dumps run once per session, in parallel, into pytest's temporary directory.
"""

import concurrent.futures
import marshal
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.reference import linetable as ref  # noqa: E402
from tests.support import require, supported_interpreters  # noqa: E402

DUMP_TOOL = ROOT / "tools" / "dump_code_tables.py"
DUMP_TIMEOUT = 600  # seconds, per interpreter

# [(test id, interpreter path or None when this machine lacks it)]: 3.8 .. 3.13, debian-3.11
TARGETS = supported_interpreters()

MUTATIONS_PER_TARGET = 3000  # corrupted tables fed to both decoders in (b)


class CodeTableDumps:
    """Runs tools/dump_code_tables.py under each wanted interpreter, at most cpu_count at a time,
    in the order of TARGETS, and hands out the output paths as they are ready."""

    def __init__(self, directory, wanted):
        self.directory = directory
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1))
        self.futures = {}
        for name, python in TARGETS:
            if name in wanted and python:
                self.futures[name] = self.pool.submit(self._dump, name, python)

    def _dump(self, name, python):
        out = self.directory / ("%s.marshal" % name)
        proc = subprocess.run(
            [python, str(DUMP_TOOL), str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=DUMP_TIMEOUT,
        )
        return python, out, proc.returncode, proc.stdout.decode(errors="replace")

    def get(self, name):
        """(interpreter, path to its dump); skips or fails when the interpreter is missing."""
        require(name in self.futures, "no CPython %s found on this machine" % name)
        python, out, returncode, output = self.futures[name].result()
        assert returncode == 0, "%s %s failed (%d):\n%s" % (python, DUMP_TOOL.name, returncode, output)
        return python, out

    def close(self):
        for future in self.futures.values():
            future.cancel()
        self.pool.shutdown(wait=True)


@pytest.fixture(scope="session")
def code_table_dumps(request, tmp_path_factory):
    wanted = {
        item.callspec.params["target"]
        for item in request.session.items
        if hasattr(item, "callspec") and "target" in item.callspec.params
    }
    dumps = CodeTableDumps(tmp_path_factory.mktemp("code_tables"), wanted)
    yield dumps
    dumps.close()


@pytest.fixture(scope="module", params=[name for name, _ in TARGETS])
def target(request):
    return request.param


class Dump:
    """One interpreter's records, each with the reference's decoding of its table."""

    def __init__(self, python, path):
        with open(str(path), "rb") as f:
            self.header, self.records = marshal.load(f)
        self.python = python
        self.ranges = [ref.decode(kind, table, first) for _, kind, table, first, *_ in self.records]

    def describe(self):
        return "%s (%s)" % (self.python, self.header["version"].split()[0])


@pytest.fixture(scope="module")
def dump(target, code_table_dumps):
    # Module scope with a parametrized `target` makes pytest run all checks of one interpreter
    # together, so each dump is loaded and decoded once.
    return Dump(*code_table_dumps.get(target))


def report(capsys, message):
    with capsys.disabled():
        print("\n  " + message, end="")


def expand_answers(runs):
    """[count, line, count, line, ...] -> one line per instruction offset."""
    out = []
    for i in range(0, len(runs), 2):
        out.extend([runs[i + 1]] * runs[i])
    return out


def merged(ranges):
    """Drop empty ranges and merge adjacent ranges with the same line (the decoders' rule)."""
    out = []
    for start, end, line in ranges:
        if end <= start:
            continue
        if out and out[-1][1] == start and out[-1][2] == line:
            out[-1] = (out[-1][0], end, line)
        else:
            out.append((start, end, line))
    return out


def test_reference_matches_cpython(dump, capsys):
    """(a) reference lookup == PyCode_Addr2Line at every even byte offset and at -1."""
    lookup = ref.lookup
    offsets = 0
    mismatches = []
    for record, ranges in zip(dump.records, dump.ranges):
        label, kind, _, first, code_len, neg, runs, _ = record
        answers = expand_answers(runs)
        # kinds 1 and 2 are keyed in bytes; kind 3 in code units (byte offset // 2)
        shift = 0 if kind == ref.KIND_LOCATIONS else 1
        assert len(answers) == (code_len if kind == ref.KIND_LOCATIONS else code_len // 2), label
        if not lookup(ranges, -1, first) == neg == first:  # a frame that has not started
            mismatches.append((label, -1, neg, lookup(ranges, -1, first)))
        for i, want in enumerate(answers):
            got = lookup(ranges, i << shift, first)
            if got != want:
                mismatches.append((label, 2 * i, want, got))
        offsets += len(answers) + 1
    report(
        capsys,
        "%s: %d code objects, %d offsets, %d mismatches"
        % (dump.describe(), len(dump.records), offsets, len(mismatches)),
    )
    assert not mismatches, "first mismatches (label, byte offset, cpython, reference): %r" % mismatches[:10]


def corrupt(rng, table):
    """A damaged copy of `table`: a byte changed, inserted or removed, or the table cut short."""
    table = bytearray(table)
    how = rng.randrange(4)
    if how == 0 and table:
        table[rng.randrange(len(table))] = rng.randrange(256)
    elif how == 1:
        table.insert(rng.randrange(len(table) + 1), rng.randrange(256))
    elif how == 2 and table:
        del table[rng.randrange(len(table))]
    else:
        del table[rng.randrange(len(table) + 1) :]
    return bytes(table)


def decode_or_error(decoder, kind, table, first):
    try:
        return decoder(kind, table, first)
    except ValueError:
        return "bad line table"


def test_c_decoder_matches_reference(dump, target, capsys):
    """(b) the C decoder's ranges == the reference's, for every real table and for corrupted
    copies of a sample (where both must also agree on rejecting)."""
    try:
        from loopscope import _engine
    except ImportError as exc:
        require(False, "loopscope._engine is not built (%s)" % exc)
    mismatches = []
    for record, ranges in zip(dump.records, dump.ranges):
        label, kind, table, first = record[:4]
        got = _engine.linetable_decode(kind, table, first)
        if [tuple(r) for r in got] != ranges:
            mismatches.append(label)
    rng = random.Random("linetable-" + target)
    rejected = 0
    for _ in range(MUTATIONS_PER_TARGET):
        label, kind, table, first = rng.choice(dump.records)[:4]
        bad = corrupt(rng, table)
        want = decode_or_error(ref.decode, kind, bad, first)
        got = decode_or_error(_engine.linetable_decode, kind, bad, first)
        if not isinstance(got, str):
            got = [tuple(r) for r in got]
        rejected += isinstance(want, str)
        if got != want:
            mismatches.append("%s corrupted to %s" % (label, bad.hex()))
    report(
        capsys,
        "%s: %d tables and %d corrupted copies (%d rejected) through the C decoder, %d mismatches"
        % (dump.describe(), len(dump.records), MUTATIONS_PER_TARGET, rejected, len(mismatches)),
    )
    assert not mismatches, "C decoder differs from the reference on: %r" % mismatches[:10]


def test_ranges_match_co_lines(dump, capsys):
    """(c) on 3.10+, the decoded ranges are co_lines() (bytes, None = no line), merged."""
    if dump.header["kind"] == ref.KIND_LNOTAB:
        pytest.skip("co_lines() exists from 3.10")
    mismatches = []
    for record, ranges in zip(dump.records, dump.ranges):
        label, kind, lines = record[0], record[1], record[7]
        scale = 2 if kind == ref.KIND_LOCATIONS else 1
        want = merged((s, e, ref.LINE_NONE if line is None else line) for s, e, line in lines)
        got = [(s * scale, e * scale, line) for s, e, line in ranges]
        if got != want:
            mismatches.append((label, want, got))
    report(capsys, "%s: %d code objects checked against co_lines()" % (dump.describe(), len(dump.records)))
    assert not mismatches, "first mismatches (label, co_lines, reference): %r" % mismatches[:3]
