# The dashboard in headless Chromium, on a real recording of tests/targets/dashboard_switch.py (the
# main thread runs fast() for 3 s, then slow(); slow() spends 3/4 of its time on its "hot line"; a
# helper thread waits): the page loads without a console error, the flame graph draws and zooms,
# a time range drives the table, the diff shows slow() as the top growth, the source view marks the
# hottest line, the HTML report opens from file:// with the same top functions, and a live
# recording keeps the page updating. Every test's screenshot is kept (see conftest.py).
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from recordings import SWITCH, hot_line, record_switch  # noqa: E402
from support import free_port, loopscope_command, wait_for_listener  # noqa: E402

from loopscope.reports.html import write_report  # noqa: E402
from loopscope.server.httpd import Dashboard  # noqa: E402

TIMEOUT_MS = 20000


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    return record_switch(str(tmp_path_factory.mktemp("browser")))


@pytest.fixture(scope="module")
def dashboard(recording):
    server = Dashboard(recording[0], port=0).start()
    yield server
    server.close()


def open_dashboard(page, url):
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=TIMEOUT_MS)


def renders(page):
    return int(page.evaluate("document.body.dataset.renders || '0'"))


def wait_for_render_after(page, before):
    page.wait_for_function("n => Number(document.body.dataset.renders || 0) > n", arg=before, timeout=TIMEOUT_MS)


def choose(page, select_id, value):
    before = renders(page)
    page.select_option("#" + select_id, value)
    wait_for_render_after(page, before)


def frames_named(page, canvas_id, name):
    """[(x, y, width)] in page coordinates of the drawn frames of function `name`."""
    graph = "flame" if canvas_id == "flame" else "diffFlame"
    return page.evaluate("""([graph, name]) => {
        const g = window.loopscope[graph];
        const box = g.canvas.getBoundingClientRect();
        const out = [];
        for (let k = 0; k < g.rects.length; k += 4) {
            const i = g.rects[k];
            if (i > 0 && g.data.functions[g.data.nodes.function[i]].name === name)
                out.push([box.left + g.rects[k + 1], box.top + g.rects[k + 2], g.rects[k + 3]]);
        }
        return out;
    }""", [graph, name])


def table_names(page, selector="#functions"):
    cells = " tbody td.name .fn" if selector == "#functions" else " tbody td.name"
    return page.eval_on_selector_all(selector + cells, "cells => cells.map(c => c.textContent)")


def main_thread_value(page):
    return page.eval_on_selector("#thread", "s => [...s.options].find(o => o.text.startsWith('MainThread')).value")


def test_page_loads_and_the_flame_graph_draws_the_hot_function(page, dashboard):
    open_dashboard(page, dashboard.url)
    assert "dashboard_switch.py" in page.text_content("#target")
    assert int(page.get_attribute("#flame", "data-frames")) > 5
    choose(page, "thread", main_thread_value(page))
    choose(page, "granularity", "line")
    # the widest leaf of the main thread is slow()'s hot line: hovering it tells so
    frames = frames_named(page, "flame", "slow")
    assert frames, "slow() is not drawn"
    x, y, width = max(frames, key=lambda f: f[2])
    assert width > 100
    page.mouse.move(x + width / 2, y + 8)
    tooltip = page.text_content("#tooltip")
    assert "slow" in tooltip and "dashboard_switch.py:%d" % hot_line() in tooltip
    assert "total:" in tooltip and "%" in tooltip


def test_clicking_a_frame_zooms_into_it(page, dashboard):
    open_dashboard(page, dashboard.url)
    canvas_width = page.evaluate("document.getElementById('flame').getBoundingClientRect().width")
    x, y, width = frames_named(page, "flame", "fast")[0]
    assert width < canvas_width * 0.6
    page.mouse.click(x + width / 2, y + 8)
    x, y, width = frames_named(page, "flame", "fast")[0]
    assert abs(width - canvas_width) < 2  # fast() now spans the whole graph
    assert not frames_named(page, "flame", "slow")  # a sibling is out of view
    page.click("#reset-zoom")
    assert frames_named(page, "flame", "slow")


def test_search_highlights_matches(page, dashboard):
    open_dashboard(page, dashboard.url)
    page.fill("#search", "^slow$")
    page.wait_for_function("() => document.getElementById('search-result').textContent.startsWith('matched')")
    share = float(page.text_content("#search-result").split()[1].rstrip("%"))
    assert 10 < share < 40  # slow() is half the main thread's time; the helper thread is the rest


def drag_timeline(page, start_fraction, end_fraction):
    box = page.eval_on_selector("#timeline", "c => { const b = c.getBoundingClientRect(); return [b.left, b.top, b.width, b.height]; }")
    left, top, width, height = box
    plot_left, plot_width = left + 44, width - 88  # timeline.js's margins
    before = renders(page)
    page.mouse.move(plot_left + start_fraction * plot_width, top + height / 2)
    page.mouse.down()
    page.mouse.move(plot_left + end_fraction * plot_width, top + height / 2, steps=5)
    page.mouse.up()
    wait_for_render_after(page, before)


