"""`loopscope run [options] -- python app.py args` (or `loopscope run app.py args` with this
interpreter): start a program and record it from its first moments to its end.

Signals reach the program: Ctrl-C in a terminal goes to the whole process group, SIGTERM and SIGINT
sent to loopscope are passed on; loopscope returns the program's exit code (128 + N when a signal N
ended it), after writing the last window and the exports. With --duration the recording ends first
and the program is then stopped with SIGTERM (SIGKILL after 5 s).
"""

import os
import signal
import subprocess
import sys
import threading

from loopscope._errors import EXIT_USAGE, LoopscopeError
from loopscope.cli.recording import add_recording_options, check_recording_options, record_process
from loopscope.recorder import install_stop_signals, open_session


def program_command(argv):
    """`-- python app.py ...` runs as given; `app.py ...` runs under this interpreter."""
    if not argv:
        raise LoopscopeError("nothing to run: give a script (loopscope run app.py) or a command after --", EXIT_USAGE)
    if argv[0].endswith(".py") or not _is_executable(argv[0]):
        if not os.path.exists(argv[0]):
            raise LoopscopeError("no such script or program: %s" % argv[0], EXIT_USAGE)
        return [sys.executable] + argv
    return argv


def _is_executable(name):
    if os.sep in name:
        return os.access(name, os.X_OK) and not os.path.isdir(name)
    return any(os.access(os.path.join(d, name), os.X_OK) for d in os.environ.get("PATH", "").split(os.pathsep) if d)


class RunCommand:
    name = "run"
    help = "start a Python program and record it until it ends (or Ctrl-C, --duration)"

    def prepare_parser(self, parser):
        add_recording_options(parser)
        parser.add_argument("--no-html", action="store_true", help="do not write the HTML report next to the profile at the end")
        parser.add_argument("command", nargs=argparse_remainder(), help="the program: app.py [args], or -- python app.py [args]")

    def run(self, args):
        check_recording_options(args)
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        command = program_command(command)
        try:
            child = subprocess.Popen(command)
        except OSError as e:
            raise LoopscopeError("cannot start %s: %s" % (command[0], e.strerror), EXIT_USAGE) from None

        stop = threading.Event()

        def forward(signum):
            if signum == signal.SIGTERM or not sys.stdin.isatty():
                # a terminal's Ctrl-C already reached the child (same process group)
                try:
                    child.send_signal(signum)
                except ProcessLookupError:
                    pass

        restore = install_stop_signals(threading.Event(), on_signal=forward)
        try:
            try:
                session = open_session(child.pid, alive=lambda: child.poll() is None)
            except LoopscopeError:
                if child.poll() is not None:
                    raise LoopscopeError("%s exited (code %s) before loopscope could attach" % (command[0], child.returncode)) from None
                child.kill()
                raise
            # the recording ends with the child: the sampler sees the target exit
            watcher = threading.Thread(target=lambda: (child.wait(), stop.set()), daemon=True)
            watcher.start()
            record_process(session, command, args, stop, default_html=True)
            if child.poll() is None:
                end_child(child, args.quiet)
        finally:
            restore()
        code = child.wait()
        return 128 - code if code < 0 else code


def end_child(child, quiet, grace_s=5.0):
    """The recording ended before the program (--duration): end the program too, politely first."""
    if not quiet:
        print("loopscope: the recording is over; stopping the program (SIGTERM)", file=sys.stderr)
    child.terminate()
    try:
        child.wait(grace_s)
    except subprocess.TimeoutExpired:
        child.kill()


def argparse_remainder():
    import argparse

    return argparse.REMAINDER
