"""The profile file (loopscope.storage), on real SQLite files.

A small recording is written window by window; what is read back must be what went in: the
interned tables, the windows, and the sums of any range and thread, checked against sums computed
here record by record (also with tiny rollup buckets so that every kind of bucket and its edges
take part). A writer killed with SIGKILL must leave a readable file with every window it
committed, a reader must see consistent sums while the writer writes, and files that are not
profiles must be refused with a message that says why.
"""
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import loopscope
from loopscope.storage import SCHEMA_VERSION, Profile, ProfileError, ProfileWriter, timespec
from loopscope.storage import writer as writer_module

START = 1_700_000_000 * 10**9
SECOND = 10**9
MAIN, WORKER = 0, 1

INTERNED = {
    "strings": [(0, ""), (1, "main"), (2, "/app/main.py"), (3, "work"), (4, "/app/lib.py"), (5, "idle"),
                (6, "unused"), (7, "/app/unused.py")],
    "functions": [(0, 1, 2, 1), (1, 3, 4, 10), (2, 5, 4, 30), (3, 6, 7, 1)],
    "frames": [(0, 0, 5), (1, 1, 12), (2, 1, 14), (3, 2, 31), (4, 3, 2)],
    "stacks": [(0, [1, 0]), (1, [2, 0]), (2, [3]), (3, [4])],
    "threads": [(MAIN, 100, 2**63 + 5, "MainThread"), (WORKER, 101, 7, "worker")],
}


def make_meta(**extra):
    meta = {"command": ["python", "app.py", "--port", "80 80"], "pid": 4242, "python_version": "3.11.7",
            "hexversion": 0x30B07F0, "rate_hz": 100, "window_s": 1.0, "mode": "run", "start_unix_ns": START,
            "loopscope_version": "0.1.0", "host": "testhost"}
    meta.update(extra)
    return meta


def records_for(index):
    """The records of window `index`: the main thread in stacks 0 and 1, the worker in stack 2 on
    even windows; weights vary with the index so that every range has its own sums."""
    records = [(MAIN, 0, index % 7 + 1, (index % 7 + 1) * 10, index, 1, 1), (MAIN, 1, 2, 20, 3, 0, 2)]
    if index % 2 == 0:
        records.append((WORKER, 2, 3, 30, 5 * index, 3, 0))
    return records


def make_window(index, records=None):
    return {"index": index, "start_unix_ns": START + index * SECOND, "end_unix_ns": START + (index + 1) * SECOND,
            "samples": 100 + index, "late": index % 3, "failed": index % 2, "process_cpu_ns": 1000 * index,
            "records": records_for(index) if records is None else records}


def expected_records(indices, threads=(MAIN, WORKER)):
    """{(thread, stack): [samples, wall_ns, cpu_ns, on_cpu, gil]} summed over windows `indices`."""
    sums = {}
    for index in indices:
        for thread, stack, *weights in records_for(index):
            if thread in threads:
                have = sums.setdefault((thread, stack), [0] * 5)
                for i, w in enumerate(weights):
                    have[i] += w
    return sums


def records_by_original_ids(d):
    """The records of a profile dict keyed by the original (thread native id, leaf line) so that
    they compare across renumbering: native ids 100/101 are threads 0/1, and each stack has its own
    leaf line (12, 14, 31)."""
    native_to_thread = {100: MAIN, 101: WORKER}
    leaf_line_to_stack = {12: 0, 14: 1, 31: 2, 2: 3}
    result = {}
    for thread, stack, *weights in d["records"]:
        leaf_line = d["frames"][d["stacks"][stack][0]][1]
        result[(native_to_thread[d["threads"][thread][0]], leaf_line_to_stack[leaf_line])] = weights
    return result


def write_profile(path, windows, close=True, **kwargs):
    writer = ProfileWriter(path, make_meta(), read_sources=False, **kwargs)
    writer.add_interned(INTERNED)
    for index in windows:
        writer.add_window(make_window(index))
    if close:
        writer.close(START + (max(windows) + 1) * SECOND if windows else START)
    return writer


