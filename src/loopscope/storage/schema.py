# schema.py - the layout of a profile file (.lsp): its SQL tables, the version stamp, and the error
# type shared by the writer and the reader.
"""The schema of a loopscope profile file.

A profile is one SQLite database. Two header fields identify it: `PRAGMA application_id` is
APPLICATION_ID ("LSPF") and `PRAGMA user_version` is the schema version it was written with. A
reader opens files of version SCHEMA_VERSION and older; a change that an older reader could
misread must raise SCHEMA_VERSION.

Tables (all ids come from the recorder, dense from 0 and stable for the whole recording):
  meta            key -> JSON value (command, pid, python_version, rate_hz, start/end_unix_ns, ...)
  strings         interned text; string 0 is ""
  functions       (name, file, first line), names and files as string ids
  frames          (function, line)
  stacks          frame ids leaf first, as a JSON array ("[12,7,3]")
  threads         native id, Python thread id (stored signed, see to_signed64), name
  windows         one row per closed time window: bounds and the sampler's totals
  samples         one row per (window, thread, stack) with its weights, clustered by window
  rollups         the same weights summed over buckets of ROLLUP_SIZES windows (bucket b of size s
                  is for windows b*s .. b*s+s-1), so that long ranges add up a few rows per stack
  rollup_buckets  which windows each bucket holds so far: first_window .. last_window. A bucket of
                  the smallest size is written when complete; larger ones are brought up to date
                  each time a smallest bucket is complete, in the same transaction
  sources         the text of every Python file seen in a sample, for reports after the code changed
  window_rollups  (schema 2) the windows' own totals (samples, late, failed, process CPU, bounds)
                  summed over buckets of ROLLUP_SIZES windows, for timelines of long ranges
  thread_series   (schema 2) each thread's weights summed over buckets of SERIES_SIZES windows
                  (size 1 is per window), for per-thread timelines without reading every stack's row
Both schema-2 tables are brought up to date with every window (a bucket's row grows as its windows
come). A schema-1 file lacks them; the reader then adds the same series up from windows, samples
and rollups, more slowly.
"""

APPLICATION_ID = 0x4C535046  # "LSPF"
SCHEMA_VERSION = 2

# Windows per rollup bucket, smallest first; each size divides the next. With 1 s windows these are
# 1 and 10 minutes, 1 and 6 hours: a range then needs at most a few buckets of each size. A file
# records the sizes it was written with in meta["rollup_sizes"].
ROLLUP_SIZES = (60, 600, 3600, 21600)

WEIGHTS = ("samples", "wall_ns", "cpu_ns", "on_cpu", "gil")

# bucket sizes (in windows) of thread_series: every window, then the rollup sizes
SERIES_SIZES = (1,) + ROLLUP_SIZES

TABLES = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE strings (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL
);
CREATE TABLE functions (
    id INTEGER PRIMARY KEY,
    name_id INTEGER NOT NULL,
    file_id INTEGER NOT NULL,
    first_line INTEGER NOT NULL
);
CREATE TABLE frames (
    id INTEGER PRIMARY KEY,
    function_id INTEGER NOT NULL,
    line INTEGER NOT NULL
);
CREATE TABLE stacks (
    id INTEGER PRIMARY KEY,
    frames TEXT NOT NULL
);
CREATE TABLE threads (
    id INTEGER PRIMARY KEY,
    native_id INTEGER NOT NULL,
    thread_id INTEGER NOT NULL,
    name TEXT NOT NULL
);
CREATE TABLE windows (
    idx INTEGER PRIMARY KEY,
    start_unix_ns INTEGER NOT NULL,
    end_unix_ns INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    late INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    process_cpu_ns INTEGER NOT NULL
);
CREATE INDEX windows_by_start ON windows (start_unix_ns);
CREATE INDEX windows_by_end ON windows (end_unix_ns);
CREATE TABLE samples (
    window_idx INTEGER NOT NULL,
    thread_id INTEGER NOT NULL,
    stack_id INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    wall_ns INTEGER NOT NULL,
    cpu_ns INTEGER NOT NULL,
    on_cpu INTEGER NOT NULL,
    gil INTEGER NOT NULL,
    PRIMARY KEY (window_idx, thread_id, stack_id)
) WITHOUT ROWID;
CREATE TABLE rollups (
    size INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    thread_id INTEGER NOT NULL,
    stack_id INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    wall_ns INTEGER NOT NULL,
    cpu_ns INTEGER NOT NULL,
    on_cpu INTEGER NOT NULL,
    gil INTEGER NOT NULL,
    PRIMARY KEY (size, bucket, thread_id, stack_id)
) WITHOUT ROWID;
CREATE TABLE rollup_buckets (
    size INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    first_window INTEGER NOT NULL,
    last_window INTEGER NOT NULL,
    PRIMARY KEY (size, bucket)
) WITHOUT ROWID;
CREATE TABLE window_rollups (
    size INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    windows INTEGER NOT NULL,
    start_unix_ns INTEGER NOT NULL,
    end_unix_ns INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    late INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    process_cpu_ns INTEGER NOT NULL,
    PRIMARY KEY (size, bucket)
) WITHOUT ROWID;
CREATE TABLE thread_series (
    size INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    thread_id INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    wall_ns INTEGER NOT NULL,
    cpu_ns INTEGER NOT NULL,
    on_cpu INTEGER NOT NULL,
    gil INTEGER NOT NULL,
    PRIMARY KEY (size, bucket, thread_id)
) WITHOUT ROWID;
CREATE TABLE sources (
    path TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    size INTEGER NOT NULL,
    truncated INTEGER NOT NULL
);
"""


class ProfileError(Exception):
    """A profile file that cannot be written or read; the message names the file and the cause."""


def create_tables(db):
    """Write the version stamp and every table into an empty database, inside the caller's
    transaction (so a file either has the whole schema or none of it)."""
    db.execute("PRAGMA application_id = %d" % APPLICATION_ID)
    db.execute("PRAGMA user_version = %d" % SCHEMA_VERSION)
    for statement in TABLES.split(";"):
        if statement.strip():
            db.execute(statement)


def to_signed64(value):
    """An unsigned 64-bit integer as SQLite stores it (signed 64-bit, same bits)."""
    return value - (1 << 64) if value >= (1 << 63) else value


def from_signed64(value):
    """The inverse of to_signed64."""
    return value + (1 << 64) if value < 0 else value
