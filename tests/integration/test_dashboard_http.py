# The dashboard's HTTP server over real sockets on loopback: what it serves, what it refuses (other
# files, path traversal, other methods, foreign Host headers, requests without the token), the
# headers it sets, Server-Sent Events from a live recording, and the `report` command.
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from recordings import SWITCH, record_switch  # noqa: E402
from support import free_port, loopscope_command, run_loopscope, wait_for_listener  # noqa: E402

from loopscope.server.httpd import Dashboard  # noqa: E402

TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def profile_path(tmp_path_factory):
    path, _ = record_switch(str(tmp_path_factory.mktemp("http")), phase_s=1.0)
    return path


@pytest.fixture
def serve(profile_path):
    started = []

    def start(**kwargs):
        dashboard = Dashboard(profile_path, port=0, **kwargs).start()
        started.append(dashboard)
        return dashboard

    yield start
    for dashboard in started:
        dashboard.close()


def request(dashboard, path, method="GET", headers=None, host=None):
    connection = http.client.HTTPConnection("127.0.0.1", dashboard.port, timeout=10)
    try:
        all_headers = {"Host": host or "127.0.0.1:%d" % dashboard.port}
        all_headers.update(headers or {})
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in all_headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_serves_the_page_its_assets_and_the_api(serve):
    dashboard = serve()
    assert dashboard.url == "http://127.0.0.1:%d/" % dashboard.port
    status, headers, body = request(dashboard, "/")
    assert status == 200 and b'<script type="module" src="/js/main.js">' in body
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    for asset in ("/style.css", "/js/main.js", "/js/flamegraph.js"):
        status, headers, _ = request(dashboard, asset)
        assert status == 200, asset
    status, headers, body = request(dashboard, "/api/summary")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["sources"]