def check_export_shape(d):
    """The rules _engine.export() applies to its input, and density: every item is used."""
    assert set(d) == {"strings", "functions", "frames", "stacks", "threads", "records", "meta",
                      "stack_offsets", "stack_frames"}
    offsets, flat = d["stack_offsets"], d["stack_frames"]
    assert [flat[offsets[i]:offsets[i + 1]].tolist() for i in range(len(offsets) - 1)] == d["stacks"]
    strings, functions, frames, stacks, threads, records = (
        d["strings"], d["functions"], d["frames"], d["stacks"], d["threads"], d["records"])
    assert strings[0] == "" and len(set(strings)) == len(strings)
    assert len(set(functions)) == len(functions) and len(set(frames)) == len(frames)
    assert len({tuple(s) for s in stacks}) == len(stacks)
    assert all(name < len(strings) and file < len(strings) for name, file, _ in functions)
    assert all(fn < len(functions) for fn, _ in frames)
    assert all(0 <= f < len(frames) for s in stacks for f in s)
    assert all(name < len(strings) for _, _, name in threads)
    assert all(len(r) == 7 and r[0] < len(threads) and r[1] < len(stacks) for r in records)
    assert len({(r[0], r[1]) for r in records}) == len(records)
    used_strings = {0} | {s for name, file, _ in functions for s in (name, file)} | {t[2] for t in threads}
    assert used_strings == set(range(len(strings)))
    assert {fn for fn, _ in frames} == set(range(len(functions)))
    assert {f for s in stacks for f in s} == set(range(len(frames)))
    assert {r[1] for r in records} == set(range(len(stacks)))
    assert {r[0] for r in records} == set(range(len(threads)))
    assert set(d["meta"]) == {"pid", "hexversion", "period_ns", "start_unix_ns", "duration_ns", "command"}


def try_engine_export(d):
    """The collapsed export of d, or None when the engine or its collapsed writer is not there."""
    try:
        from loopscope import _engine
    except ImportError:
        return None
    try:
        return _engine.export("collapsed", d)
    except RuntimeError as e:
        if "invalid argument" in str(e):
            return None  # the collapsed writer is still a placeholder
        raise


# --- round trip ---

def test_meta_windows_threads_and_tables_round_trip(tmp_path):
    path = tmp_path / "run.lsp"
    write_profile(path, range(3))
    with Profile(path) as profile:
        meta = profile.meta
        assert meta["command"] == ["python", "app.py", "--port", "80 80"]
        assert (meta["pid"], meta["rate_hz"], meta["mode"], meta["host"]) == (4242, 100, "run", "testhost")
        assert meta["start_unix_ns"] == START and meta["end_unix_ns"] == START + 3 * SECOND
        assert profile.time_range() == (START, START + 3 * SECOND)
        assert profile.windows() == [
            {"index": i, "start_unix_ns": START + i * SECOND, "end_unix_ns": START + (i + 1) * SECOND,
             "samples": 100 + i, "late": i % 3, "failed": i % 2, "process_cpu_ns": 1000 * i} for i in range(3)]
        assert profile.threads() == [{"id": 0, "native_id": 100, "thread_id": 2**63 + 5, "name": "MainThread"},
                                     {"id": 1, "native_id": 101, "thread_id": 7, "name": "worker"}]
        d = profile.profile_dict()
    # Everything but the unused function (and its strings, frame and stack) is kept, in id order.
    assert d["strings"] == ["", "main", "/app/main.py", "work", "/app/lib.py", "idle", "MainThread", "worker"]
    assert d["functions"] == [(1, 2, 1), (3, 4, 10), (5, 4, 30)]
    assert d["frames"] == [(0, 5), (1, 12), (1, 14), (2, 31)]
    assert d["stacks"] == [[1, 0], [2, 0], [3]]
    assert d["threads"] == [(100, 2**63 + 5, 6), (101, 7, 7)]
    expected = expected_records(range(3))
    assert d["records"] == [key + tuple(expected[key]) for key in sorted(expected)]
    assert d["meta"] == {"pid": 4242, "hexversion": 0x30B07F0, "period_ns": 10**7, "start_unix_ns": START,
                         "duration_ns": 3 * SECOND, "command": "python app.py --port '80 80'"}
    check_export_shape(d)


