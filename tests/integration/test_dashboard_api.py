# The dashboard's queries and API (loopscope.server.api.dispatch, no sockets) on a real recording of
# tests/targets/dashboard_switch.py: fast() for 3 s, then slow() for 3 s, with a helper thread
# waiting. Each view is checked against what the program did and against the profile's own records
# added up independently here; and the HTML report against the API.
import json
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from recordings import SWITCH, hot_line, record_switch  # noqa: E402

from loopscope.reports.html import request_key, write_report  # noqa: E402
from loopscope.server import api, jsontext  # noqa: E402
from loopscope.storage import Profile  # noqa: E402


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path, phases = record_switch(str(tmp_path_factory.mktemp("dashboard")))
    with Profile(path) as profile:
        yield profile, phases


def get(profile, route, **params):
    """The route's answer as the page gets it (through the server's JSON writer)."""
    status, body = api.dispatch(profile, route, {k: str(v) for k, v in params.items() if v is not None})
    assert status == 200, body
    return json.loads(jsontext.encode(body))


def names_of(body):
    return [f["name"] for f in body["functions"]]


def function_row(body, name):
    names = names_of(body)
    rows = [row for row in body["rows"] if names[row[0]] == name]
    assert rows, "%s is not in the table: %s" % (name, [names[r[0]] for r in body["rows"]])
    return rows[0]


def test_summary_describes_the_recording(recording):
    profile, _ = recording
    summary = get(profile, "/api/summary")
    assert summary["finished"] is True
    assert summary["windows"] >= 5
    profile_, phases = recording
    assert "MainThread" in {t["name"] for t in summary["threads"]}
    assert phases["helper_tid"] in {t["native_id"] for t in summary["threads"]}
    assert SWITCH in summary["sources"]
    assert summary["command"][-3] == SWITCH
    assert summary["start_unix_ns"] < summary["end_unix_ns"]


def test_timeline_adds_up_to_the_windows(recording):
    profile, _ = recording
    timeline = get(profile, "/api/timeline", points=4)
    windows = profile.windows()
    assert len(timeline["bins"]) <= 4
    assert sum(b["samples"] for b in timeline["bins"]) == sum(w["samples"] for w in windows)
    assert sum(b["windows"] for b in timeline["bins"]) == len(windows)
    assert timeline["bins"][0]["start_unix_ns"] == windows[0]["start_unix_ns"]
    assert timeline["bins"][-1]["end_unix_ns"] == windows[-1]["end_unix_ns"]
    for b in timeline["bins"]:
        assert 0 <= b["cpu_percent"] <= 200
        assert b["threads"] == 2  # the main thread and the helper, sampled in every bin
    # each thread's per-bin samples add up to its records
    records = profile.profile_dict()
    threads = {t["native_id"]: t for t in timeline["threads"]}
    for index, (native_id, _tid, _name) in enumerate(records["threads"]):
        expected = sum(r[2] for r in records["records"] if r[0] == index)
        assert sum(cell[0] for cell in threads[native_id]["bins"] if cell) == expected


def test_timeline_of_a_schema_1_file_is_the_same(recording, tmp_path):
    # files written before the time series tables: the reader adds windows and samples up instead
    import shutil
    import sqlite3

    profile, _ = recording
    old = str(tmp_path / "v1.lsp")
    shutil.copy(profile.path, old)
    db = sqlite3.connect(old)
    db.execute("DROP TABLE window_rollups")
    db.execute("DROP TABLE thread_series")
    db.execute("DELETE FROM meta WHERE key = 'series_sizes'")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with Profile(old) as v1:
        for points in (300, 3, 1):
            assert get(v1, "/api/timeline", points=points) == get(profile, "/api/timeline", points=points)


