# reader.py - opens a profile file read-only and adds up time ranges of it for reports and exports.
"""Profile: read a profile file while it is written, after its writer was killed, or finished.

    with Profile("app.lsp") as profile:
        profile.meta                  # command (argv list), pid, python_version, rate_hz, ...
        profile.time_range()          # (start_unix_ns, end_unix_ns)
        profile.windows()             # [{index, start_unix_ns, end_unix_ns, samples, late, failed,
                                      #   process_cpu_ns}], optionally of a time range
        profile.threads()             # [{id, native_id, thread_id, name}]
        profile.source(path)          # the file's text as it was profiled, or None
        profile.profile_dict(start_ns=None, end_ns=None, thread=None)
        profile.profile_dicts([(start_ns, end_ns), ...], thread=None)  # one per range, shared tables
        profile.timeline(start_ns, end_ns, points)  # binned totals per window and per thread

profile_dict() returns the dict that loopscope._engine.export() takes (see _engine_export.c):
strings, functions, frames, stacks, threads, records and meta (pid, hexversion, period_ns,
start_unix_ns, duration_ns, command as one string); and the stacks again as two array('I')s,
stack_offsets and stack_frames (stack i is stack_frames[stack_offsets[i]:stack_offsets[i + 1]]),
which the call-tree builder takes as they are. profile_dicts() gives several ranges over one set
of tables. It adds up the windows whose [start, end)
overlaps [start_ns, end_ns) - taken as the run of window indices from the first window that ends
after start_ns to the last that starts before end_ns (window times increase with their index) -
optionally for one thread: a name (every thread of that name) or a native id (an int, or a string
of digits that no thread has as its name). Records are summed per (thread, stack), and ids are
renumbered densely to what the selection uses, in the order of the original ids (so string 0
stays ""). Thread names are added to the strings.

The sums are one SQL GROUP BY over the rollup buckets whose windows lie inside the range (the
largest first; see schema.py) and the raw per-window rows of the rest, so a day costs a few
buckets' rows rather than 86,400 windows'.

Every error is a ProfileError with the file and the cause: missing file, not a loopscope profile
(not SQLite, or SQLite without our application id), written by a newer loopscope, or damaged.
"""

import bisect
import contextlib
import functools
import json
import os
import shlex
import sqlite3
import urllib.parse

from loopscope import __version__, _engine
from loopscope.storage.schema import APPLICATION_ID, SCHEMA_VERSION, WEIGHTS, ProfileError, from_signed64

SQLITE_MAGIC = b"SQLite format 3\x00"
IDS_PER_QUERY = 500
WEIGHT_COLUMNS = ", ".join(WEIGHTS)
WEIGHT_SUMS = ", ".join("SUM(%s)" % w for w in WEIGHTS)


