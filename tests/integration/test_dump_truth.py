# Proves `loopscope dump PID --json` exact on real processes: for every supported CPython and every
# scenario in tests/targets, each thread's dumped stack must equal the ground truth the target took
# of itself with sys._current_frames() (function, file, line, first line; outermost first; every
# frame). Also checks the document against docs/dump-json.md and the light text mode.
import os
import re

import pytest

FRAME_FIELDS = ("function", "file", "line", "first_line")
TEXT_SCENARIOS = ("nested_calls", "unicode_names", "thread_names")


def truth_threads(truth):
    return {int(ident): frames for ident, frames in truth["threads"].items()}


def describe_frame(frame):
    return "%s (%s:%s, first line %s)" % (frame.get("function"), frame.get("file"),
                                          frame.get("line"), frame.get("first_line"))


def stack_differences(label, dumped, expected):
    """Human-readable differences between a dumped and a true stack (outermost first), or []."""
    dumped_keys = [tuple(frame.get(field) for field in FRAME_FIELDS) for frame in dumped]
    expected_keys = [tuple(frame[field] for field in FRAME_FIELDS) for frame in expected]
    if dumped_keys == expected_keys:
        return []
    lines = ["%s: %d frames dumped, %d true" % (label, len(dumped), len(expected))]
    first = next((i for i, (d, e) in enumerate(zip(dumped_keys, expected_keys)) if d != e),
                 min(len(dumped), len(expected)))
    for i in range(max(0, first - 2), min(max(len(dumped), len(expected)), first + 3)):
        mark = ">>" if i == first else "  "
        got = describe_frame(dumped[i]) if i < len(dumped) else "(none)"
        want = describe_frame(expected[i]) if i < len(expected) else "(none)"
        lines.append("  %s frame %d: dumped %s\n  %s          true   %s" % (mark, i, got, mark, want))
    return lines


def test_frames_match_truth(target):
    truth = target.truth()
    document = target.dump_document()
    expected = truth_threads(truth)
    dumped = {thread.get("thread_id"): thread for thread in document.get("threads", [])}
    assert len(document.get("threads", [])) == len(expected), (
        "%s: %d threads dumped, %d true" % (target, len(document.get("threads", [])), len(expected)))
    assert sorted(dumped, key=str) == sorted(expected, key=str), (
        "%s: dumped thread ids differ from the truth's" % target)
    problems = []
    for ident, frames in expected.items():
        label = "thread %s %r" % (ident, truth["names"].get(str(ident)))
        problems += stack_differences(label, dumped[ident].get("frames", []), frames)
    if problems:
        pytest.fail("%s: stacks differ from the truth:\n%s" % (target, "\n".join(problems)),
                    pytrace=False)


PYTHON_NAME_MAX_BYTES = 63  # pythread.h: LS_PY_THREAD_NAME_MAX, NUL included


def kept_name(name):
    """A thread name as loopscope keeps it: at most 63 bytes of UTF-8, cut at a character boundary."""
    data = name.encode("utf-8")
    if len(data) <= PYTHON_NAME_MAX_BYTES:
        return name
    return data[:PYTHON_NAME_MAX_BYTES].decode("utf-8", "ignore")