def test_large_answers_are_compressed(serve):
    dashboard = serve()
    path = "/api/flame"
    status, headers, plain = request(dashboard, path)
    assert status == 200 and "Content-Encoding" not in headers
    assert len(plain) > 2048
    status, headers, body = request(dashboard, path, headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers.get("Content-Encoding") == "gzip"
    import gzip
    assert gzip.decompress(body) == plain


@pytest.mark.parametrize("path", [
    "/../../../../etc/passwd",
    "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/js/../../server/httpd.py",
    "/js/..%2f..%2fserver%2fhttpd.py",
    "//etc/passwd",
    "/server/httpd.py",
    "/index.html/../../storage/reader.py",
    "/js/",
    "/web/js/main.js",
])
def test_no_other_file_is_served(serve, path):
    dashboard = serve()
    status, _, body = request(dashboard, path)
    assert status == 404, (path, body[:200])
    assert b"root:" not in body and b"import" not in body


def test_only_sources_stored_in_the_profile(serve):
    dashboard = serve()
    ok = request(dashboard, "/api/source?path=" + SWITCH)
    assert ok[0] == 200
    for path in ("/etc/passwd", SWITCH + "/../../../../etc/passwd", os.path.abspath(__file__)):
        status, _, body = request(dashboard, "/api/source?path=" + path)
        assert status == 404 and b"no source file" in body, path


def test_only_get_and_head(serve):
    dashboard = serve()
    for method in ("POST", "PUT", "DELETE"):
        status, _, _ = request(dashboard, "/api/summary", method=method)
        assert status == 405, method
    status, headers, body = request(dashboard, "/api/summary", method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0


def test_foreign_host_header_is_refused(serve):
    # DNS rebinding: a page of evil.example whose name resolves to 127.0.0.1
    dashboard = serve()
    for host in ("evil.example:%d" % dashboard.port, "evil.example", "127.0.0.1.evil.example"):
        status, _, body = request(dashboard, "/api/summary", host=host)
        assert status == 403 and b"Host" in body, host
    for host in ("localhost:%d" % dashboard.port, "127.0.0.1", "[::1]:%d" % dashboard.port):
        assert request(dashboard, "/api/summary", host=host)[0] == 200, host


def test_token_is_checked_on_every_request(serve):
    dashboard = serve(token=TOKEN)
    assert dashboard.url.endswith("/?token=" + TOKEN)
    for path in ("/", "/js/main.js", "/api/summary", "/api/events", "/api/source?path=" + SWITCH):
        status, _, body = request(dashboard, path)
        assert status == 403 and b"token" in body, path
        assert request(dashboard, path + ("&" if "?" in path else "?") + "token=wrong-token")[0] == 403
    # the page with the token sets an HttpOnly cookie that then stands for it
    status, headers, _ = request(dashboard, "/?token=" + TOKEN)
    assert status == 200
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    value = cookie.split(";")[0]
    assert request(dashboard, "/api/summary", headers={"Cookie": value})[0] == 200
    assert request(dashboard, "/api/summary", headers={"Cookie": "loopscope_token=nope"})[0] == 403
    assert request(dashboard, "/api/summary", headers={"Authorization": "Bearer " + TOKEN})[0] == 200


def test_non_loopback_address_gets_a_token(profile_path):
    dashboard = Dashboard(profile_path, host="0.0.0.0", port=0).start()
    try:
        assert dashboard.token and len(dashboard.token) >= 16
        assert dashboard.url.endswith("?token=" + dashboard.token)
        assert request(dashboard, "/api/summary")[0] == 403
        assert request(dashboard, "/api/events")[0] == 403
        assert request(dashboard, "/api/summary?token=" + dashboard.token)[0] == 200
    finally:
        dashboard.close()


def test_taken_port_is_a_clear_error(serve, profile_path):
    from loopscope.server.httpd import DashboardError

    first = serve()
    with pytest.raises(DashboardError, match="choose another --port"):
        Dashboard(profile_path, port=first.port)


def read_events(port, token=None, seconds=30.0, until="end"):
    """The (event, data) pairs of /api/events until event `until` (or the time is up)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=seconds)
    path = "/api/events" + ("?token=" + token if token else "")
    sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n" % (path, port)).encode())
    data, events = b"", []
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            events = re.findall(rb"event: (\w+)\ndata: (.*)\n\n", data)
            if any(name.decode() == until for name, _ in events):
                break
    finally:
        sock.close()
    return data, [(name.decode(), json.loads(body)) for name, body in events]


def test_events_of_a_live_recording(tmp_path):
    # `loopscope run` serves while it records; the stream tells each new window, then the end
    path = str(tmp_path / "live.lsp")
    port = free_port()
    process = subprocess.Popen(
        loopscope_command("run", "--port", port, "--token", TOKEN, "--window", "0.5", "--no-html", "-q",
                          "-o", path, "--", sys.executable, SWITCH, path, 2.0),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, encoding="utf-8")
    try:
        wait_for_listener(port, process)
        refused, _ = read_events(port, seconds=5)
        assert b"403" in refused.split(b"\r\n")[0]
        raw, events = read_events(port, token=TOKEN)
        assert raw.startswith(b"HTTP/1.1 200") and b"text/event-stream" in raw
        windows = [data["windows"] for name, data in events if name == "window"]
        assert len(windows) >= 3 and windows == sorted(windows) and len(set(windows)) == len(windows)
        assert events[-1][0] == "end"
        out, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_run_prints_the_url_with_a_token_for_other_hosts(tmp_path):
    path = str(tmp_path / "p.lsp")
    done = run_loopscope("run", "--host", "0.0.0.0", "--no-html", "-o", path, "--duration", "1",
                         "--", sys.executable, SWITCH, path, 0.5)
    assert done.returncode == 0, done.stderr
    assert re.search(r"dashboard at http://0\.0\.0\.0:\d+/\?token=[\w-]{16,} \(reachable from other hosts", done.stderr)


def test_report_command_writes_html_and_refuses_bad_files(profile_path, tmp_path):
    html = str(tmp_path / "r.html")
    done = run_loopscope("report", profile_path, "--html", html)
    assert done.returncode == 0, done.stderr
    assert "wrote " + html in done.stderr
    with open(html, encoding="utf-8") as f:
        assert 'id="loopscope-report"' in f.read()
    bad = tmp_path / "bad.lsp"
    bad.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    done = run_loopscope("report", str(bad))
    assert done.returncode == 1 and "loopscope: error:" in done.stderr and str(bad) in done.stderr
    done = run_loopscope("report", str(tmp_path / "missing.lsp"))
    assert done.returncode == 1 and "does not exist" in done.stderr


def test_answers_follow_a_file_being_written(tmp_path):
    # the server keeps answers, but a new window in the file is a new answer (no stale view)
    from loopscope.storage import ProfileWriter

    start = 1_700_000_000 * 10**9
    meta = {"command": ["python", "app.py"], "pid": 1, "python_version": "3.11.7", "hexversion": 0x30B07F0,
            "rate_hz": 100, "window_s": 1.0, "mode": "wall", "start_unix_ns": start}
    writer = ProfileWriter(str(tmp_path / "growing.lsp"), meta, read_sources=False)
    writer.add_interned({"strings": [(0, ""), (1, "work"), (2, "/app.py")], "functions": [(0, 1, 2, 1)],
                         "frames": [(0, 0, 3)], "stacks": [(0, [0])], "threads": [(0, 10, 10, "MainThread")]})

    def add(index):
        writer.add_window({"index": index, "start_unix_ns": start + index * 10**9,
                           "end_unix_ns": start + (index + 1) * 10**9, "samples": 100, "late": 0, "failed": 0,
                           "process_cpu_ns": 0, "records": [(0, 0, 100, 10**9, 0, 0, 0)]})

    add(0)
    dashboard = Dashboard(writer.path, port=0).start()
    try:
        def root_total():
            status, _, body = request(dashboard, "/api/flame")
            assert status == 200
            return json.loads(body)["nodes"]["total"][0]

        assert root_total() == 10**9
        assert root_total() == 10**9  # from the cache
        add(1)
        assert root_total() == 2 * 10**9
        writer.close()
        status, _, body = request(dashboard, "/api/summary")
        assert json.loads(body)["finished"] is True
        assert dashboard.cache.hits >= 1
    finally:
        dashboard.close()
