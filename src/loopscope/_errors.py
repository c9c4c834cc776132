"""Errors a user can meet, each with its cause, its remedy and its exit code.

The engine reports a numeric code (loopscope._engine.Error(code, message, detail)); attach_error()
turns it into a LoopscopeError whose message is one actionable line.
"""

from loopscope import _engine

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NO_PROCESS = 3
EXIT_PERMISSION = 4
EXIT_NOT_PYTHON = 5
EXIT_UNSUPPORTED = 6
EXIT_EXITED = 7


class LoopscopeError(Exception):
    """An error to print as `loopscope: error: <message>` and exit with `exit_code`."""

    def __init__(self, message, exit_code=EXIT_ERROR):
        super().__init__(message)
        self.exit_code = exit_code


def process_name(pid):
    """The command name of a process, or '?' if it cannot be read."""
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip() or "?"
    except OSError:
        return "?"


PERMISSION_REMEDY = (
    "reading another process's memory needs ptrace rights: run loopscope as root (sudo), or as the "
    "target's own user with kernel.yama.ptrace_scope=0 (sudo sysctl kernel.yama.ptrace_scope=0), "
    "or grant CAP_SYS_PTRACE (sudo setcap cap_sys_ptrace+ep on the interpreter; in a container "
    "start it with --cap-add SYS_PTRACE)"
)


def attach_error(pid, error):
    """The LoopscopeError for an engine error met while attaching to or reading process `pid`."""
    code, message, detail = error.args if len(error.args) == 3 else (None, str(error), "")
    if code == _engine.ERR_NO_PROCESS:
        return LoopscopeError("no process with pid %d" % pid, EXIT_NO_PROCESS)
    if code == _engine.ERR_PERMISSION:
        return LoopscopeError(
            "permission denied reading process %d (%s): %s" % (pid, process_name(pid), PERMISSION_REMEDY),
            EXIT_PERMISSION,
        )
    if code == _engine.ERR_PROCESS_EXITED:
        return LoopscopeError("process %d exited while loopscope was reading it" % pid, EXIT_EXITED)
    if code == _engine.ERR_NOT_PYTHON:
        why = (": " + detail) if detail else ": no CPython runtime in its executable or libraries"
        return LoopscopeError(
            "process %d (%s) is not a Python process%s" % (pid, process_name(pid), why), EXIT_NOT_PYTHON
        )
    if code in (_engine.ERR_UNSUPPORTED_VERSION, _engine.ERR_NO_DEBUG_OFFSETS, _engine.ERR_BAD_DEBUG_OFFSETS):
        return LoopscopeError(
            "process %d: %s" % (pid, detail or "unsupported CPython version"), EXIT_UNSUPPORTED
        )
    if code == _engine.ERR_NOT_STARTED:
        return LoopscopeError(
            "process %d has not started its Python interpreter yet (or is shutting down); try again" % pid
        )
    return LoopscopeError("process %d: %s%s" % (pid, message, (" (" + detail + ")") if detail else ""))
