# writer.py - records a profile file as the sampler closes windows; crash-safe, flat in memory.
"""ProfileWriter: create a profile file and append to it window by window.

    writer = ProfileWriter("app.lsp", meta)       # refuses an existing non-empty file
    writer.add_interned(items)                    # ids first seen since the last window
    writer.add_window(window)                     # one transaction, committed at once
    writer.add_source(path)                       # also done for every new function's file
    writer.close(end_unix_ns)

`meta` needs command (argv list), pid, python_version, hexversion, rate_hz, window_s, mode and
start_unix_ns; loopscope_version and host are filled in when missing; any other JSON-able key is
stored too ("cwd", the target's working directory, is used to find relative source paths).

`items` holds lists of tuples, each optional:
    strings   (id, text)                      string 0 is ""
    functions (id, name_id, file_id, first_line)
    frames    (id, function_id, line)
    stacks    (id, [frame_id, ...])           leaf first
    threads   (id, native_id, thread_id, name)
Ids are the recorder's: dense and stable for the whole recording. Items sent twice are kept once
(a thread sent again replaces its row, so a renamed thread gets its new name).

`window` is {"index", "start_unix_ns", "end_unix_ns", "samples" (sampling ticks), "late", "failed",
"process_cpu_ns", "records": [(thread_id, stack_id, samples, wall_ns, cpu_ns, on_cpu, gil)]}.
Indices must increase. Records of the same (thread, stack) in one window are summed.

Crash safety: the file is in WAL mode with synchronous=NORMAL, and each add_window() commits, so a
profiler killed with SIGKILL leaves every closed window readable (a power cut may lose the last
ones). Interned items and sources are committed with the next window. close() also writes the
open rollup bucket and, when no reader has the file open, turns the file back into a single
self-contained file (journal_mode=DELETE).

Memory stays flat: beside SQLite's page cache, the writer keeps the sums of the open smallest
rollup bucket in a temporary in-memory table (a row per distinct (thread, stack) in it) and the
sets of source paths and file ids seen. Writing needs SQLite 3.24 or newer (upserts).
A writer may be used from any thread, but from one at a time.
"""

import functools
import json
import operator
import os
import socket
import sqlite3
import time

from loopscope import __version__
from loopscope.storage.schema import ROLLUP_SIZES, SERIES_SIZES, WEIGHTS, ProfileError, create_tables, to_signed64

REQUIRED_META = ("command", "pid", "python_version", "hexversion", "rate_hz", "window_s", "mode",
                 "start_unix_ns")
MAX_SOURCE_BYTES = 4 << 20
MIN_SQLITE = (3, 24, 0)  # INSERT ... ON CONFLICT DO UPDATE
WEIGHT_COLUMNS = ", ".join(WEIGHTS)
ADD_EXCLUDED = ", ".join("%s = %s + excluded.%s" % (w, w, w) for w in WEIGHTS)
OPEN_BUCKET = "temp.open_bucket"