def test_selecting_a_time_range_changes_the_table(page, dashboard, recording):
    _, phases = recording
    open_dashboard(page, dashboard.url)
    assert {"fast", "slow"} <= set(table_names(page))
    summary = page.evaluate("window.loopscope.state.summary")
    span = summary["end_unix_ns"] - summary["start_unix_ns"]
    switch = (phases["switch_ns"] - summary["start_unix_ns"]) / span
    drag_timeline(page, 0.0, switch - 1.2e9 / span)
    names = set(table_names(page))
    assert "fast" in names and "slow" not in names
    assert "live" not in page.text_content("#range-label")
    drag_timeline(page, switch + 1.2e9 / span, 1.0)
    names = set(table_names(page))
    assert "slow" in names and "fast" not in names
    before = renders(page)
    page.dblclick("#timeline")
    wait_for_render_after(page, before)
    assert {"fast", "slow"} <= set(table_names(page))


def test_diff_shows_slow_as_the_top_growth(page, dashboard):
    open_dashboard(page, dashboard.url)
    before = renders(page)
    page.click("#tabs button[data-view='diff']")
    wait_for_render_after(page, before)
    names = table_names(page, "#diff-table")
    assert names[0] == "slow", names[:5]
    assert names[-1] == "fast", names[-5:]
    grew = page.text_content("#diff-table tbody tr:first-child td.grew")
    assert grew.startswith("+")
    # the differential flame graph paints slow() red and fast() blue
    colors = page.evaluate("""() => {
        const g = window.loopscope.diffFlame;
        const paint = g.diffColors();
        const out = {};
        for (let k = 0; k < g.rects.length; k += 4) {
            const i = g.rects[k];
            out[g.data.functions[g.data.nodes.function[i]]?.name] = paint(i);
        }
        return out;
    }""")
    red = [int(v) for v in colors["slow"][4:-1].split(",")]
    blue = [int(v) for v in colors["fast"][4:-1].split(",")]
    assert red[0] > red[2] and blue[2] > blue[0]


def test_source_view_marks_the_hottest_line(page, dashboard):
    open_dashboard(page, dashboard.url)
    choose(page, "thread", main_thread_value(page))
    page.click("#functions tbody tr:has(td.name .fn:text-is('slow'))")
    page.wait_for_selector("#source .line[data-line='%d']" % hot_line(), timeout=TIMEOUT_MS)
    assert page.text_content("#source-path") == SWITCH
    page.click("#hottest")
    marked = page.get_attribute("#source .hot-target", "data-line")
    assert int(marked) == hot_line()
    assert "# hot line" in page.text_content("#source .hot-target")
    heat = page.text_content("#source .hot-target .gutter")
    assert "%" in heat


def test_html_report_opens_from_file_with_the_same_top_functions(page, dashboard, recording, tmp_path):
    open_dashboard(page, dashboard.url)
    served = table_names(page)[:4]
    report = write_report(recording[0], str(tmp_path / "report.html"))
    open_dashboard(page, "file://" + report)
    assert table_names(page)[:4] == served
    assert int(page.get_attribute("#flame", "data-frames")) > 5
    assert page.text_content("#status") == "report"
    # the other views of the whole recording are in the file too
    choose(page, "weight", "cpu")
    choose(page, "granularity", "line")
    before = renders(page)
    page.click("#tabs button[data-view='diff']")
    wait_for_render_after(page, before)
    assert table_names(page, "#diff-table")[0] == "slow:%d" % hot_line()


def test_live_recording_keeps_the_page_updating(page, tmp_path):
    path = str(tmp_path / "live.lsp")
    port = free_port()
    process = subprocess.Popen(
        loopscope_command("run", "--port", port, "--window", "0.5", "--no-html", "-q", "-o", path,
                          "--", sys.executable, SWITCH, path, 4.0),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        wait_for_listener(port, process)
        open_dashboard(page, "http://127.0.0.1:%d/" % port)
        assert page.text_content("#status") == "recording"
        assert "live" in page.text_content("#range-label")
        first = renders(page)
        wait_for_render_after(page, first + 1)  # at least two refreshes from new windows
        page.wait_for_function("() => document.getElementById('status').textContent.startsWith('recording ended')",
                               timeout=30000)
        process.wait(timeout=30)
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_page_of_a_recording_without_windows_yet(page, tmp_path):
    from loopscope.storage import ProfileWriter

    meta = {"command": ["python", "app.py"], "pid": 1, "python_version": "3.11.7", "hexversion": 0x30B07F0,
            "rate_hz": 100, "window_s": 1.0, "mode": "wall", "start_unix_ns": time.time_ns()}
    writer = ProfileWriter(str(tmp_path / "new.lsp"), meta, read_sources=False)
    server = Dashboard(writer.path, port=0).start()
    try:
        open_dashboard(page, server.url)
        assert page.text_content("#status") == "recording"
        assert int(page.get_attribute("#flame", "data-frames")) == 0
        assert page.eval_on_selector_all("#functions tbody tr", "rows => rows.length") == 0
    finally:
        server.close()
        writer.close()