def test_flame_tree_is_the_merged_stacks(recording):
    profile, _ = recording
    flame = get(profile, "/api/flame")
    nodes = flame["nodes"]
    n = len(nodes["parent"])
    assert nodes["parent"][0] == -1
    assert all(0 <= nodes["parent"][i] < i for i in range(1, n))
    # every node's total is its self plus its children's totals
    children_total = [0] * n
    for i in range(1, n):
        children_total[nodes["parent"][i]] += nodes["total"][i]
    for i in range(n):
        assert nodes["total"][i] == nodes["self"][i] + children_total[i]
    # the root is every non-empty stack's wall time, added up here from the records
    data = profile.profile_dict()
    expected = sum(r[3] for r in data["records"] if data["stacks"][r[1]])
    assert nodes["total"][0] == expected
    # fast and slow are leaves' parents under run_phase, each about half of the main thread
    names = names_of(flame)
    by_name = {}
    for i in range(1, n):
        by_name.setdefault(names[nodes["function"][i]], 0)
        by_name[names[nodes["function"][i]]] += nodes["total"][i]
    main_total = by_name["main"]
    for name in ("fast", "slow"):
        assert 0.35 < by_name[name] / main_total < 0.65, (name, by_name[name] / main_total)
    parents = {names[nodes["function"][nodes["parent"][i]]] for i in range(1, n)
               if names[nodes["function"][i]] in ("fast", "slow")}
    assert parents == {"run_phase"}


def test_functions_table_self_and_total(recording):
    profile, _ = recording
    table = get(profile, "/api/functions", thread="MainThread")
    main_total = function_row(table, "main")[3]
    # all but start-up (the interpreter's imports, ~50 ms of the 6 s; twice that on a slow
    # moment of a shared VM) and exit is in main()
    assert main_total >= 0.97 * table["grand_total"]
    run_phase = function_row(table, "run_phase")
    assert run_phase[2] < 0.05 * run_phase[3]  # run_phase itself only loops
    for name in ("fast", "slow"):
        row = function_row(table, name)
        assert row[2] > 0.95 * row[3]  # time.sleep is C code, not a Python frame: the time is theirs
    # sorted by self time
    selfs = [row[2] for row in table["rows"]]
    assert selfs == sorted(selfs, reverse=True)


def test_line_granularity_finds_the_hot_line(recording):
    profile, _ = recording
    table = get(profile, "/api/functions", thread="MainThread", granularity="line")
    names = names_of(table)
    slow_lines = {row[1]: row for row in table["rows"] if names[row[0]] == "slow"}
    hot = hot_line()
    # its two lines, and rarely its `def` line (hot - 1): a sample that lands as slow() is
    # entered, before its first line runs (3.11+ RESUME, or a frame pushed but not yet started)
    assert {hot, hot + 1} <= set(slow_lines) <= {hot - 1, hot, hot + 1}, sorted(slow_lines)
    total = sum(row[2] for row in slow_lines.values())
    assert sum(row[2] for line, row in slow_lines.items() if line == hot - 1) <= 0.02 * total
    share = slow_lines[hot][2] / (slow_lines[hot][2] + slow_lines[hot + 1][2])
    assert 0.6 < share < 0.9, share  # 3 ms of every 4


def test_source_view_heat_and_refusals(recording):
    profile, _ = recording
    source = get(profile, "/api/source", path=SWITCH, thread="MainThread")
    with open(SWITCH, encoding="utf-8") as f:
        assert source["text"] == f.read()
    assert source["hottest_line"] == hot_line()
    lines = {line: (self_w, total) for line, self_w, total in source["lines"]}
    assert all(total >= self_w for self_w, total in lines.values())
    for path in ("/etc/passwd", "../" * 8 + "etc/passwd", SWITCH + "/..", os.path.dirname(SWITCH)):
        status, body = api.dispatch(profile, "/api/source", {"path": path})
        assert status == 404 and "no source file" in body["error"], path


def test_range_selection_changes_the_table(recording):
    profile, phases = recording
    # a range takes whole 1 s windows: keep clear of the window holding the switch
    first = get(profile, "/api/functions", end=phases["switch_ns"] - 1_100_000_000)
    second = get(profile, "/api/functions", start=phases["switch_ns"] + 1_100_000_000)
    assert "slow" not in names_of(first) and "fast" in names_of(first)
    assert "fast" not in names_of(second) and "slow" in names_of(second)


