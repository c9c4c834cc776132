"""`loopscope dump PID`: print every thread's Python stack once, now."""

import json
import sys
import time

from loopscope import _engine
from loopscope._errors import attach_error
from loopscope.dumping import format_text, snapshot

STARTUP_WAIT_S = 2.0  # a process that is just starting may have no interpreter or thread yet


def open_and_snapshot(pid):
    """Attach to pid and take one snapshot, waiting briefly for an interpreter that is starting."""
    deadline = time.monotonic() + STARTUP_WAIT_S
    while True:
        try:
            session = _engine.Session(pid)
            return snapshot(session)
        except _engine.Error as e:
            if e.args[0] == _engine.ERR_NOT_STARTED and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            raise attach_error(pid, e) from None


class DumpCommand:
    name = "dump"
    help = "print the Python stack of every thread of a running process"

    def prepare_parser(self, parser):
        parser.add_argument("pid", type=int, help="the process to read")
        parser.add_argument("--json", action="store_true", help="print JSON (schema: docs/dump-json.md)")
        parser.add_argument(
            "--native-tid",
            action="store_true",
            help="name threads by their kernel thread id (as top, ps and gdb show) instead of Python's",
        )

    def run(self, args):
        dump = open_and_snapshot(args.pid)
        if args.json:
            json.dump(dump, sys.stdout, ensure_ascii=False, indent=2)
            sys.stdout.write("\n")
        else:
            sys.stdout.write(format_text(dump, native_ids=args.native_tid))
        return 0