def test_extra_meta_is_kept_and_missing_meta_is_refused(tmp_path):
    write_profile(tmp_path / "a.lsp", [0]).close()
    writer = ProfileWriter(tmp_path / "b.lsp", make_meta(cwd="/srv", tags={"env": "prod"}))
    writer.close()
    assert Profile(tmp_path / "b.lsp").meta["tags"] == {"env": "prod"}
    meta = make_meta()
    del meta["rate_hz"], meta["pid"]
    with pytest.raises(ValueError, match="lacks pid, rate_hz"):
        ProfileWriter(tmp_path / "c.lsp", meta)


def test_records_of_one_stack_in_a_window_are_summed(tmp_path):
    path = tmp_path / "dup.lsp"
    writer = ProfileWriter(path, make_meta(), read_sources=False)
    writer.add_interned(INTERNED)
    writer.add_window(make_window(0, [(MAIN, 0, 1, 10, 100, 1, 0), (MAIN, 0, 2, 20, 200, 0, 1)]))
    writer.close()
    assert Profile(path).profile_dict()["records"] == [(0, 0, 3, 30, 300, 1, 1)]


def test_window_indices_must_increase_and_a_failed_window_leaves_nothing(tmp_path):
    path = tmp_path / "order.lsp"
    writer = write_profile(path, [0, 1], close=False)
    with pytest.raises(ValueError, match="window 1 comes after window 1"):
        writer.add_window(make_window(1))
    with pytest.raises(ProfileError, match="cannot write profile"):
        writer.add_window(make_window(2, [(MAIN, 0, 1)]))  # a record without its weights
    writer.add_window(make_window(3))
    writer.close()
    profile = Profile(path)
    assert [w["index"] for w in profile.windows()] == [0, 1, 3]
    assert records_by_original_ids(profile.profile_dict()) == expected_records([0, 1, 3])


def test_existing_file_is_kept_unless_overwritten(tmp_path):
    path = tmp_path / "run.lsp"
    write_profile(path, [0])
    with pytest.raises(ProfileError, match="the file exists"):
        ProfileWriter(path, make_meta())
    write_profile(path, [0, 1, 2], overwrite=True)
    assert len(Profile(path).windows()) == 3
    empty = tmp_path / "empty.lsp"
    empty.write_bytes(b"")
    write_profile(empty, [0])  # an empty file is no profile to lose
    assert len(Profile(empty).windows()) == 1


def test_a_closed_profile_is_one_self_contained_file(tmp_path):
    path = tmp_path / "run.lsp"
    write_profile(path, range(5))
    assert sorted(os.listdir(tmp_path)) == ["run.lsp"]
    with Profile(path) as profile:
        assert len(profile.windows()) == 5
        assert sorted(os.listdir(tmp_path)) == ["run.lsp"]  # reading adds no -wal or -shm either


def test_a_profile_closed_under_a_reader_has_everything_in_its_file(tmp_path):
    path = tmp_path / "run.lsp"
    writer = write_profile(path, range(5), close=False)
    with Profile(path) as profile:
        writer.close(START + 5 * SECOND)
        assert len(profile.windows()) == 5
        copy = tmp_path / "copy" / "run.lsp"
        copy.parent.mkdir()
        copy.write_bytes(path.read_bytes())  # the file alone, without its -wal
    with Profile(copy) as profile:
        assert len(profile.windows()) == 5 and profile.time_range() == (START, START + 5 * SECOND)


# --- sums over ranges and threads ---

