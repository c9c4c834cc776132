"""One snapshot of every thread's stack: the data of `loopscope dump`, as a dict and as text.

snapshot() takes a sample from an engine session and returns the documented dict
(docs/dump-json.md); format_text() renders that dict like a traceback, innermost frame last.
"""

from loopscope import _engine

SCHEMA = "loopscope.dump/1"


def _frame(session, cache, function_id, line):
    fn = cache.get(function_id)
    if fn is None:
        fn = cache[function_id] = session.function(function_id)
    name, filename, first_line = fn
    return {
        "function": name,
        "file": filename,
        "line": None if line == _engine.LINE_NONE else line,
        "first_line": first_line,
    }


def thread_dict(session, cache, raw, python_name=None):
    """The documented dict of one thread from the engine's tuple (and the name the program gave it)."""
    thread_id, native_id, interp_id, flags, cpu_ns, name, frames = raw
    has_os = bool(flags & _engine.THREAD_HAS_OS_INFO)
    on_cpu = bool(flags & _engine.THREAD_ON_CPU)
    return {
        "thread_id": thread_id,
        "native_id": native_id if native_id > 0 else None,
        "name": name if has_os else None,
        "python_name": python_name,
        "interpreter": interp_id,
        "holds_gil": bool(flags & _engine.THREAD_HOLDS_GIL),
        "on_cpu": on_cpu,
        "state": "running" if on_cpu else "waiting",
        "cpu_time_ns": cpu_ns if flags & _engine.THREAD_HAS_CPU_TIME else None,
        "truncated": bool(flags & _engine.THREAD_TRUNCATED),
        "top_missing": bool(flags & _engine.THREAD_TOP_MISSING),
        # the engine gives innermost first; a traceback (and our schema) reads outermost first
        "frames": [_frame(session, cache, f, line) for f, line in reversed(frames)],
    }


def snapshot(session):
    """Sample every thread once and return the dump dict."""
    raw_threads = session.sample()
    cache = {}
    threads = [thread_dict(session, cache, raw, session.thread_python_name(i)) for i, raw in enumerate(raw_threads)]
    target = session.target()
    torn = sum(1 for raw in raw_threads if raw[3] & _engine.THREAD_TORN)
    return {
        "schema": SCHEMA,
        "pid": target["pid"],
        "python": {
            "version": target["version"],
            "hexversion": target["hexversion"],
            "binary": target["binary"],
            "layout": target["layout"],
        },
        "threads": threads,
        "errors": {"torn_threads": torn},
    }


def _thread_header(thread, native_ids, pid):
    if native_ids and thread["native_id"] is not None:
        ident = "Thread %d" % thread["native_id"]
    else:
        ident = "Thread 0x%x" % thread["thread_id"]
        if thread["native_id"] is not None:
            ident += " (native %d)" % thread["native_id"]
    if thread.get("python_name"):
        ident += ' "%s"' % thread["python_name"]
    elif thread["native_id"] == pid:
        ident += ' "MainThread"'  # as recordings name it: it runs no Thread._bootstrap to read
    elif thread["name"]:
        ident += ' "%s"' % thread["name"]
    state = [thread["state"]]
    if thread["holds_gil"]:
        state.append("holds GIL")
    if thread["interpreter"]:
        state.append("interpreter %d" % thread["interpreter"])
    if thread["truncated"]:
        state.append("stack truncated")
    if thread.get("top_missing"):
        state.append("innermost frames moving")
    return "%s [%s]" % (ident, ", ".join(state))


def format_text(dump, native_ids=False):
    """The dump as text: per thread a header and its frames like a traceback (innermost last)."""
    py = dump["python"]
    lines = ["Process %d: Python %s (%s)" % (dump["pid"], py["version"], py["binary"])]
    for thread in dump["threads"]:
        lines.append("")
        lines.append(_thread_header(thread, native_ids, dump["pid"]))
        if not thread["frames"]:
            lines.append("    (no Python frames)")
        if thread["truncated"]:
            lines.append("    ... (outer frames could not be read)")
        for frame in thread["frames"]:
            line = "?" if frame["line"] is None else str(frame["line"])
            lines.append('    File "%s", line %s, in %s' % (frame["file"], line, frame["function"]))
        if thread.get("top_missing"):
            lines.append("    ... (inner frames changed while they were read)")
    if dump["errors"]["torn_threads"]:
        lines.append("")
        lines.append(
            "(%d thread(s) changed while being read; their stacks are partial)" % dump["errors"]["torn_threads"]
        )
    return "\n".join(lines) + "\n"
