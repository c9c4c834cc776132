# assets.py - the only files the dashboard serves besides API answers: the page, its style sheet and
# its JavaScript modules from loopscope/web/, read once at start and looked up by exact URL path.
"""load() -> {url path: Asset}. A request path is only ever a key into this dict, never joined to a
directory, so no request can reach another file (path traversal included)."""

import os
from collections import namedtuple

Asset = namedtuple("Asset", "content_type data")

WEB_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "web")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


def load(web_dir=WEB_DIR):
    found = {}
    for root, _dirs, files in os.walk(web_dir):
        for name in sorted(files):
            ext = os.path.splitext(name)[1]
            if ext not in CONTENT_TYPES:
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, web_dir).replace(os.sep, "/")
            with open(path, "rb") as f:
                found["/" + rel] = Asset(CONTENT_TYPES[ext], f.read())
    if "/index.html" in found:
        found["/"] = found["/index.html"]
    return found


def module_sources(web_dir=WEB_DIR):
    """{relative path: text} of the JavaScript modules (for the HTML report's bundle)."""
    modules = {}
    js_dir = os.path.join(web_dir, "js")
    for name in sorted(os.listdir(js_dir)):
        if name.endswith(".js"):
            with open(os.path.join(js_dir, name), encoding="utf-8") as f:
                modules[name] = f.read()
    return modules
