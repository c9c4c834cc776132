# Shared machinery of the target scripts: start threads that block in known places, block the main
# thread too, then record the ground truth of every thread's Python stack from inside the process.
#
# A target script calls main(setup): setup() starts worker threads with spawn(); each worker calls
# arrive() just before it blocks (or blocks through park(), which does both). The main thread then
# starts a short-lived reporter thread and blocks under a few levels of calls. The reporter waits
# until every thread has arrived and two snapshots of sys._current_frames() taken a moment apart
# agree, writes {thread ident: frames} for every thread but itself to the truth file (argv[1]) through
# a rename, so the file appears complete, and exits. The process then only holds blocked threads,
# until it is killed. Runs unchanged on CPython 3.8 to 3.13 (no newer syntax).
import json
import os
import platform
import sys
import threading
import time

_arrived = threading.Semaphore(0)
_expected_arrivals = 1  # the main thread
_spawned = []  # worker threads, in creation order
NEVER_RELEASED = threading.Lock()  # held by the main thread forever: acquiring it blocks in C
NEVER_RELEASED.acquire()

SETTLE_SECONDS = 0.1
TIMEOUT_SECONDS = 25.0


def arrive():
    """Tell the reporter this thread is about to block; call it right before the blocking call."""
    _arrived.release()


def park():
    """Arrive and block forever in C (a lock acquire: no Python frame below this one)."""
    arrive()
    NEVER_RELEASED.acquire()


def spawn(function, *args, **kwargs):
    """Start a worker thread that runs function(*args) and arrives (exactly once) before blocking."""
    global _expected_arrivals
    name = kwargs.pop("name", function.__name__)
    thread = threading.Thread(target=function, args=args, name=name, daemon=True)
    _expected_arrivals += 1
    _spawned.append(thread)
    thread.start()
    return thread


def frame_record(frame):
    code = frame.f_code
    return {
        "function": getattr(code, "co_qualname", code.co_name),
        "file": code.co_filename,
        "line": frame.f_lineno,
        "first_line": code.co_firstlineno,
    }


def snapshot():
    """{ident: frames outermost first} for every thread except the calling one."""
    me = threading.get_ident()
    stacks = {}
    for ident, frame in sys._current_frames().items():
        if ident == me:
            continue
        frames = []
        while frame is not None:
            frames.append(frame_record(frame))
            frame = frame.f_back
        frames.reverse()
        stacks[ident] = frames
    return stacks


def _report(truth_path):
    deadline = time.monotonic() + TIMEOUT_SECONDS
    for _ in range(_expected_arrivals):
        if not _arrived.acquire(timeout=max(0.0, deadline - time.monotonic())):
            sys.stderr.write("target: not every thread arrived at its blocking point\n")
            os._exit(3)
    expected = set(t.ident for t in _spawned) | {threading.main_thread().ident}
    previous = None
    while True:
        time.sleep(SETTLE_SECONDS)
        current = snapshot()
        if current == previous and set(current) == expected:
            break
        if time.monotonic() > deadline:
            sys.stderr.write("target: the threads' stacks did not settle\n")
            os._exit(3)
        previous = current
    threads = [threading.main_thread()] + _spawned
    truth = {
        "pid": os.getpid(),
        "python_version": platform.python_version(),
        "hexversion": sys.hexversion,
        "main_thread": threading.main_thread().ident,
        "creation_order": [t.ident for t in threads],
        "names": {str(t.ident): t.name for t in threads},
        "native_ids": {str(t.ident): getattr(t, "native_id", None) for t in threads},
        "threads": {str(ident): frames for ident, frames in current.items()},
    }
    partial = truth_path + ".partial"
    with open(partial, "w", encoding="utf-8") as out:
        json.dump(truth, out, indent=1)
    os.replace(partial, truth_path)


def _main_blocks_here():
    arrive()
    threading.Event().wait()


def _main_level_2():
    _main_blocks_here()


def _main_level_1():
    _main_level_2()


def main(setup):
    if len(sys.argv) < 2:
        sys.exit("usage: %s TRUTH_FILE [ARGS...]" % sys.argv[0])
    truth_path = sys.argv[1]
    setup()
    threading.Thread(target=_report, args=(truth_path,), name="reporter", daemon=True).start()
    _main_level_1()
