# httpd.py - the dashboard's HTTP server: Python's threaded standard-library server serving our web
# assets, the JSON API (api.dispatch) and Server-Sent Events of newly closed windows.
"""Dashboard(profile_path, host, port, token).start() serves one profile file, live while a recorder
writes it (the file is read through its own read-only connections; SQLite's WAL lets the reader and
the writer work at once).

Safety (see security.py): 127.0.0.1 by default; any other address needs a token, generated when not
given; a token, when set, is checked on every request (query parameter `token`, the cookie the first
good request sets, or `Authorization: Bearer`), SSE included. Without a token the Host header must
name a loopback address (no DNS rebinding). Only GET and HEAD; only the files listed by assets.py
and the sources stored in the profile are ever served.

/api/events streams `event: window` (data: {"windows", "end_unix_ns"}) when new windows are in the
file, `event: end` when the recording has finished, and a comment every KEEPALIVE_S.
"""

import gzip
import http.server
import json
import queue
import socket
import sys
import threading
import time
import urllib.parse

from loopscope.server import api, assets, jsontext, security
from loopscope.server.cache import ResponseCache
from loopscope.storage import Profile, ProfileError

FIRST_PORT = 8765
PORTS_TO_TRY = 100
POLL_S = 0.5
KEEPALIVE_S = 15.0
MAX_EVENT_STREAMS = 16
GZIP_MIN_BYTES = 2048


class DashboardError(Exception):
    pass


class ProfilePool:
    """Read-only Profile connections shared by the request threads (one per request at a time)."""

    def __init__(self, path):
        self.path = path
        self.idle = queue.SimpleQueue()

    def acquire(self):
        try:
            return self.idle.get_nowait()
        except queue.Empty:
            return Profile(self.path)

    def release(self, profile):
        self.idle.put(profile)

    def close(self):
        while True:
            try:
                self.idle.get_nowait().close()
            except queue.Empty:
                return


class Dashboard:
    def __init__(self, profile_path, host="127.0.0.1", port=None, token=None):
        self.profile_path = profile_path
        self.host = host
        self.token = security.token_for(host, token)
        self.pool = ProfilePool(profile_path)
        self.assets = assets.load()
        self.cache = ResponseCache()
        self.stopping = threading.Event()
        self.streams = threading.BoundedSemaphore(MAX_EVENT_STREAMS)
        self.open_streams = 0
        self.streams_lock = threading.Lock()
        self.httpd = bind(host, port, self)
        self.port = self.httpd.server_address[1]
        self.thread = None

    @property
    def url(self):
        host = "[%s]" % self.host if ":" in self.host else self.host
        url = "http://%s:%d/" % (host, self.port)
        return url + ("?token=" + self.token if self.token else "")

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                       name="loopscope-dashboard", daemon=True)
        self.thread.start()
        return self

    def close(self, linger_s=0.0):
        """Stop serving; with linger_s, first give open event streams up to that long to tell
        their pages that the recording has ended."""
        deadline = time.monotonic() + linger_s
        had_streams = self.open_streams > 0
        while self.open_streams and time.monotonic() < deadline:
            time.sleep(0.05)
        if had_streams:  # the pages fetch the last windows once told
            time.sleep(max(0.0, min(1.0, deadline - time.monotonic())))
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.pool.close()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False