@pytest.mark.parametrize("closed", [False, True], ids=["live", "closed"])
def test_sums_over_ranges_match_the_windows_with_tiny_rollup_buckets(tmp_path, monkeypatch, closed):
    monkeypatch.setattr(writer_module, "ROLLUP_SIZES", (2, 6, 12, 36))
    windows = [i for i in range(100) if i not in (17, 40, 41, 42, 43)]  # with gaps
    path = tmp_path / "ranges.lsp"
    writer = write_profile(path, windows, close=closed)
    profile = Profile(path)
    assert profile.meta["rollup_sizes"] == [2, 6, 12, 36]
    rng = random.Random(7)
    ranges = [(0, 100), (0, 1), (99, 100), (17, 18), (40, 44), (5, 95)]
    ranges += [tuple(sorted(rng.sample(range(101), 2))) for _ in range(120)]
    for first, end in ranges:
        d = profile.profile_dict(START + first * SECOND, START + end * SECOND)
        selected = [i for i in windows if first <= i < end]
        assert records_by_original_ids(d) == expected_records(selected), (first, end)
        if selected:
            assert d["meta"]["start_unix_ns"] == START + selected[0] * SECOND
            assert d["meta"]["duration_ns"] == (selected[-1] + 1 - selected[0]) * SECOND
        else:
            assert d["records"] == [] and d["meta"]["duration_ns"] == 0
        if d["records"]:
            check_export_shape(d)
    if not closed:
        writer.close()


def test_a_range_takes_every_window_it_overlaps(tmp_path):
    path = tmp_path / "overlap.lsp"
    write_profile(path, range(10))
    profile = Profile(path)
    d = profile.profile_dict(START + 2 * SECOND + 1, START + 4 * SECOND + 1)  # windows 2, 3 and 4
    assert records_by_original_ids(d) == expected_records([2, 3, 4])
    assert [w["index"] for w in profile.windows(START + 2 * SECOND + 1, START + 4 * SECOND + 1)] == [2, 3, 4]
    assert profile.profile_dict(START + 20 * SECOND)["records"] == []
    assert records_by_original_ids(profile.profile_dict(end_ns=START + SECOND)) == expected_records([0])


def test_ranges_over_one_set_of_tables(tmp_path):
    # the diff view's two ranges: each dict sums its own range, and a stack index means the same
    # stack in both (the tables are the union's)
    path = tmp_path / "ranges.lsp"
    write_profile(path, range(10))
    profile = Profile(path)
    ranges = [(START, START + 2 * SECOND), (START + 5 * SECOND, START + 9 * SECOND), (START + 20 * SECOND, None)]
    dicts = profile.profile_dicts(ranges)
    assert len(dicts) == 3
    for d, (start, end) in zip(dicts, ranges):
        assert records_by_original_ids(d) == records_by_original_ids(profile.profile_dict(start, end))
        assert d["stacks"] is dicts[0]["stacks"] and d["frames"] is dicts[0]["frames"]
    assert dicts[2]["records"] == []
    assert dicts[0]["meta"]["duration_ns"] == 2 * SECOND and dicts[1]["meta"]["duration_ns"] == 4 * SECOND


def test_default_rollup_sizes_give_the_same_sums(tmp_path):
    path = tmp_path / "long.lsp"
    write_profile(path, range(700))  # 11 minute buckets and a 10-minute one
    profile = Profile(path)
    for first, end in [(0, 700), (59, 661), (600, 700), (0, 600), (61, 119)]:
        d = profile.profile_dict(START + first * SECOND, START + end * SECOND)
        assert records_by_original_ids(d) == expected_records(range(first, end)), (first, end)


def test_thread_by_name_or_native_id(tmp_path):
    path = tmp_path / "threads.lsp"
    write_profile(path, range(10))
    profile = Profile(path)
    for thread in ("worker", 101, "101"):
        d = profile.profile_dict(thread=thread)
        assert records_by_original_ids(d) == expected_records(range(10), threads=(WORKER,))
        assert d["threads"] == [(101, 7, d["strings"].index("worker"))]
        check_export_shape(d)
    main = profile.profile_dict(START + 3 * SECOND, START + 6 * SECOND, thread="MainThread")
    assert records_by_original_ids(main) == expected_records([3, 4, 5], threads=(MAIN,))
    with pytest.raises(ProfileError, match=r"has no thread 'nope'; its threads: MainThread \(100\), worker \(101\)"):
        profile.profile_dict(thread="nope")