def test_python_thread_names_match_truth(target):
    """Every thread the threading module started carries the name the program gave it (read from
    its Thread object); the main thread runs no Thread._bootstrap, so it has none."""
    truth = target.truth()
    document = target.dump_document()
    names = {int(ident): name for ident, name in truth["names"].items()}
    got, want = {}, {}
    for thread in document["threads"]:
        ident = thread["thread_id"]
        got[ident] = thread.get("python_name")
        want[ident] = None if ident == truth["main_thread"] else kept_name(names[ident])
    assert got == want, "%s: python_name differs from Thread.name" % target


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def test_document_schema(target):
    truth = target.truth()
    document = target.dump_document()
    problems = []

    def check(where, value, expected_type, nullable=False):
        if value is None and nullable:
            return
        ok = is_int(value) if expected_type is int else isinstance(value, expected_type)
        if not ok:
            problems.append("%s = %r is not %s%s" % (where, value, expected_type.__name__,
                                                     " or null" if nullable else ""))

    check("schema", document.get("schema"), str)
    assert document.get("schema") == "loopscope.dump/1"
    check("pid", document.get("pid"), int)
    python = document.get("python") or {}
    for field in ("version", "binary", "layout"):
        check("python." + field, python.get(field), str)
    check("python.hexversion", python.get("hexversion"), int)
    check("threads", document.get("threads"), list)
    for i, thread in enumerate(document.get("threads") or []):
        where = "threads[%d]." % i
        for field in ("thread_id", "interpreter"):
            check(where + field, thread.get(field), int)
        check(where + "native_id", thread.get("native_id"), int, nullable=True)
        check(where + "name", thread.get("name"), str, nullable=True)
        check(where + "cpu_time_ns", thread.get("cpu_time_ns"), int, nullable=True)
        for field in ("holds_gil", "on_cpu", "truncated"):
            check(where + field, thread.get(field), bool)
        check(where + "state", thread.get("state"), str)
        check(where + "frames", thread.get("frames"), list)
        for j, frame in enumerate(thread.get("frames") or []):
            at = where + "frames[%d]." % j
            check(at + "function", frame.get("function"), str)
            check(at + "file", frame.get("file"), str)
            check(at + "line", frame.get("line"), int, nullable=True)
            check(at + "first_line", frame.get("first_line"), int)
    check("errors", document.get("errors"), dict)
    check("errors.torn_threads", (document.get("errors") or {}).get("torn_threads"), int)
    if problems:
        pytest.fail("%s: schema problems:\n%s" % (target, "\n".join(problems)), pytrace=False)

    assert document["pid"] == target.pid
    assert python["version"] == truth["python_version"]
    assert python["hexversion"] == truth["hexversion"]
    assert python["layout"] in ("builtin", "debug_offsets")
    assert document["errors"]["torn_threads"] == 0
    truncated = [t["thread_id"] for t in document["threads"] if t["truncated"]]
    assert truncated == [], "%s: truncated threads %s" % (target, truncated)
    assert all(t["interpreter"] == 0 for t in document["threads"])


def interpreter_binary(pid):
    """The file holding the interpreter of process pid: a mapped libpython, else the executable."""
    with open("/proc/%d/maps" % pid) as maps:
        for line in maps:
            parts = line.split(None, 5)
            if len(parts) == 6 and os.path.basename(parts[5].strip()).startswith("libpython"):
                return os.path.realpath(parts[5].strip())
    return os.path.realpath("/proc/%d/exe" % pid)


def test_python_binary(target):
    target.truth()
    document = target.dump_document()
    assert os.path.realpath(document["python"]["binary"]) == interpreter_binary(target.pid)


def test_thread_identity_and_order(target):
    truth = target.truth()
    document = target.dump_document()
    threads = document["threads"]
    native_ids = {t["thread_id"]: t["native_id"] for t in threads}
    expected_native_ids = {int(k): v for k, v in truth["native_ids"].items()}
    assert native_ids == expected_native_ids, "%s: native ids differ from the truth's" % target
    main_threads = [t["thread_id"] for t in threads if t["native_id"] == target.pid]
    assert main_threads == [truth["main_thread"]], (
        "%s: threads whose native_id is the pid: %s" % (target, main_threads))
    # the interpreter lists threads most recently created first
    assert [t["thread_id"] for t in threads] == list(reversed(truth["creation_order"]))


def test_blocked_threads_are_waiting(target):
    target.truth()
    document = target.dump_document()
    for thread in document["threads"]:
        label = "%s: thread %s" % (target, thread["thread_id"])
        assert thread["on_cpu"] is False, label + " is blocked but reported on a CPU"
        assert thread["state"] == "waiting", label
        assert thread["holds_gil"] is False, label + " is blocked in a GIL-releasing call"


@pytest.mark.parametrize("scenario", TEXT_SCENARIOS)
def test_text_mode(target):
    truth = target.truth()
    result = target.dump(json_output=False)
    assert result.returncode == 0, "%s: loopscope dump exited %d; stderr:\n%s" % (
        target, result.returncode, result.stderr)
    assert result.stderr == ""
    for frames in truth_threads(truth).values():
        for frame in frames:
            name = frame["function"].rsplit(".", 1)[-1]  # a traceback may print co_name only
            assert name in result.stdout, "%s: %r missing from the text dump" % (target, name)
            if frame["line"] is not None:
                location = 'File "%s", line %d' % (frame["file"], frame["line"])
                assert re.search(re.escape(location) + r"\b", result.stdout), (
                    "%s: %r missing from the text dump:\n%s" % (target, location, result.stdout))
    # each thread's header names it as the program did; the main thread as MainThread
    headers = [line for line in result.stdout.splitlines() if line.startswith("Thread ")]
    for ident, name in truth["names"].items():
        shown = "MainThread" if int(ident) == truth["main_thread"] else kept_name(name)
        assert any(('(native %d) "%s"' % (truth["native_ids"][ident], shown)) in h for h in headers), (
            "%s: no header names thread %s %r:\n%s" % (target, ident, shown, "\n".join(headers)))