def reporting_write_errors(method):
    """Turn an sqlite3 error of a writer method (disk full, file removed) into a ProfileError."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as e:
            raise ProfileError("cannot write profile '%s': %s" % (self.path, e)) from e
    return wrapper


class ProfileWriter:
    """Writes one profile file; see the module docstring."""

    def __init__(self, path, meta, overwrite=False, read_sources=True, source_root=None):
        """read_sources: store the source of each new function's file as it is interned.
        source_root: a directory that absolute source paths are relative to (e.g. /proc/PID/root
        for a target in another mount namespace)."""
        self.path = os.fspath(path)
        meta = complete_meta(meta)
        remove_old_file(self.path, overwrite)
        self._db = create_database(self.path, meta)
        self._read_sources = read_sources
        self._source_root = source_root
        self._target_cwd = meta.get("cwd")
        self._file_ids_seen = set()
        self._source_paths_seen = set()
        self._last_index = None
        self._rollups = Rollups(self._db, tuple(meta["rollup_sizes"]))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @reporting_write_errors
    def add_interned(self, items):
        """Store interned items; they are committed with the next window."""
        db = self._db
        self._begin()
        db.executemany("INSERT OR IGNORE INTO strings VALUES (?, ?)", items.get("strings", ()))
        db.executemany("INSERT OR IGNORE INTO functions VALUES (?, ?, ?, ?)", items.get("functions", ()))
        db.executemany("INSERT OR IGNORE INTO frames VALUES (?, ?, ?)", items.get("frames", ()))
        db.executemany("INSERT OR IGNORE INTO stacks VALUES (?, ?)",
                       ((stack_id, frames_to_text(frames)) for stack_id, frames in items.get("stacks", ())))
        db.executemany("INSERT OR REPLACE INTO threads VALUES (?, ?, ?, ?)",
                       ((tid, native_id, to_signed64(thread_id), name or "")
                        for tid, native_id, thread_id, name in items.get("threads", ())))
        if self._read_sources:
            self._add_sources_of(items.get("functions", ()))

    @reporting_write_errors
    def add_window(self, window):
        """Store one closed window and its records, and commit. If it fails, nothing of the window
        is kept (the interned items sent before it stay pending)."""
        index = operator.index(window["index"])
        if self._last_index is not None and index <= self._last_index:
            raise ValueError("window %d comes after window %d: indices must increase" % (index, self._last_index))
        db = self._db
        self._begin()
        db.execute("SAVEPOINT window")
        rollup_state = self._rollups.state()
        try:
            self._insert_window(index, window)
            self._rollups.add_window(db, index)
        except BaseException:
            db.execute("ROLLBACK TO window")
            self._rollups.restore(rollup_state)
            raise
        finally:
            db.execute("RELEASE window")
        db.execute("COMMIT")
        self._last_index = index

    def _insert_window(self, index, window):
        db = self._db
        db.execute("INSERT INTO windows VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (index, window["start_unix_ns"], window["end_unix_ns"], window["samples"],
                    window["late"], window["failed"], window["process_cpu_ns"]))
        # The index goes into the SQL text (an int, so safe) so that the records bind as they come.
        db.executemany("INSERT INTO samples VALUES (%d, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT"
                       " (window_idx, thread_id, stack_id) DO UPDATE SET %s" % (index, ADD_EXCLUDED),
                       window["records"])
        add_to_series(db, index, window)

    @reporting_write_errors
    def add_source(self, path):
        """Store the text of source file `path` (once per path); True if it was read and stored.
        Names like "<string>" and unreadable files are skipped."""
        if path in self._source_paths_seen:
            return False
        self._source_paths_seen.add(path)
        location = self._locate_source(path)
        source = read_source(location) if location else None
        if source is None:
            return False
        started = self._begin()
        self._db.execute("INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?)", (path,) + source)
        if started:
            self._db.execute("COMMIT")
        return True

    @reporting_write_errors
    def close(self, end_unix_ns=None):
        """Write the open rollup bucket, record the end time and close the file. Idempotent."""
        if self._db is None:
            return
        db, self._db = self._db, None
        try:
            if not db.in_transaction:
                db.execute("BEGIN")
            self._rollups.flush(db)
            write_meta(db, {"end_unix_ns": end_unix_ns if end_unix_ns is not None else time.time_ns()})
            db.execute("COMMIT")
            make_self_contained(db)
        finally:
            db.close()

    def _begin(self):
        """Open a transaction unless one is open; True if this call opened it."""
        if self._db is None:
            raise ProfileError("profile '%s' is closed" % self.path)
        if self._db.in_transaction:
            return False
        self._db.execute("BEGIN")
        return True

    def _add_sources_of(self, functions):
        for _, _, file_id, _ in functions:
            if file_id in self._file_ids_seen:
                continue
            self._file_ids_seen.add(file_id)
            row = self._db.execute("SELECT text FROM strings WHERE id = ?", (file_id,)).fetchone()
            if row:
                self.add_source(row[0])

    def _locate_source(self, path):
        """Where the profiler can read the target's file `path`, or None for "<string>" and such."""
        if not path or path.startswith("<"):
            return None
        if not os.path.isabs(path):
            path = os.path.join(self._target_cwd or os.getcwd(), path)
        if self._source_root:
            path = os.path.join(self._source_root, path.lstrip("/"))
        return path