def test_renumbered_dict_is_dense_and_exports(tmp_path):
    path = tmp_path / "dense.lsp"
    write_profile(path, range(4))
    d = Profile(path).profile_dict(thread="worker")
    assert d["strings"] == ["", "/app/lib.py", "idle", "worker"]  # in the order of the original ids
    assert d["functions"] == [(2, 1, 30)] and d["frames"] == [(0, 31)] and d["stacks"] == [[0]]
    assert d["records"] == [(0, 0, 6, 60, 10, 6, 0)]
    check_export_shape(d)
    whole = Profile(path).profile_dict()
    out = try_engine_export(whole)
    if out is not None:  # the collapsed writer exists: its counts must add up to the samples
        counts = [int(line.rsplit(" ", 1)[1]) for line in out.decode().splitlines() if line.strip()]
        assert sum(counts) == sum(r[2] for r in whole["records"])


# --- sources ---

def test_sources_of_interned_functions_are_stored_once(tmp_path, monkeypatch):
    app = tmp_path / "app.py"
    app.write_bytes(b"def main():\n    return 1\n# caf\xe9 in latin-1\n")
    big = tmp_path / "big.py"
    big.write_text("x = 1\n" * 100)
    monkeypatch.setattr(writer_module, "MAX_SOURCE_BYTES", 64)
    path = tmp_path / "src.lsp"
    writer = ProfileWriter(path, make_meta(cwd=str(tmp_path)))
    writer.add_interned({"strings": [(0, ""), (1, "main"), (2, "app.py"), (3, "<string>"), (4, str(big)),
                                     (5, "/no/such/file.py")],
                         "functions": [(0, 1, 2, 1), (1, 1, 3, 1), (2, 1, 4, 1), (3, 1, 5, 1)]})
    writer.add_window(make_window(0, []))
    app.write_text("changed\n")
    assert writer.add_source("app.py") is False  # already stored, as it was
    writer.close()
    profile = Profile(path)
    assert profile.sources() == [str(big), "app.py"]
    assert profile.source("app.py") == "def main():\n    return 1\n# caf\ufffd in latin-1\n"
    assert profile.source(str(big)) == "x = 1\n" * 10  # cut at the last line end within 64 bytes
    assert profile.source("<string>") is None and profile.source("/no/such/file.py") is None


# --- crash safety and concurrency ---

CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {src!r})
    sys.path.insert(0, {tests!r})
    from loopscope.storage import ProfileWriter
    from test_storage import INTERNED, make_meta, make_window
    writer = ProfileWriter({path!r}, make_meta(), read_sources=False)
    writer.add_interned(INTERNED)
    for index in range({n}):
        writer.add_window(make_window(index))
    writer.add_interned({{"strings": [(99, "pending")]}})  # never committed
    print("ready", flush=True)
    time.sleep(60)
