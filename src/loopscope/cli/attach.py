"""`loopscope attach PID`: record a running process, without restarting it, until Ctrl-C."""

import threading

from loopscope.cli.recording import add_recording_options, check_recording_options, record_process
from loopscope.recorder import install_stop_signals, open_session, target_command


class AttachCommand:
    name = "attach"
    help = "record a running Python process until Ctrl-C, SIGTERM, --duration or its end"

    def prepare_parser(self, parser):
        parser.add_argument("pid", type=int, help="the process to record")
        add_recording_options(parser)

    def run(self, args):
        check_recording_options(args)
        session = open_session(args.pid, wait_s=0.5)
        stop = threading.Event()
        restore = install_stop_signals(stop)
        try:
            record_process(session, target_command(args.pid), args, stop)
        finally:
            restore()
        return 0