def bind(host, port, dashboard):
    """The server bound to host:port, or to the first free port from FIRST_PORT up."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    Server.address_family = family
    handler = make_handler(dashboard)
    candidates = [port] if port is not None else range(FIRST_PORT, FIRST_PORT + PORTS_TO_TRY)
    last_error = None
    for candidate in candidates:
        try:
            return Server((host, candidate), handler)
        except OSError as e:
            last_error = e
    if port is not None:
        raise DashboardError("cannot serve the dashboard on %s:%d: %s (choose another --port)"
                             % (host, port, last_error.strerror or last_error))
    raise DashboardError("cannot serve the dashboard: ports %d-%d on %s are all taken (give --port)"
                         % (FIRST_PORT, FIRST_PORT + PORTS_TO_TRY - 1, host))


def make_handler(dashboard):
    class Handler(RequestHandler):
        pass

    Handler.dashboard = dashboard
    return Handler


class RequestHandler(http.server.BaseHTTPRequestHandler):
    dashboard = None
    server_version = "loopscope"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def do_HEAD(self):
        self.do_GET(head=True)

    def do_GET(self, head=False):
        url = urllib.parse.urlsplit(self.path)
        params = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        verdict = security.check_request(self.dashboard.token, self.headers, params,
                                         self.dashboard.host, self.dashboard.port)
        if verdict is not None:
            self.send_json(verdict[0], {"error": verdict[1]}, head)
            return
        set_cookie = security.cookie_for(self.dashboard.token) if "token" in params else None
        path = url.path
        if path == "/api/events":
            self.stream_events()
        elif path.startswith("/api/"):
            self.answer_api(path, params, head)
        else:
            asset = self.dashboard.assets.get(path)
            if asset is None:
                self.send_json(404, {"error": "not found: %s" % path}, head)
            else:
                self.send_body(200, asset.content_type, asset.data, head, set_cookie=set_cookie)

    def do_POST(self):
        self.send_json(405, {"error": "the dashboard only answers GET"})

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_POST

    def answer_api(self, path, params, head):
        """Answer from the cache when the file has not changed since the same question, else ask
        api.dispatch and keep its encoded answer (plain and gzipped)."""
        params.pop("token", None)
        pool, cache = self.dashboard.pool, self.dashboard.cache
        try:
            profile = pool.acquire()
        except ProfileError as e:
            self.send_json(500, {"error": str(e)}, head)
            return
        try:
            key = cache.key(path, params, data_version(profile))
            entry = cache.get(key)
            if entry is None:
                status, body = api.dispatch(profile, path, params)
                entry = (status, encode(body))
                if status == 200:
                    cache.put(key, entry, len(entry[1]))
            else:
                entry = entry[0]
        finally:
            pool.release(profile)
        self.send_body(entry[0], "application/json", entry[1], head)

    def send_json(self, status, body, head=False):
        self.send_body(status, "application/json", encode(body), head)

    def send_body(self, status, content_type, data, head=False, set_cookie=None):
        encoding = None
        if len(data) >= GZIP_MIN_BYTES and "gzip" in self.headers.get("Accept-Encoding", ""):
            data, encoding = gzip.compress(data, 1), "gzip"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if encoding:
            self.send_header("Content-Encoding", encoding)
        if set_cookie:
            self.send_header("Set-Cookie", set_cookie)
        self.send_header("Cache-Control", "no-store")
        for name, value in security.HEADERS:
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def stream_events(self):
        if not self.dashboard.streams.acquire(blocking=False):
            self.send_json(503, {"error": "too many open event streams (%d)" % MAX_EVENT_STREAMS})
            return
        with self.dashboard.streams_lock:
            self.dashboard.open_streams += 1
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "close")
            for name, value in security.HEADERS:
                self.send_header(name, value)
            self.end_headers()
            self.close_connection = True
            self.event_loop()
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with self.dashboard.streams_lock:
                self.dashboard.open_streams -= 1
            self.dashboard.streams.release()

    def event_loop(self):
        last_count, last_sent = None, time.monotonic()
        self.wfile.write(b"retry: 2000\n\n")
        self.wfile.flush()
        while not self.dashboard.stopping.is_set():
            count, end, finished = window_state(self.dashboard.pool)
            if count != last_count:
                self.send_event("window", {"windows": count, "end_unix_ns": end})
                last_count, last_sent = count, time.monotonic()
            if finished:
                self.send_event("end", {"windows": count, "end_unix_ns": end})
                return
            if time.monotonic() - last_sent > KEEPALIVE_S:
                self.wfile.write(b": keepalive\n\n")
                self.wfile.flush()
                last_sent = time.monotonic()
            self.dashboard.stopping.wait(POLL_S)

    def send_event(self, name, data):
        self.wfile.write(("event: %s\ndata: %s\n\n" % (name, json.dumps(data))).encode())
        self.wfile.flush()


def encode(body):
    return jsontext.encode(body)


def data_version(profile):
    """What changes whenever the file's answers may: its window count and whether it has ended."""
    try:
        return profile.version()
    except ProfileError:
        return None


def window_state(pool):
    """(windows in the file, end of the last, whether the recording has finished)."""
    profile = pool.acquire()
    try:
        count, _ = profile.window_count()
        _, end = profile.time_range()
        return count, end, profile.finished()
    except ProfileError as e:
        print("loopscope: dashboard: %s" % e, file=sys.stderr)
        return None, None, False
    finally:
        pool.release(profile)