""")


def test_a_profile_survives_sigkill_up_to_its_last_window(tmp_path):
    path = tmp_path / "killed.lsp"
    n = 130  # past two minute buckets: rollups and raw windows both in use
    src = os.path.dirname(os.path.dirname(os.path.abspath(loopscope.__file__)))
    script = CHILD.format(src=src, tests=os.path.dirname(os.path.abspath(__file__)), path=str(path), n=n)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, encoding="utf-8")
    try:
        assert child.stdout.readline().strip() == "ready"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    profile = Profile(path)
    assert [w["index"] for w in profile.windows()] == list(range(n))
    assert profile.time_range() == (START, START + n * SECOND)
    assert "end_unix_ns" not in profile.meta
    assert records_by_original_ids(profile.profile_dict()) == expected_records(range(n))
    assert records_by_original_ids(profile.profile_dict(START + 100 * SECOND)) == expected_records(range(100, n))


def test_a_reader_sees_consistent_sums_while_the_writer_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(writer_module, "ROLLUP_SIZES", (3, 9))
    path = tmp_path / "live.lsp"
    writer = write_profile(path, [0], close=False)
    done = threading.Event()
    failure = []

    def write():
        try:
            for index in range(1, 300):
                writer.add_window(make_window(index))
        except Exception as e:  # pragma: no cover - reported below
            failure.append(e)
        finally:
            done.set()

    thread = threading.Thread(target=write)
    thread.start()
    reads = 0
    with Profile(path) as profile:
        while not done.is_set() or reads < 3:
            last = profile.windows()[-1]["index"]
            d = profile.profile_dict(START + SECOND, START + (last + 1) * SECOND)
            assert records_by_original_ids(d) == expected_records(range(1, last + 1))
            reads += 1
    thread.join()
    writer.close()
    assert not failure
    assert reads >= 3


# --- files that are not profiles ---

def test_missing_file(tmp_path):
    with pytest.raises(ProfileError, match="no profile at '.*nothing.lsp': the file does not exist"):
        Profile(tmp_path / "nothing.lsp")


def test_text_file_is_not_a_profile(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello, these are notes\n" * 10)
    with pytest.raises(ProfileError, match="'.*notes.txt' is not a loopscope profile: it is not an SQLite database"):
        Profile(path)


def test_empty_file_is_not_a_profile(tmp_path):
    path = tmp_path / "empty.lsp"
    path.write_bytes(b"")
    with pytest.raises(ProfileError, match="is not a loopscope profile: the file is empty"):
        Profile(path)


def test_sqlite_database_of_another_application_is_not_a_profile(tmp_path):
    path = tmp_path / "other.db"
    db = sqlite3.connect(str(path))
    db.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    db.commit()
    db.close()
    with pytest.raises(ProfileError, match="not a loopscope profile: it is an SQLite database of another application"):
        Profile(path)


def test_newer_schema_is_refused_with_both_versions(tmp_path):
    path = tmp_path / "future.lsp"
    write_profile(path, [0])
    db = sqlite3.connect(str(path))
    db.execute("PRAGMA user_version = 99")
    db.execute("UPDATE meta SET value = ? WHERE key = 'loopscope_version'", (json.dumps("9.0.0"),))
    db.commit()
    db.close()
    with pytest.raises(ProfileError, match=r"written by a newer loopscope \(9.0.0\) \(profile schema 99\); this "
                                           r"loopscope \(.*\) reads schema %d and older: upgrade loopscope" % SCHEMA_VERSION):
        Profile(path)


def test_damaged_profile(tmp_path):
    path = tmp_path / "damaged.lsp"
    writer = ProfileWriter(path, make_meta(), read_sources=False)
    writer.add_interned({"stacks": [(i, [0] * 20) for i in range(3000)]})
    writer.add_window(make_window(0))
    writer.close()
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 3])
    with pytest.raises(ProfileError, match="profile '.*damaged.lsp' is damaged: "):
        Profile(path).profile_dict()


def test_a_profile_missing_an_interned_row_is_damaged(tmp_path):
    path = tmp_path / "holes.lsp"
    write_profile(path, range(3))
    db = sqlite3.connect(str(path))
    db.execute("DELETE FROM stacks WHERE id = 2")
    db.commit()
    db.close()
    with pytest.raises(ProfileError, match="is damaged: it refers to id 2 of a table that lacks it"):
        Profile(path).profile_dict()
    assert Profile(path).profile_dict(thread="MainThread")["stacks"] == [[1, 0], [2, 0]]


@pytest.mark.parametrize("text, table", [("[1,oops]", None), ("[4294967296]", None), ("", None), ("[9]", "frames")])
def test_a_profile_with_a_bad_stack_is_damaged(tmp_path, text, table):
    path = tmp_path / "bad-stack.lsp"
    write_profile(path, range(3))
    db = sqlite3.connect(str(path))
    db.execute("UPDATE stacks SET frames = ? WHERE id = 1", (text,))
    db.commit()
    db.close()
    cause = "it refers to id 9 of a table that lacks it" if table else "a stack is not a list of frame ids"
    with pytest.raises(ProfileError, match="profile '.*bad-stack.lsp' is damaged: " + cause):
        Profile(path).profile_dict()


# --- times on the command line ---

@pytest.mark.parametrize("text, seconds", [("90", 90), ("1.5", 1.5), ("90s", 90), ("2m", 120), ("1h", 3600),
                                           ("1h30m", 5400), ("250ms", 0.25), (" 0 ", 0), (".5", 0.5)])
def test_timespec_offsets_from_the_start(text, seconds):
    assert timespec.parse(text, START) == START + int(seconds * 10**9)


def test_timespec_iso_date_times(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    try:
        utc = 1_795_567_800 * 10**9  # 2026-11-25T00:50:00Z
        assert timespec.parse("2026-11-25T00:50:00Z", 0) == utc
        assert timespec.parse("2026-11-25T01:50:00+01:00", 0) == utc
        assert timespec.parse("2026-11-25T01:50:00", 0) == utc  # naive: local time (UTC+1 in November)
        assert timespec.parse("2026-11-25 01:50:00.250", 0) == utc + 250 * 10**6
    finally:
        monkeypatch.undo()
        time.tzset()


def test_timespec_clock_times_are_the_first_after_the_start(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        start = 1_795_558_800 * 10**9 + 123  # 2026-11-24T22:20:00Z and a bit
        assert timespec.parse("23:00", start) == 1_795_561_200 * 10**9
        assert timespec.parse("01:30:00", start) == 1_795_570_200 * 10**9  # the next day
        assert timespec.parse("22:20", start) == 1_795_558_800 * 10**9  # the start's own minute
        assert timespec.parse("22:19:59.5", start) == (1_795_558_800 + 86_399) * 10**9 + 5 * 10**8
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize("text", ["", "soon", "-5", "1x", "5 m s", "25:00", "12:61", "2026-13-01T00:00:00"])
def test_timespec_refuses_other_text(text):
    with pytest.raises(ValueError, match="cannot read time"):
        timespec.parse(text, START)


@pytest.mark.parametrize("closed", [True, False])
def test_timeline_bins_add_up_whole_buckets(tmp_path, monkeypatch, closed):
    # tiny bucket sizes so that 300 windows use every size; a gap, and a writer still open
    monkeypatch.setattr(writer_module, "ROLLUP_SIZES", (3, 12, 48))
    monkeypatch.setattr(writer_module, "SERIES_SIZES", (1, 3, 12, 48))
    windows = [i for i in range(300) if i not in (50, 51)]
    writer = write_profile(tmp_path / "t.lsp", windows, close=closed)
    profile = Profile(tmp_path / "t.lsp")
    for points in (1000, 300, 97, 25, 6, 1):
        timeline = profile.timeline(points=points)
        step = timeline["step_windows"]
        assert step >= 300 / points and len(timeline["bins"]) <= points
        assert step in (1, 2) or step % 3 == 0  # whole buckets of the size it uses
        bins = [sorted(i for i in windows if i // step == k) for k in sorted({i // step for i in windows})]
        assert [b["windows"] for b in timeline["bins"]] == [len(b) for b in bins]
        for got, members in zip(timeline["bins"], bins):
            assert got["samples"] == sum(make_window(i)["samples"] for i in members)
            assert got["late"] == sum(make_window(i)["late"] for i in members)
            assert got["start_unix_ns"] == START + members[0] * SECOND
            assert got["end_unix_ns"] == START + (members[-1] + 1) * SECOND
        for thread in (MAIN, WORKER):
            expected = {}
            for position, members in enumerate(bins):
                sums = [0] * 5
                for i in members:
                    for record in records_for(i):
                        if record[0] == thread:
                            sums = [a + b for a, b in zip(sums, record[2:])]
                if any(sums):
                    expected[position] = tuple(sums)
            assert timeline["threads"][thread] == expected, (points, thread)
    # a range takes the bins of the windows it overlaps
    part = profile.timeline(START + 100 * SECOND, START + 160 * SECOND, points=60)
    assert part["bins"][0]["start_unix_ns"] == START + 100 * SECOND
    assert sum(b["windows"] for b in part["bins"]) == 60
    if not closed:
        writer.close()
