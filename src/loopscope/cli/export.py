"""`loopscope export PROFILE --format F`: write a profile (or a time range of it) in a format that
other tools open: callgrind (KCachegrind, callgrind_annotate), pprof (go tool pprof, Pyroscope),
speedscope, collapsed stacks (flamegraph.pl), pstats (python -m pstats, snakeviz)."""

import os
import sys

from loopscope._errors import EXIT_USAGE, LoopscopeError
from loopscope.cli.recording import EXPORT_FORMATS


class ExportCommand:
    name = "export"
    help = "write a profile in another tool's format"

    def prepare_parser(self, parser):
        parser.add_argument("profile", help="a .lsp profile written by run or attach")
        parser.add_argument("--format", required=True, choices=EXPORT_FORMATS)
        parser.add_argument("--from", dest="start", metavar="T", help="start: seconds from the start (90, 2m) or a time (01:30:00)")
        parser.add_argument("--to", dest="end", metavar="T", help="end, same forms as --from")
        parser.add_argument("--thread", metavar="NAME", help="only this thread (its name, e.g. MainThread, or kernel id)")
        parser.add_argument("--mode", choices=("wall", "cpu"), help="weight for one-value formats (default: the recording's mode)")
        parser.add_argument("-o", "--output", metavar="FILE", help="the output file (default: next to the profile; - for stdout)")

    def run(self, args):
        from loopscope.exports import EXTENSIONS, weight_for, write_export
        from loopscope.storage import Profile, ProfileError, timespec

        try:
            profile = Profile(args.profile)
            start_ns = profile.meta.get("start_unix_ns") or profile.time_range()[0]
            begin = timespec.parse(args.start, start_ns) if args.start else None
            end = timespec.parse(args.end, start_ns) if args.end else None
            if begin is not None and end is not None and end <= begin:
                raise LoopscopeError("--to (%s) is not after --from (%s)" % (args.end, args.start), EXIT_USAGE)
            data = profile.profile_dict(begin, end, thread=args.thread)
        except ProfileError as e:
            raise LoopscopeError(str(e)) from None
        except ValueError as e:
            raise LoopscopeError(str(e), EXIT_USAGE) from None
        if not data["records"]:
            raise LoopscopeError("no samples in %s for that selection" % args.profile)
        weight = weight_for(args.format, args.mode or profile.meta.get("mode", "wall"))
        if args.output == "-":
            write_export(args.format, data, sys.stdout.buffer, weight=weight)
            sys.stdout.flush()
            return 0
        output = args.output or os.path.splitext(args.profile)[0] + EXTENSIONS[args.format]
        write_export(args.format, data, output, weight=weight)
        print("loopscope: wrote %s" % output, file=sys.stderr)
        return 0