def reporting_damage(method):
    """Run a reading method in one snapshot of the file (a writer may commit between two of its
    queries), and turn an sqlite3 error into a ProfileError that calls the file damaged."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            with self._snapshot():
                return method(self, *args, **kwargs)
        except sqlite3.Error as e:
            raise ProfileError("profile '%s' is damaged: %s" % (self.path, e)) from e
    return wrapper


class Profile:
    """One profile file, opened read-only; see the module docstring."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self._db = open_database(self.path)
        try:
            self._check_identity()
            self.meta = self._read_meta()
        except BaseException:
            self._db.close()
            raise
        self._rollup_sizes = sorted(self.meta.get("rollup_sizes", ()), reverse=True)
        self._series_sizes = sorted(self.meta.get("series_sizes", ()))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._db.close()

    @contextlib.contextmanager
    def _snapshot(self):
        """One read transaction around the queries inside; nested uses join the outer one."""
        if self._db.in_transaction:
            yield
            return
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @reporting_damage
    def time_range(self):
        """(start_unix_ns, end_unix_ns): the recording's start, and its end, or the end of the
        last window while it is being written (or if its writer was killed)."""
        start = self.meta["start_unix_ns"]
        end = self._db.execute("SELECT value FROM meta WHERE key = 'end_unix_ns'").fetchone()
        if end is not None:
            return start, json.loads(end[0])
        last = self._db.execute("SELECT end_unix_ns FROM windows ORDER BY idx DESC LIMIT 1").fetchone()
        return start, max(start, last[0]) if last else start

    @reporting_damage
    def finished(self):
        """Whether the recording has ended (its writer closed the file; a killed writer's file
        never says so)."""
        return self._db.execute("SELECT 1 FROM meta WHERE key = 'end_unix_ns'").fetchone() is not None

    @reporting_damage
    def version(self):
        """(index of the last window, whether the recording has ended): changes with every write
        that can change an answer."""
        last = self._db.execute("SELECT MAX(idx) FROM windows").fetchone()[0]
        return last, self.finished()

    @reporting_damage
    def windows(self, start_ns=None, end_ns=None):
        """The windows (all, or those overlapping [start_ns, end_ns)), in order, as dicts."""
        span = self._window_span(start_ns, end_ns)
        if span is None:
            return []
        rows = self._db.execute(
            "SELECT idx, start_unix_ns, end_unix_ns, samples, late, failed, process_cpu_ns FROM windows"
            " WHERE idx BETWEEN ? AND ? ORDER BY idx", span)
        keys = ("index", "start_unix_ns", "end_unix_ns", "samples", "late", "failed", "process_cpu_ns")
        return [dict(zip(keys, row)) for row in rows]

    @reporting_damage
    def threads(self):
        """Every thread recorded: [{id, native_id, thread_id, name}] by id."""
        rows = self._db.execute("SELECT id, native_id, thread_id, name FROM threads ORDER BY id")
        return [{"id": tid, "native_id": native_id, "thread_id": from_signed64(thread_id), "name": name}
                for tid, native_id, thread_id, name in rows]

    @reporting_damage
    def source(self, path):
        """The text of source file `path` as it was when profiled, or None if it was not stored."""
        row = self._db.execute("SELECT text FROM sources WHERE path = ?", (path,)).fetchone()
        return row[0] if row else None

    @reporting_damage
    def sources(self):
        """The paths of every stored source file, sorted."""
        return [row[0] for row in self._db.execute("SELECT path FROM sources ORDER BY path")]

    @reporting_damage
    def profile_dict(self, start_ns=None, end_ns=None, thread=None):
        """The aggregated profile of a time range and thread, as loopscope._engine.export() takes it."""
        return self.profile_dicts([(start_ns, end_ns)], thread)[0]

    @reporting_damage
    def profile_dicts(self, ranges, thread=None):
        """profile_dict() of each (start_ns, end_ns) range, over one set of tables (the union of what
        the ranges use, renumbered once): a stack index means the same stack in every dict, so the
        diff view compares ranges without merging their tables."""
        thread_ids = self._select_threads(thread) if thread is not None else None
        spans = [self._window_span(start_ns, end_ns) for start_ns, end_ns in ranges]
        all_records = [self._sum_records(span, thread_ids) if span else [] for span in spans]
        tables = self._renumbered_tables(all_records)
        result = []
        for (start_ns, _), span, records in zip(ranges, spans, tables.pop("records")):
            data = dict(tables)
            data["records"] = records
            data["meta"] = self._export_meta(span, start_ns)
            result.append(data)
        return result

    @reporting_damage
    def timeline(self, start_ns=None, end_ns=None, points=300):
        """The windows overlapping [start_ns, end_ns) added up in at most `points` bins of equal
        numbers of windows: {"step_windows": windows per bin, "bins": [{start_unix_ns, end_unix_ns,
        windows, samples, late, failed, process_cpu_ns}], "threads": {thread id: {bin position:
        (samples, wall_ns, cpu_ns, on_cpu, gil)}}}.

        Bins are aligned to multiples of step_windows from window 0, and step_windows to a bucket
        size of the time series tables, so each bin adds up whole buckets (a few rows for a day);
        the bins at the ends of a range may therefore reach a little past it. Files of schema 1
        add up windows and samples instead."""
        span = self._window_span(start_ns, end_ns)
        if span is None:
            return {"step_windows": 1, "bins": [], "threads": {}}
        first, last = span
        step = max(1, -(-(last - first + 1) // max(1, points)))
        if not self._series_sizes:
            return self._timeline_schema1(start_ns, end_ns, first, step)
        size = max(s for s in self._series_sizes if s <= step)
        step = -(-step // size) * size
        keys = ("start_unix_ns", "end_unix_ns", "windows", "samples", "late", "failed", "process_cpu_ns")
        if size == 1:
            rows = self._db.execute(
                "SELECT idx / ?1, MIN(start_unix_ns), MAX(end_unix_ns), COUNT(*), SUM(samples), SUM(late),"
                " SUM(failed), SUM(process_cpu_ns) FROM windows WHERE idx BETWEEN ?2 AND ?3 GROUP BY 1 ORDER BY 1",
                (step, first, last)).fetchall()
        else:
            rows = self._db.execute(
                "SELECT bucket * size / ?1, MIN(start_unix_ns), MAX(end_unix_ns), SUM(windows), SUM(samples),"
                " SUM(late), SUM(failed), SUM(process_cpu_ns) FROM window_rollups WHERE size = ?2"
                " AND bucket BETWEEN ?3 AND ?4 GROUP BY 1 ORDER BY 1",
                (step, size, first // size, last // size)).fetchall()
        position = {row[0]: i for i, row in enumerate(rows)}
        bins = [dict(zip(keys, row[1:])) for row in rows]
        threads = {}
        for number, thread, *weights in self._db.execute(
                "SELECT bucket * size / ?1, thread_id, %s FROM thread_series WHERE size = ?2"
                " AND bucket BETWEEN ?3 AND ?4 GROUP BY 1, 2" % WEIGHT_SUMS,
                (step, size, first // size, last // size)):
            if number in position:
                threads.setdefault(thread, {})[position[number]] = tuple(weights)
        return {"step_windows": step, "bins": bins, "threads": threads}

    def _timeline_schema1(self, start_ns, end_ns, first, step):
        """timeline() for a file without the time series tables: bins from the first window."""
        bins = self.window_bins(start_ns, end_ns, step)
        position = {b.pop("first_window"): i for i, b in enumerate(bins)}
        starts = sorted(position)
        threads = {}
        for window, thread, *weights in self.thread_series(start_ns, end_ns, step):
            i = bisect.bisect_right(starts, window) - 1
            cells = threads.setdefault(thread, {})
            old = cells.get(position[starts[max(i, 0)]], (0,) * len(weights))
            cells[position[starts[max(i, 0)]]] = tuple(a + b for a, b in zip(old, weights))
        return {"step_windows": step, "bins": bins, "threads": threads}

    @reporting_damage
    def thread_series(self, start_ns=None, end_ns=None, step_windows=1):
        """Weights per thread over time: [(first_window, thread_id, samples, wall_ns, cpu_ns,
        on_cpu, gil)], each row the sums of one thread over a piece of the windows overlapping
        [start_ns, end_ns) that is at most step_windows long (single windows, or rollup buckets
        no larger than step_windows), so a caller can add them into bins of step_windows."""
        span = self._window_span(start_ns, end_ns)
        if span is None:
            return []
        sizes = [size for size in self._rollup_sizes if size <= step_windows]
        rows = []
        for piece in self._plan(span[0], span[1], sizes):
            if piece[0] == "raw":
                query = ("SELECT window_idx, thread_id, %s FROM samples WHERE window_idx BETWEEN ? AND ?"
                         " GROUP BY window_idx, thread_id" % WEIGHT_SUMS)
                params = [piece[1], piece[2]]
            else:
                query = ("SELECT bucket * size, thread_id, %s FROM rollups WHERE size = ? AND bucket BETWEEN ? AND ?"
                         " GROUP BY bucket, thread_id" % WEIGHT_SUMS)
                params = list(piece)
            rows += self._db.execute(query, params).fetchall()
        return rows

    @reporting_damage
    def window_bins(self, start_ns=None, end_ns=None, step_windows=1):
        """The windows overlapping [start_ns, end_ns) added up in bins of step_windows consecutive
        windows (from the first of the range): [{first_window, start_unix_ns, end_unix_ns, windows,
        samples, late, failed, process_cpu_ns}]."""
        span = self._window_span(start_ns, end_ns)
        if span is None:
            return []
        step = max(1, int(step_windows))
        rows = self._db.execute(
            "SELECT MIN(idx), MIN(start_unix_ns), MAX(end_unix_ns), COUNT(*), SUM(samples), SUM(late), SUM(failed),"
            " SUM(process_cpu_ns) FROM windows WHERE idx BETWEEN ? AND ? GROUP BY (idx - ?) / ? ORDER BY 1",
            (span[0], span[1], span[0], step))
        keys = ("first_window", "start_unix_ns", "end_unix_ns", "windows", "samples", "late", "failed", "process_cpu_ns")
        return [dict(zip(keys, row)) for row in rows]

    @reporting_damage
    def window_count(self, start_ns=None, end_ns=None):
        """How many windows overlap [start_ns, end_ns), and the first one's index: (count, first)."""
        span = self._window_span(start_ns, end_ns)
        if span is None:
            return 0, None
        count = self._db.execute("SELECT COUNT(*) FROM windows WHERE idx BETWEEN ? AND ?", span).fetchone()[0]
        return count, span[0]

    # --- opening ---

    def _check_identity(self):
        try:
            application_id = self._db.execute("PRAGMA application_id").fetchone()[0]
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as e:
            raise ProfileError("profile '%s' is damaged: %s" % (self.path, e)) from e
        if application_id != APPLICATION_ID:
            raise ProfileError("'%s' is not a loopscope profile: it is an SQLite database of another "
                               "application" % self.path)
        if version > SCHEMA_VERSION:
            raise ProfileError("profile '%s' was written by a newer loopscope%s (profile schema %d); this "
                               "loopscope (%s) reads schema %d and older: upgrade loopscope to open it"
                               % (self.path, self._writer_version_note(), version, __version__, SCHEMA_VERSION))
        if version < 1:
            raise ProfileError("profile '%s' is damaged: it has no schema version" % self.path)

    def _writer_version_note(self):
        """" (0.3.0)" with the version of loopscope that wrote the file, if it can be read."""
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'loopscope_version'").fetchone()
            return " (%s)" % json.loads(row[0]) if row else ""
        except (sqlite3.Error, ValueError):
            return ""

    @reporting_damage
    def _read_meta(self):
        meta = {key: json.loads(value) for key, value in self._db.execute("SELECT key, value FROM meta")}
        if "start_unix_ns" not in meta:
            raise ProfileError("profile '%s' is damaged: its metadata lacks the start time" % self.path)
        return meta

    # --- selecting ---

    def _window_span(self, start_ns, end_ns):
        """(first, last) window index of the windows overlapping [start_ns, end_ns), or None."""
        db = self._db
        if start_ns is None:
            first = db.execute("SELECT MIN(idx) FROM windows").fetchone()
        else:
            first = db.execute("SELECT idx FROM windows WHERE end_unix_ns > ? ORDER BY end_unix_ns LIMIT 1",
                               (start_ns,)).fetchone()
        if end_ns is None:
            last = db.execute("SELECT MAX(idx) FROM windows").fetchone()
        else:
            last = db.execute("SELECT idx FROM windows WHERE start_unix_ns < ? ORDER BY start_unix_ns DESC LIMIT 1",
                              (end_ns,)).fetchone()
        if not first or not last or first[0] is None or last[0] is None or first[0] > last[0]:
            return None
        return first[0], last[0]

    def _select_threads(self, thread):
        """The ids of the threads that `thread` (a name or a native id) names."""
        threads = self.threads()
        if isinstance(thread, int):
            chosen = [t["id"] for t in threads if t["native_id"] == thread]
        else:
            chosen = [t["id"] for t in threads if t["name"] == thread]
            if not chosen and str(thread).lstrip("-").isdigit():
                chosen = [t["id"] for t in threads if t["native_id"] == int(thread)]
        if not chosen:
            names = ", ".join(sorted({"%s (%d)" % (t["name"], t["native_id"]) for t in threads})) or "none"
            raise ProfileError("profile '%s' has no thread %r; its threads: %s" % (self.path, thread, names))
        return chosen

    def _sum_records(self, span, thread_ids):
        """[(thread, stack, samples, wall_ns, cpu_ns, on_cpu, gil)] summed over the span, ordered."""
        pieces = self._plan(span[0], span[1], self._rollup_sizes)
        thread_filter, thread_params = "", []
        if thread_ids is not None:
            thread_filter = " AND thread_id IN (%s)" % ",".join("?" * len(thread_ids))
            thread_params = list(thread_ids)
        selects, params = [], []
        for piece in pieces:
            sql, piece_params = piece_query(piece)
            selects.append(sql + thread_filter)
            params += piece_params + thread_params
        # One integer key groups about twice as fast as two columns; stack ids are 32-bit.
        query = ("SELECT key >> 32, key & 4294967295, %s FROM (%s) GROUP BY key ORDER BY key"
                 % (WEIGHT_SUMS, " UNION ALL ".join(selects)))
        return self._db.execute(query, params).fetchall()

    def _plan(self, first, last, sizes):
        """Pieces that cover windows first..last exactly once: ("raw", lo, hi) for per-window rows,
        (size, lo_bucket, hi_bucket) for rollup buckets whose windows so far all lie in the range,
        the largest sizes first."""
        if not sizes:
            return [("raw", first, last)]
        size, smaller = sizes[0], sizes[1:]
        buckets = self._db.execute(
            "SELECT bucket, first_window, last_window FROM rollup_buckets WHERE size = ? AND bucket BETWEEN ? AND ?"
            " AND first_window >= ? AND last_window <= ? ORDER BY bucket",
            (size, first // size, last // size, first, last)).fetchall()
        pieces, cursor, previous = [], first, None
        for bucket, bucket_first, bucket_last in buckets:
            if previous is not None and bucket == previous + 1:
                # bucket exists, so previous holds all its windows: none lies between them
                pieces[-1] = (size, pieces[-1][1], bucket)
            else:
                if bucket_first > cursor:
                    pieces += self._plan(cursor, bucket_first - 1, smaller)
                pieces.append((size, bucket, bucket))
            cursor, previous = bucket_last + 1, bucket
        if cursor <= last:
            pieces += self._plan(cursor, last, smaller)
        return pieces

    # --- building the export dict ---

    def _renumbered_tables(self, all_records):
        """The interned tables restricted to what the record lists use, with dense new ids; its
        "records" holds each list renumbered."""
        used_stacks = set().union(*({r[1] for r in records} for records in all_records))
        stack_texts = self._fetch("SELECT id, frames FROM stacks", used_stacks)
        stack_ids = sorted(stack_texts)
        try:
            offsets, old_frames = _engine.parse_id_lists([stack_texts[i] for i in stack_ids])
        except ValueError:
            raise ProfileError("profile '%s' is damaged: a stack is not a list of frame ids" % self.path) from None
        frame_ids, new_frames = _engine.renumber_ids(old_frames)
        frames = self._fetch("SELECT id, function_id, line FROM frames", set(frame_ids))
        functions = self._fetch("SELECT id, name_id, file_id, first_line FROM functions",
                                {fn for fn, _ in frames.values()})
        threads = self._fetch("SELECT id, native_id, thread_id, name FROM threads",
                              set().union(*({r[0] for r in records} for records in all_records)))
        strings = self._fetch("SELECT id, text FROM strings",
                              {0} | {s for name, file, _ in functions.values() for s in (name, file)})
        strings[0] = ""
        if len(frames) != len(frame_ids):
            raise ProfileError("profile '%s' is damaged: it refers to id %s of a table that lacks it"
                               % (self.path, min(set(frame_ids) - set(frames))))
        try:
            tables = build_tables(all_records, stack_ids, frames, functions, threads, strings)
        except KeyError as e:
            raise ProfileError("profile '%s' is damaged: it refers to id %s of a table that lacks it"
                               % (self.path, e.args[0])) from None
        tables["stack_offsets"], tables["stack_frames"] = offsets, new_frames
        tables["stacks"] = [new_frames[offsets[i]:offsets[i + 1]].tolist() for i in range(len(stack_ids))]
        return tables

    def _fetch(self, select, ids):
        """{id: row without its id} for the given ids (a single value for a two-column select).
        Dense ids are read as one id range, sparse ones IDS_PER_QUERY at a time."""
        if not ids:
            return {}
        low, high = min(ids), max(ids)
        if len(ids) * 4 >= high - low + 1:
            chunks = [(" WHERE id BETWEEN ? AND ?", [low, high])]
        else:
            ordered = sorted(ids)
            chunks = [(" WHERE id IN (%s)" % ",".join("?" * len(part)), part)
                      for part in (ordered[i:i + IDS_PER_QUERY] for i in range(0, len(ordered), IDS_PER_QUERY))]
        found = {}
        for where, params in chunks:
            rows = self._db.execute(select + where, params).fetchall()
            if rows and len(rows[0]) == 2:
                found.update((row[0], row[1]) for row in rows if row[0] in ids)
            else:
                found.update((row[0], row[1:]) for row in rows if row[0] in ids)
        return found

    def _export_meta(self, span, start_ns):
        rate = self.meta.get("rate_hz") or 0
        meta = {
            "pid": self.meta.get("pid", 0),
            "hexversion": self.meta.get("hexversion", 0),
            "period_ns": int(round(1e9 / rate)) if rate else 0,
            "start_unix_ns": start_ns if start_ns is not None else self.meta["start_unix_ns"],
            "duration_ns": 0,
            "command": command_line(self.meta.get("command")),
        }
        if span is not None:
            start = self._db.execute("SELECT start_unix_ns FROM windows WHERE idx = ?", (span[0],)).fetchone()[0]
            end = self._db.execute("SELECT end_unix_ns FROM windows WHERE idx = ?", (span[1],)).fetchone()[0]
            meta["start_unix_ns"], meta["duration_ns"] = start, max(0, end - start)
        return meta


def open_database(path):
    """A read-only connection to path, once its first bytes say it is an SQLite database."""
    try:
        with open(path, "rb") as f:
            header = f.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise ProfileError("no profile at '%s': the file does not exist" % path) from None
    except IsADirectoryError:
        raise ProfileError("'%s' is not a loopscope profile: it is a directory" % path) from None
    except OSError as e:
        raise ProfileError("cannot read profile '%s': %s" % (path, e.strerror or e)) from None
    if not header:
        raise ProfileError("'%s' is not a loopscope profile: the file is empty" % path)
    if header != SQLITE_MAGIC:
        raise ProfileError("'%s' is not a loopscope profile: it is not an SQLite database" % path)
    uri = "file:%s?mode=ro" % urllib.parse.quote(os.path.abspath(path))
    try:
        return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as e:
        raise ProfileError("cannot open profile '%s': %s" % (path, e)) from e


def piece_query(piece):
    """The SELECT (and its parameters) of the (key, weights) rows of one planned piece."""
    columns = "(thread_id << 32) | stack_id AS key, " + WEIGHT_COLUMNS
    if piece[0] == "raw":
        return "SELECT %s FROM samples WHERE window_idx BETWEEN ? AND ?" % columns, [piece[1], piece[2]]
    return "SELECT %s FROM rollups WHERE size = ? AND bucket BETWEEN ? AND ?" % columns, list(piece)


def build_tables(all_records, stack_ids, frames, functions, threads, strings):
    """The export tables (all but the stacks) from {old id: row} tables, renumbered densely in the
    order of old ids; stack_ids are the old ids of the stacks, in order. "records" holds each list
    of all_records renumbered. A row that refers to an id missing from its table raises KeyError."""
    string_ids, function_ids = renumber(strings), renumber(functions)
    thread_ids = renumber(threads)
    new_stack = {old: new for new, old in enumerate(stack_ids)}
    string_list = [strings[i] for i in sorted(strings)]
    text_ids = {text: i for i, text in enumerate(string_list)}
    return {
        "strings": string_list,
        "functions": [(string_ids[name], string_ids[file], first_line)
                      for _, (name, file, first_line) in sorted(functions.items())],
        "frames": [(function_ids[fn], line) for _, (fn, line) in sorted(frames.items())],
        "threads": [(native_id, from_signed64(thread_id), intern_text(string_list, text_ids, name))
                    for _, (native_id, thread_id, name) in sorted(threads.items())],
        "records": [[(thread_ids[r[0]], new_stack[r[1]]) + r[2:] for r in records] for records in all_records],
    }


def renumber(table):
    """{old id: new id}: the keys of table in order, numbered from 0."""
    return {old: new for new, old in enumerate(sorted(table))}


def intern_text(string_list, text_ids, text):
    """The id of text in string_list, appending it if it is not there yet."""
    if text not in text_ids:
        text_ids[text] = len(string_list)
        string_list.append(text)
    return text_ids[text]


def command_line(command):
    """The profiled command as one shell-quoted string."""
    if isinstance(command, list):
        return " ".join(shlex.quote(str(arg)) for arg in command)
    return str(command or "")