def test_diff_shows_slow_as_the_top_growth(recording):
    profile, phases = recording
    diff = get(profile, "/api/diff", base_start=phases["fast_ns"], base_end=phases["switch_ns"],
               start=phases["switch_ns"], end=phases["end_ns"], thread="MainThread", granularity="line")
    names = names_of(diff)
    top = diff["rows"][0]
    assert names[top[0]] == "sleep" or names[top[0]] == "slow", [names[r[0]] for r in diff["rows"][:5]]
    diff = get(profile, "/api/diff", base_start=phases["fast_ns"], base_end=phases["switch_ns"],
               start=phases["switch_ns"], end=phases["end_ns"], thread="MainThread")
    names = names_of(diff)
    by_total_change = sorted(diff["rows"], key=lambda row: -row[7])
    assert names[by_total_change[0][0]] == "slow"
    assert names[by_total_change[-1][0]] == "fast"
    assert by_total_change[0][7] > 0 > by_total_change[-1][7]
    nodes = diff["nodes"]
    assert nodes["total"][0] > 0 and nodes["base_total"][0] > 0


def test_thread_filter(recording):
    profile, phases = recording
    flame = get(profile, "/api/flame", thread=phases["helper_tid"])
    assert "helper_wait" in names_of(flame)
    assert not {"fast", "slow", "main"} & set(names_of(flame))
    status, body = api.dispatch(profile, "/api/flame", {"thread": "no-such-thread"})
    assert status == 404 and "no thread" in body["error"]


@pytest.mark.parametrize("route, params, message", [
    ("/api/flame", {"weight": "bogus"}, "weight must be one of"),
    ("/api/flame", {"start": "yesterday"}, "must be an integer"),
    ("/api/timeline", {"points": "0"}, "between"),
    ("/api/source", {}, "path is required"),
])
def test_bad_parameters_are_400(recording, route, params, message):
    profile, _ = recording
    status, body = api.dispatch(profile, route, params)
    assert status == 400 and message in body["error"]


def test_unknown_route_is_404(recording):
    profile, _ = recording
    assert api.dispatch(profile, "/api/../../etc/passwd", {})[0] == 404


def test_cpu_weight_differs_from_wall(recording):
    profile, _ = recording
    wall = get(profile, "/api/flame", weight="wall")["nodes"]["total"][0]
    cpu = get(profile, "/api/flame", weight="cpu")["nodes"]["total"][0]
    assert 0 < cpu < wall / 3  # a sleeping workload: far less CPU than wall time


def test_html_report_embeds_the_api_answers(recording, tmp_path):
    profile, _ = recording
    html_path = write_report(profile.path, str(tmp_path / "report.html"))
    text = open(html_path, encoding="utf-8").read()
    data = json.loads(re.search(r'<script type="application/json" id="loopscope-report">(.*?)</script>',
                                text, re.S).group(1))
    responses = data["responses"]
    key = request_key("/api/flame", {"weight": "wall", "granularity": "function"})
    assert responses[key] == get(profile, "/api/flame", weight="wall", granularity="function")
    assert request_key("/api/source", {"path": SWITCH, "weight": "cpu"}) in responses
    # self-contained: no file or address is loaded from anywhere
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="(?!data:)', text)
    assert "Content-Security-Policy" in text and "connect-src 'none'" in text
    assert oct(os.stat(html_path).st_mode & 0o777) != oct(0o600)


def test_a_profile_without_windows_yet(tmp_path):
    # the dashboard opens as soon as the recording starts: before the first window, every view is empty
    from loopscope.storage import ProfileWriter

    meta = {"command": ["python", "app.py"], "pid": 1, "python_version": "3.11.7", "hexversion": 0x30B07F0,
            "rate_hz": 100, "window_s": 1.0, "mode": "wall", "start_unix_ns": 1_700_000_000 * 10**9}
    writer = ProfileWriter(str(tmp_path / "new.lsp"), meta, read_sources=False)
    with Profile(writer.path) as profile:
        assert get(profile, "/api/summary")["windows"] == 0
        assert get(profile, "/api/timeline") == {"step_windows": 1, "bins": [], "threads": []}
        flame = get(profile, "/api/flame")
        assert flame["nodes"]["total"] == [0] and flame["samples"] == 0
        assert get(profile, "/api/functions")["rows"] == []
        assert get(profile, "/api/diff")["rows"] == []
    writer.close()
