# html.py - the self-contained HTML report: the dashboard page with its script, its style and the
# answers of every view for the whole recording inlined, so one file opens offline from file://.
"""write_report(profile_path, html_path) -> the path written.

The page is the dashboard's index.html; its stylesheet and modules are inlined (bundle.py) and the
API answers it would ask for are embedded in a JSON script under the keys api.js looks them up by
(requestKey: the path and its non-empty parameters sorted by name). The views are those of the whole
recording, for every weight and granularity; the diff is the first half against the second. A
Content-Security-Policy meta tag allows only the page's own inline script and style (by hash) and
no connection at all.
"""

import base64
import hashlib
import os
import tempfile
import urllib.parse

from loopscope.reports.bundle import bundle
from loopscope.server import api, assets, jsontext, queries
from loopscope.storage import Profile

WEIGHTS = api.WEIGHTS
GRANULARITIES = api.GRANULARITIES
TIMELINE_POINTS = 300


def request_key(path, params):
    """The same key as api.js's requestKey()."""
    names = sorted(k for k, v in params.items() if v is not None and v != "")
    query = "&".join("%s=%s" % (quote(k), quote(str(params[k]))) for k in names)
    return path + "?" + query if query else path


def quote(text):
    return urllib.parse.quote(text, safe="-_.!~*'()")


def collect_responses(profile):
    """{request key: answer} for every view of the whole recording."""
    responses = {}

    def add(path, params, answer=None):
        if answer is None:
            status, answer = api.dispatch(profile, path, params)
            if status != 200:
                raise RuntimeError("cannot build the report: %s answered %s" % (path, answer.get("error")))
        responses[request_key(path, params)] = answer

    add("/api/summary", {})
    add("/api/timeline", {"points": TIMELINE_POINTS})
    start, end = profile.time_range()
    middle = start + (end - start) // 2
    for weight in WEIGHTS:
        for granularity in GRANULARITIES:
            params = {"weight": weight, "granularity": granularity}
            add("/api/flame", params)
            add("/api/functions", params)
            add("/api/diff", params, queries.diff(profile, (start, middle), (middle, end), weight=weight,
                                                  by_line=granularity == "line"))
        for path in profile.sources():
            add("/api/source", {"path": path, "weight": weight})
    return responses


def script_hash(text):
    return "'sha256-%s'" % base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def render(profile):
    web = assets.load()
    page = web["/index.html"].data.decode()
    style = web["/style.css"].data.decode()
    script = bundle(assets.module_sources())
    data = jsontext.text({"responses": collect_responses(profile)})
    data = data.replace("<", "\\u003c")  # nothing in the data can close the script element
    policy = ("default-src 'none'; script-src %s; style-src %s; img-src data:; connect-src 'none'; "
              "base-uri 'none'; form-action 'none'" % (script_hash(script), script_hash(style)))
    head = ('<meta http-equiv="Content-Security-Policy" content="%s">\n<style>%s</style>' % (policy, style))
    body_end = ('<script type="application/json" id="loopscope-report">%s</script>\n<script>%s</script>\n'
                % (data, script))
    link = '<link rel="stylesheet" href="/style.css">'
    module = '<script type="module" src="/js/main.js"></script>'
    if link not in page or module not in page:
        raise RuntimeError("the dashboard page changed: the report cannot inline its style and script")
    page = page.replace(link, head).replace(module, "")
    page = page.replace("<title>loopscope</title>", "<title>loopscope report: %s</title>" % html_escape(
        queries.summary(profile).get("command") or ""))
    return page.replace("</body>", body_end + "</body>")


def html_escape(command):
    text = " ".join(command) if isinstance(command, list) else str(command)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_report(profile_path, html_path):
    """Write the report of a profile file atomically (a temporary file renamed into place)."""
    with Profile(profile_path) as profile:
        page = render(profile)
    directory = os.path.dirname(os.path.abspath(html_path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".loopscope-report-", suffix=".html", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(page)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, html_path)
    except BaseException:
        os.unlink(tmp)
        raise
    return html_path
