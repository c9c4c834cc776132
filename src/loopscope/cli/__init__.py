"""The `loopscope` command: a parser with one module per subcommand.

Each subcommand module defines a class with `name`, `help`, `prepare_parser(parser)` and
`run(args) -> int`; COMMANDS lists them. Errors are LoopscopeError: printed as one line on stderr,
`loopscope: error: ...`, with the error's exit code.
"""

import argparse
import sys

from loopscope import __version__
from loopscope._errors import EXIT_USAGE, LoopscopeError
from loopscope.cli.attach import AttachCommand
from loopscope.cli.dump import DumpCommand
from loopscope.cli.export import ExportCommand
from loopscope.cli.report import ReportCommand
from loopscope.cli.run import RunCommand

COMMANDS = [RunCommand(), AttachCommand(), DumpCommand(), ReportCommand(), ExportCommand()]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="loopscope",
        description="Profile long-running Python programs from outside, live, at low overhead.",
    )
    parser.add_argument("--version", action="version", version="loopscope " + __version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        p = sub.add_parser(command.name, help=command.help, description=command.help)
        command.prepare_parser(p)
        p.set_defaults(handler=command)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return args.handler.run(args)
    except LoopscopeError as e:
        sys.stdout.flush()
        print("loopscope: error: %s" % e, file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
