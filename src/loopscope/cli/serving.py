"""The dashboard options that `run`, `attach` and `report` share, and starting the server."""

import sys
import webbrowser

from loopscope._errors import EXIT_USAGE, LoopscopeError


def add_serve_options(parser, serve_default=True):
    group = parser.add_argument_group("dashboard")
    if serve_default:
        group.add_argument("--no-serve", action="store_true", help="do not serve the live dashboard")
    group.add_argument("--host", default="127.0.0.1",
                       help="address to serve on (default 127.0.0.1; any other address requires a token)")
    group.add_argument("--port", type=int, metavar="N", help="port (default: the first free one from 8765 up)")
    group.add_argument("--token", help="the token the dashboard requires (default: generated for a non-loopback --host)")
    group.add_argument("--open", action="store_true", help="open the dashboard in a web browser")
    group.add_argument("--html", metavar="FILE", help="write a self-contained HTML report to FILE")


def check_serve_options(args):
    if args.port is not None and not 0 < args.port < 65536:
        raise LoopscopeError("--port must be between 1 and 65535", EXIT_USAGE)
    if args.token is not None and len(args.token) < 8:
        raise LoopscopeError("--token must be at least 8 characters", EXIT_USAGE)


def start_dashboard(profile_path, args, quiet=False):
    """Serve profile_path in a background thread; returns the Dashboard (close() it at the end)."""
    from loopscope.server.httpd import Dashboard, DashboardError
    from loopscope.server.security import is_loopback

    try:
        dashboard = Dashboard(profile_path, host=args.host, port=args.port, token=args.token).start()
    except DashboardError as e:
        raise LoopscopeError(str(e), EXIT_USAGE) from None
    if not quiet:
        note = "" if is_loopback(args.host) else " (reachable from other hosts: keep the token secret)"
        print("loopscope: dashboard at %s%s" % (dashboard.url, note), file=sys.stderr)
    if args.open:
        webbrowser.open(dashboard.url)
    return dashboard


def write_html(profile_path, html_path, quiet=False):
    from loopscope.reports.html import write_report

    write_report(profile_path, html_path)
    if not quiet:
        print("loopscope: wrote %s" % html_path, file=sys.stderr)
    return html_path