class Rollups:
    """The sums of the windows' records over buckets of each size in `sizes`. The open bucket of
    the smallest size is summed in a temporary in-memory table, window by window; when a window of
    the next bucket comes, it is complete: it is written to `rollups` and added into the buckets of
    every larger size that hold it. So a bucket of a larger size is always current up to the last
    complete smallest bucket, and rollup_buckets says which windows each bucket holds so far."""

    def __init__(self, db, sizes):
        self.sizes = sizes
        self.open = None  # [bucket number, first window, last window] of the open smallest bucket
        db.execute("PRAGMA temp_store = MEMORY")
        db.execute("CREATE TEMP TABLE %s (thread_id INTEGER NOT NULL, stack_id INTEGER NOT NULL, %s,"
                   " PRIMARY KEY (thread_id, stack_id)) WITHOUT ROWID"
                   % (OPEN_BUCKET, ", ".join("%s INTEGER NOT NULL" % w for w in WEIGHTS)))

    def add_window(self, db, index):
        """Add the window's rows (already in `samples`) to the open bucket."""
        if self.open is not None and self.open[0] != index // self.sizes[0]:
            self.flush(db)
        db.execute("INSERT INTO %s SELECT thread_id, stack_id, %s FROM samples WHERE window_idx = %d"
                   " ON CONFLICT (thread_id, stack_id) DO UPDATE SET %s"
                   % (OPEN_BUCKET, WEIGHT_COLUMNS, index, ADD_EXCLUDED))
        if self.open is None:
            self.open = [index // self.sizes[0], index, index]
        self.open[2] = index

    def flush(self, db):
        """Write the open bucket (complete, or the recording ended) and add it to the larger ones."""
        if self.open is None:
            return
        (number, first, last), self.open = self.open, None
        smallest = self.sizes[0]
        db.execute("INSERT INTO rollups SELECT %d, %d, thread_id, stack_id, %s FROM %s"
                   % (smallest, number, WEIGHT_COLUMNS, OPEN_BUCKET))
        db.execute("INSERT INTO rollup_buckets VALUES (?, ?, ?, ?)", (smallest, number, first, last))
        for size in self.sizes[1:]:
            db.execute("INSERT INTO rollups SELECT %d, %d, thread_id, stack_id, %s FROM %s WHERE 1"
                       " ON CONFLICT (size, bucket, thread_id, stack_id) DO UPDATE SET %s"
                       % (size, first // size, WEIGHT_COLUMNS, OPEN_BUCKET, ADD_EXCLUDED))
            db.execute("INSERT INTO rollup_buckets VALUES (?, ?, ?, ?)"
                       " ON CONFLICT (size, bucket) DO UPDATE SET last_window = excluded.last_window",
                       (size, first // size, first, last))
        db.execute("DELETE FROM %s" % OPEN_BUCKET)

    def state(self):
        return list(self.open) if self.open else None

    def restore(self, state):
        self.open = state


WINDOW_ROLLUP_UPSERT = (
    "INSERT INTO window_rollups VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?) ON CONFLICT (size, bucket) DO UPDATE SET"
    " windows = windows + 1, start_unix_ns = MIN(start_unix_ns, excluded.start_unix_ns),"
    " end_unix_ns = MAX(end_unix_ns, excluded.end_unix_ns), samples = samples + excluded.samples,"
    " late = late + excluded.late, failed = failed + excluded.failed,"
    " process_cpu_ns = process_cpu_ns + excluded.process_cpu_ns")
THREAD_SERIES_UPSERT = ("INSERT INTO thread_series VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                        " ON CONFLICT (size, bucket, thread_id) DO UPDATE SET %s" % ADD_EXCLUDED)


def add_to_series(db, index, window):
    """Add one window to the time series tables (window_rollups, thread_series)."""
    db.executemany(WINDOW_ROLLUP_UPSERT, [
        (size, index // size, window["start_unix_ns"], window["end_unix_ns"], window["samples"],
         window["late"], window["failed"], window["process_cpu_ns"]) for size in ROLLUP_SIZES])
    per_thread = {}
    for record in window["records"]:
        sums = per_thread.get(record[0])
        if sums is None:
            per_thread[record[0]] = list(record[2:7])
        else:
            for k in range(5):
                sums[k] += record[2 + k]
    db.executemany(THREAD_SERIES_UPSERT, [
        (size, index // size, thread) + tuple(sums) for size in SERIES_SIZES for thread, sums in per_thread.items()])


def frames_to_text(frames):
    """A stack's frame ids as stored: a JSON array, leaf first."""
    return "[" + ",".join(str(int(f)) for f in frames) + "]"


def read_source(path):
    """(text, size in bytes, truncated) of a regular file, at most MAX_SOURCE_BYTES of it (cut at a
    line end), decoded as UTF-8 with replacement; None if it cannot be read."""
    try:
        if not os.path.isfile(path):
            return None
        with open(path, "rb") as f:
            data = f.read(MAX_SOURCE_BYTES + 1)
            size = os.fstat(f.fileno()).st_size
    except OSError:
        return None
    truncated = len(data) > MAX_SOURCE_BYTES
    if truncated:
        data = data[:MAX_SOURCE_BYTES]
        data = data[:data.rfind(b"\n") + 1]
    return data.decode("utf-8", errors="replace"), size, int(truncated)


def complete_meta(meta):
    """A copy of meta with loopscope_version and host filled in; ValueError if a key is missing."""
    missing = [key for key in REQUIRED_META if key not in meta]
    if missing:
        raise ValueError("profile meta lacks %s" % ", ".join(missing))
    if not isinstance(meta["command"], (list, tuple)):
        raise ValueError("profile meta: command must be a list of arguments")
    meta = dict(meta)
    meta["command"] = list(meta["command"])
    meta.setdefault("loopscope_version", __version__)
    meta.setdefault("host", socket.gethostname())
    meta["rollup_sizes"] = list(ROLLUP_SIZES)
    meta["series_sizes"] = list(SERIES_SIZES)
    return meta


def write_meta(db, meta):
    db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                   ((key, json.dumps(value)) for key, value in meta.items()))


def remove_old_file(path, overwrite):
    """Make way for a new profile at path: an empty file and the stale -wal/-shm/-journal of an
    earlier database go; a non-empty file only with overwrite."""
    if os.path.isdir(path):
        raise ProfileError("cannot create profile '%s': it is a directory" % path)
    if os.path.exists(path) and os.path.getsize(path) > 0 and not overwrite:
        raise ProfileError("cannot create profile '%s': the file exists (overwrite it explicitly)" % path)
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass
        except OSError as e:
            raise ProfileError("cannot create profile '%s': %s" % (path, e.strerror or e))


def make_self_contained(db):
    """Move everything from the -wal into the file, then leave WAL mode so that the file is all
    there is (the change fails, harmlessly, while a reader has the file open)."""
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    try:
        db.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.OperationalError:
        pass


def create_database(path, meta):
    """A new database at path in WAL mode, with the schema and meta committed."""
    if sqlite3.sqlite_version_info < MIN_SQLITE:
        raise ProfileError("cannot create profile '%s': writing needs SQLite %s or newer, and this Python "
                           "uses %s" % (path, ".".join(map(str, MIN_SQLITE)), sqlite3.sqlite_version))
    db = None
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("BEGIN")
        create_tables(db)
        write_meta(db, meta)
        db.execute("COMMIT")
    except sqlite3.Error as e:
        if db is not None:
            db.close()
        raise ProfileError("cannot create profile '%s': %s" % (path, e))
    return db
