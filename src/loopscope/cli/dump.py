"""`loopscope dump PID`: print every thread's Python stack once, now."""

import json
import sys
import time

from loopscope import _engine
from loopscope._errors import EXIT_USAGE, LoopscopeError, attach_error
from loopscope.dumping import format_text, snapshot

STARTUP_WAIT_S = 2.0  # a process that is just starting may have no interpreter or thread yet


def open_and_snapshot(pid, save_image=None):
    """Attach to pid and take one snapshot, waiting briefly for an interpreter that is starting.
    With save_image, also write every byte the snapshot read as a memory image."""
    deadline = time.monotonic() + STARTUP_WAIT_S
    while True:
        try:
            session = _engine.Session(pid)
            if save_image:
                session.start_recording()
            dump = snapshot(session)
            if save_image:
                session.save_image(save_image)
            return dump
        except _engine.Error as e:
            if e.args[0] == _engine.ERR_NOT_STARTED and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            raise attach_error(pid, e) from None


def snapshot_of_image(path):
    """One snapshot replayed from a memory image written by --save-image."""
    try:
        return snapshot(_engine.Session.from_image(path))
    except _engine.Error as e:
        code, message, detail = e.args
        if code == _engine.ERR_IO:
            raise LoopscopeError("cannot read image %r" % path) from None
        if code == _engine.ERR_BAD_IMAGE:
            raise LoopscopeError("%r is not a loopscope memory image, or it is damaged" % path) from None
        raise LoopscopeError("image %r: %s%s" % (path, message, (" (%s)" % detail) if detail else "")) from None


class DumpCommand:
    name = "dump"
    help = "print the Python stack of every thread of a running process"

    def prepare_parser(self, parser):
        parser.add_argument("pid", type=int, nargs="?", help="the process to read")
        parser.add_argument(
            "--save-image",
            metavar="FILE",
            help="also save the memory this dump read (thread states, frames, code objects; no variable "
            "values) to FILE, to replay it with --image, e.g. in a bug report",
        )
        parser.add_argument("--image", metavar="FILE", help="dump a memory image saved by --save-image instead of a process")
        parser.add_argument("--json", action="store_true", help="print JSON (schema: docs/dump-json.md)")
        parser.add_argument(
            "--native-tid",
            action="store_true",
            help="name threads by their kernel thread id (as top, ps and gdb show) instead of Python's",
        )

    def run(self, args):
        if (args.pid is None) == (args.image is None):
            raise LoopscopeError("give either a PID or --image FILE", EXIT_USAGE)
        if args.image:
            dump = snapshot_of_image(args.image)
        else:
            dump = open_and_snapshot(args.pid, args.save_image)
        if args.json:
            json.dump(dump, sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
        else:
            sys.stdout.write(format_text(dump, native_ids=args.native_tid))
        return 0
