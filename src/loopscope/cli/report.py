"""`loopscope report PROFILE`: serve a saved profile in the dashboard (until Ctrl-C), or write it as
a self-contained HTML file with --html (then it serves only with --serve)."""

import sys

from loopscope._errors import LoopscopeError
from loopscope.cli.serving import add_serve_options, check_serve_options, start_dashboard, write_html
from loopscope.storage import Profile, ProfileError


class ReportCommand:
    name = "report"
    help = "open a saved profile in the dashboard, or write it as one HTML file (--html)"

    def prepare_parser(self, parser):
        parser.add_argument("profile", help="a profile file (.lsp) written by run or attach")
        add_serve_options(parser, serve_default=False)
        parser.add_argument("--serve", action="store_true", help="with --html, serve the dashboard as well")

    def run(self, args):
        check_serve_options(args)
        try:
            Profile(args.profile).close()
        except ProfileError as e:
            raise LoopscopeError(str(e)) from None
        if args.html:
            write_html(args.profile, args.html)
            if not args.serve:
                return 0
        dashboard = start_dashboard(args.profile, args)
        print("loopscope: serving %s; Ctrl-C to stop" % args.profile, file=sys.stderr)
        try:
            dashboard.thread.join()
        except KeyboardInterrupt:
            pass
        finally:
            dashboard.close()
        return 0
