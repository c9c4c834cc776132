"""Continuous recording: the C sampler's windows, drained into a profile file, with a status line.

record() attaches a Sampler to a Session, starts it (the sampling runs in C, on its own thread,
with the GIL released) and, every DRAIN_INTERVAL_S, moves the newly interned items and the closed
windows into the ProfileWriter, each window in its own transaction. It ends when asked to stop
(stop_event), when the target exits, or after the duration; the last window is written either way.
"""

import os
import sys
import time

from loopscope import __version__, _engine
from loopscope._errors import LoopscopeError, attach_error

DRAIN_INTERVAL_S = 0.2
ATTACH_WAIT_S = 10.0  # a process that was just started needs a moment to load and start its interpreter


def open_session(pid, alive=None, wait_s=ATTACH_WAIT_S):
    """Attach to pid, retrying while its interpreter is still starting (a fresh child may not have
    mapped libpython or created its first thread yet). `alive()` says whether to keep waiting."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            session = _engine.Session(pid)
            session.sample()  # the interpreter has a thread: it is ready
            # <=3.10 writes its full version string a moment later, during start-up
            while not session.target()["version_exact"] and time.monotonic() < deadline and (alive is None or alive()):
                time.sleep(0.01)
            return session
        except _engine.Error as e:
            # a starting interpreter changes under the reader: a torn first sample is retried too
            retry = e.args[0] in (_engine.ERR_NOT_STARTED, _engine.ERR_NOT_PYTHON, _engine.ERR_READ, _engine.ERR_TORN)
            if retry and time.monotonic() < deadline and (alive is None or alive()):
                time.sleep(0.02)
                continue
            raise attach_error(pid, e) from None


class StatusLine:
    """One live line on stderr (only when stderr is a terminal): elapsed, samples, achieved rate,
    late and failed samples, windows written, target CPU%."""

    def __init__(self, stream=None, enabled=None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.last_len = 0

    def show(self, status, windows_written):
        if not self.enabled:
            return
        elapsed = status["elapsed_ns"] / 1e9
        rate = status["samples"] / elapsed if elapsed > 0 else 0.0
        cpu = 100.0 * status["process_cpu_ns"] / status["elapsed_ns"] if status["elapsed_ns"] else 0.0
        text = "loopscope: %6.1fs  %d samples (%.0f/s)  late %d  failed %d  windows %d  target CPU %.0f%%" % (
            elapsed, status["samples"], rate, status["late"], status["failed"], windows_written, cpu)
        if status["late"]:
            text += "  FALLING BEHIND"
        self.stream.write("\r" + text.ljust(self.last_len))
        self.stream.flush()
        self.last_len = len(text)

    def finish(self):
        if self.enabled and self.last_len:
            self.stream.write("\n")
            self.stream.flush()


def profile_meta(session, command, options):
    target = session.target()
    pid = target["pid"]
    try:
        cwd = os.readlink("/proc/%d/cwd" % pid)
    except OSError:
        cwd = None
    return {
        "command": command,
        "pid": pid,
        "python_version": target["version"],
        "hexversion": target["hexversion"],
        "python_binary": target["binary"],
        "rate_hz": options.rate,
        "window_s": options.window,
        "mode": options.mode,
        "threads": options.threads,
        "start_unix_ns": time.time_ns(),
        "loopscope_version": __version__,
        "cwd": cwd,
    }


class RecordingResult:
    def __init__(self, status, windows):
        self.status = status
        self.windows = windows

    @property
    def target_exited(self):
        return self.status["state"] == "target_exited"


def record(session, writer, options, stop_event, status_line=None):
    """Sample `session` into `writer` until stop_event is set, the target exits or the duration
    passes. Returns a RecordingResult (the sampler's final counters, windows written)."""
    sampler = _engine.Sampler(
        session,
        rate_hz=options.rate,
        window_s=options.window,
        main_thread_only=options.threads == "main",
        os_info=True,
        duration_s=options.duration or 0.0,
    )
    windows = 0

    def drain():
        nonlocal windows
        interned, closed = sampler.take()
        writer.add_interned(interned)
        for window in closed:
            writer.add_window(window)
            windows += 1

    sampler.start()
    try:
        while not stop_event.wait(DRAIN_INTERVAL_S):
            drain()
            status = sampler.status()
            if status_line:
                status_line.show(status, windows)
            if status["state"] != "running":
                break
    finally:
        sampler.stop()
        drain()
        status = sampler.status()
        if status_line:
            status_line.show(status, windows)
            status_line.finish()
    if status["state"] == "failed":
        raise LoopscopeError("sampling stopped: %s" % status["last_error_message"])
    return RecordingResult(status, windows)


def default_output_name(pid, command):
    name = os.path.basename(command[0]) if command else "python"
    if name.startswith("python") and len(command) > 1:
        name = os.path.splitext(os.path.basename(command[1]))[0] or name
    return "loopscope-%s-%d-%s.lsp" % (name, pid, time.strftime("%Y%m%d-%H%M%S"))


def target_command(pid):
    """The command line of a running process, as a list (for the profile's metadata)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            raw = f.read()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def install_stop_signals(stop_event, on_signal=None):
    """SIGINT and SIGTERM set stop_event (and call on_signal(signum)); returns a restore function."""
    import signal

    previous = {}

    def handler(signum, frame):
        stop_event.set()
        if on_signal:
            on_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, handler)

    def restore():
        for signum, old in previous.items():
            signal.signal(signum, old)

    return restore

