"""What `run` and `attach` share: their options, and recording one process into a profile file."""

import os
import sys
import threading
import time

from loopscope._errors import EXIT_USAGE, LoopscopeError
from loopscope.cli.serving import add_serve_options, check_serve_options, start_dashboard, write_html
from loopscope.recorder import StatusLine, default_output_name, profile_meta, record

MAX_RATE_HZ = 10000
from loopscope.exports import FORMATS as EXPORT_FORMATS  # noqa: E402


def add_recording_options(parser):
    parser.add_argument("--rate", type=int, default=100, metavar="HZ", help="samples per second (default 100, up to 10000)")
    parser.add_argument("--duration", type=float, metavar="S", help="stop after S seconds (default: until the target ends or Ctrl-C)")
    parser.add_argument("--window", type=float, default=1.0, metavar="S", help="length of a time window in seconds (default 1)")
    parser.add_argument("--threads", choices=("all", "main"), default="all", help="record every thread (default) or the main thread only")
    parser.add_argument("--mode", choices=("wall", "cpu"), default="wall",
                        help="what the headline views count: wall-clock time (default) or CPU time; both are recorded")
    parser.add_argument("-o", "--output", metavar="PROFILE", help="the profile file (default loopscope-<name>-<pid>-<time>.lsp)")
    parser.add_argument("--export", metavar="FORMAT[,FORMAT]", help="also write exports at the end: " + ", ".join(EXPORT_FORMATS))
    parser.add_argument("--export-dir", metavar="DIR", help="where to write the exports (default: next to the profile)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no status line or summary")
    add_serve_options(parser)


def check_recording_options(args):
    check_serve_options(args)
    if not 1 <= args.rate <= MAX_RATE_HZ:
        raise LoopscopeError("--rate must be between 1 and %d" % MAX_RATE_HZ, EXIT_USAGE)
    if not 0.01 <= args.window <= 3600:
        raise LoopscopeError("--window must be between 0.01 and 3600 seconds", EXIT_USAGE)
    if args.duration is not None and args.duration <= 0:
        raise LoopscopeError("--duration must be positive", EXIT_USAGE)
    formats = [f.strip() for f in args.export.split(",") if f.strip()] if args.export else []
    unknown = [f for f in formats if f not in EXPORT_FORMATS]
    if unknown:
        raise LoopscopeError("unknown export format %s (choose from %s)" % (", ".join(unknown), ", ".join(EXPORT_FORMATS)), EXIT_USAGE)
    args.export_formats = formats
    if args.output and os.path.exists(args.output) and os.path.getsize(args.output) > 0:
        raise LoopscopeError("%s exists; choose another --output or remove it" % args.output, EXIT_USAGE)


def write_exports(profile_path, formats, export_dir, mode, quiet):
    """Write each export of the whole profile next to it (or in export_dir); returns the paths."""
    from loopscope.exports import EXTENSIONS, weight_for, write_export
    from loopscope.storage import Profile

    if not formats:
        return []
    base = os.path.splitext(os.path.basename(profile_path))[0]
    directory = export_dir or os.path.dirname(os.path.abspath(profile_path))
    os.makedirs(directory, exist_ok=True)
    data = Profile(profile_path).profile_dict()
    written = []
    for fmt in formats:
        path = os.path.join(directory, base + EXTENSIONS[fmt])
        write_export(fmt, data, path, weight=weight_for(fmt, mode))
        written.append(path)
        if not quiet:
            print("loopscope: wrote %s" % path, file=sys.stderr)
    return written


def record_process(session, command, args, stop_event=None, default_html=False):
    """Record the attached session into args.output (or a default name), serving the dashboard
    meanwhile unless --no-serve; returns (path, result). The HTML report is written at the end to
    --html, or next to the profile when default_html (run) and --no-html is not given."""
    from loopscope.storage import ProfileWriter

    stop_event = stop_event or threading.Event()
    meta = profile_meta(session, command, args)
    path = args.output or default_output_name(meta["pid"], command)
    writer = ProfileWriter(path, meta)
    if not args.quiet:
        print("loopscope: recording process %d (Python %s) at %d Hz into %s; Ctrl-C to stop"
              % (meta["pid"], meta["python_version"], args.rate, path), file=sys.stderr)
    dashboard = None
    status_line = None if args.quiet else StatusLine()
    result = None
    try:
        if not args.no_serve:
            dashboard = start_dashboard(path, args, args.quiet)
        result = record(session, writer, args, stop_event, status_line)
    finally:
        writer.close(time.time_ns())
        if dashboard is not None:
            dashboard.close(linger_s=2.0)
    if not args.quiet:
        s = result.status
        print("loopscope: %d samples in %d windows (%d late, %d failed, %d torn threads) written to %s"
              % (s["samples"], result.windows, s["late"], s["failed"], s["torn_threads"], path), file=sys.stderr)
    write_exports(path, args.export_formats, args.export_dir, args.mode, args.quiet)
    html = args.html or (os.path.splitext(path)[0] + ".html" if default_html and not args.no_html else None)
    if html:
        write_html(path, html, args.quiet)
    return path, result
