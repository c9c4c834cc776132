# Fixtures for browser tests: one headless Debian Chromium per session, driven by Playwright
# (`playwright install` needs the network, so it runs /usr/bin/chromium through executable_path).
#
#   chromium_path         -> str: /usr/bin/chromium, or $LOOPSCOPE_CHROMIUM (skip / CI failure if missing)
#   browser               -> playwright Browser (session scope)
#   page                  -> playwright Page, viewport 1400x900, fresh per test. At teardown it saves
#                            build/test-artifacts/screenshots/<test name>.png (pass or fail), and the test
#                            FAILS if the page had a console error or an uncaught exception (pageerror).
#   browser_problems      -> BrowserProblems of this test's page: .console_errors, .page_errors,
#                            .failed_requests, .dialogs (lists of str). A test that expects errors checks
#                            them and calls .clear() (or empties a list) so they do not fail it.
#                            Dialogs (alert/confirm) are recorded and dismissed; they fail nothing alone.
#                            A 404 of /favicon.ico (Chromium asks every http site) is not recorded.
#   static_server(dir)    -> "http://127.0.0.1:PORT/" serving dir (threaded stdlib http.server), for pages
#                            that need http:// rather than file://; every server stops at teardown.
import functools
import http.server
import os
import re
import sys
import threading

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from support import require  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCREENSHOTS = os.path.join(REPO, "build", "test-artifacts", "screenshots")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--no-first-run"]
SETUP_HINT = "run scripts/setup-dev.sh (as root for the Debian chromium package)"


class BrowserProblems:
    """What went wrong in a page, as text: console errors, uncaught exceptions, failed requests
    (network failures and HTTP status >= 400) and dialogs."""

    def __init__(self):
        self.console_errors, self.page_errors, self.failed_requests, self.dialogs = [], [], [], []

    def clear(self):
        for found in (self.console_errors, self.page_errors, self.failed_requests, self.dialogs):
            del found[:]

    def failing(self):
        """The text that fails the test, or '' when nothing does."""
        lines = ["console error: %s" % text for text in self.console_errors]
        lines += ["page error: %s" % text for text in self.page_errors]
        if not lines:
            return ""
        lines += ["failed request: %s" % text for text in self.failed_requests]
        lines += ["dialog: %s" % text for text in self.dialogs]
        return "the page reported errors (clear browser_problems if the test expects them):\n  " + "\n  ".join(lines)


@pytest.fixture(scope="session")
def chromium_path():
    path = os.environ.get("LOOPSCOPE_CHROMIUM", "/usr/bin/chromium")
    require(os.access(path, os.X_OK), "no Chromium at %s: %s" % (path, SETUP_HINT))
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require(False, "the playwright Python package is missing: " + SETUP_HINT)
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def browser_problems():
    return BrowserProblems()


def is_favicon(url):
    """Chromium asks every http site for /favicon.ico; its 404 is no error of the page."""
    return url.split("?")[0].endswith("/favicon.ico")


@pytest.fixture
def page(browser, browser_problems, request):
    problems = browser_problems
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    new_page = context.new_page()
    new_page.on("console", lambda msg: msg.type == "error" and not is_favicon(msg.location.get("url", ""))
                and problems.console_errors.append("%s (%s)" % (msg.text, msg.location.get("url", ""))))
    new_page.on("pageerror", lambda error: problems.page_errors.append(str(error)))
    new_page.on("requestfailed", lambda req: problems.failed_requests.append(
        "%s %s: %s" % (req.method, req.url, req.failure)))
    new_page.on("response", lambda resp: resp.status >= 400 and not is_favicon(resp.url)
                and problems.failed_requests.append("%s %s: HTTP %d" % (resp.request.method, resp.url, resp.status)))

    def on_dialog(dialog):
        problems.dialogs.append("%s: %s" % (dialog.type, dialog.message))
        dialog.dismiss()

    new_page.on("dialog", on_dialog)
    yield new_page
    os.makedirs(SCREENSHOTS, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
    try:
        new_page.screenshot(path=os.path.join(SCREENSHOTS, name + ".png"))
    finally:
        context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Turn a passed test whose page reported console or page errors into a failure."""
    outcome = yield
    report = outcome.get_result()
    problems = getattr(item, "funcargs", {}).get("browser_problems")
    if report.when == "call" and report.passed and problems is not None and problems.failing():
        report.outcome = "failed"
        report.longrepr = problems.failing()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def static_server():
    """static_server(directory) -> base URL ending in '/'; symlinks in directory are followed."""
    servers = []

    def serve(directory):
        handler = functools.partial(_QuietHandler, directory=str(directory))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return "http://127.0.0.1:%d/" % server.server_address[1]

    yield serve
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
