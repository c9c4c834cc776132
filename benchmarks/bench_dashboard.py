# bench_dashboard.py - the dashboard's speed targets: (1) a flame graph of 100,000 distinct stacks in
# headless Chromium: time to first draw and to redraw after a zoom (target < 200 ms); (2) the API's
# latency for range queries on a 24-hour profile (target < 100 ms).
"""Usage: python benchmarks/bench_dashboard.py [--day PROFILE.lsp] [--rounds N] [--json OUT]

(1) Flame graph. A synthetic profile of 100,000 distinct stacks (each shares a random prefix of an
earlier one and adds 1-5 frames of 2,000 functions in 100 files, so the tree is about as bushy as a
real service's) goes through the server's own call-tree code (loopscope.server.calltree, timed too)
into the JSON the page gets. Each round opens a fresh page in Debian's Chromium (the page loads our
real flamegraph.js from a local server) and times, with performance.now():
  - parse: JSON.parse of the answer;
  - first draw: FlameGraph.setData() (layout + canvas draw, synchronous), and until the next frame
    is presented (requestAnimationFrame, then a task) - the figure the target is about;
  - zoom: a real click on the widest frame at depth 2, until the next frame;
  - hover: one mousemove hit test with the tooltip update.
(2) API. With --day (the 24 h file of benchmarks/bench_storage_write.py; 86,400 windows x ~50
records), each round asks every route once, in turn, of two real HTTP servers on 127.0.0.1
(urllib, no gzip), interleaved: one whose answer cache is off (cold: every request queries the
file) and the normal one (warm: the same question again, answered from its cache while the file
has not changed). It times the whole request.
Each figure: median [min-max] of the rounds.
"""

import argparse
import functools
import http.server
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))

from loopscope.server import calltree, jsontext, queries  # noqa: E402

WEB = os.path.join(ROOT, "src", "loopscope", "web")
CHROMIUM = os.environ.get("LOOPSCOPE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--no-first-run"]

PAGE = """<!doctype html><meta charset="utf-8"><title>flame bench</title>
<link rel="stylesheet" href="style.css">
<div class="flame-box" style="width:1400px;height:800px"><canvas id="flame"></canvas></div>
<div id="tooltip" class="tooltip" hidden></div>
<script type="module" src="bench.js"></script>
"""

BENCH_JS = """import { FlameGraph } from './js/flamegraph.js';
const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
window.runBench = async () => {
  const text = await (await fetch('flame.json')).text();
  let t = performance.now();
  const data = JSON.parse(text);
  const parse = performance.now() - t;
  const graph = new FlameGraph(document.getElementById('flame'), document.getElementById('tooltip'), {});
  await frame();
  t = performance.now();
  graph.setData(data, false);
  const drawSync = performance.now() - t;
  await frame();
  const firstDraw = performance.now() - t;
  const framesDrawn = graph.drawnFrames;
  // the widest frame at depth 2, clicked for real
  const { depth } = graph.layoutData;
  let best = -1;
  for (let k = 0; k < graph.rects.length; k += 4) {
    const i = graph.rects[k];
    if (depth[i] === 2 && (best < 0 || graph.rects[k + 3] > graph.rects[best + 3])) best = k;
  }
  const box = graph.canvas.getBoundingClientRect();
  const x = box.left + graph.rects[best + 1] + graph.rects[best + 3] / 2;
  const y = box.top + graph.rects[best + 2] + 8;
  t = performance.now();
  graph.canvas.dispatchEvent(new MouseEvent('click', { clientX: x, clientY: y, bubbles: true }));
  const zoomSync = performance.now() - t;
  await frame();
  const zoom = performance.now() - t;
  t = performance.now();
  graph.canvas.dispatchEvent(new MouseEvent('mousemove', { clientX: x, clientY: y + 17, bubbles: true }));
  const hover = performance.now() - t;
  return { parse, drawSync, firstDraw, zoomSync, zoom, hover, framesDrawn, nodes: data.nodes.parent.length };
};
"""


def synthetic_profile(n_stacks=100_000, seed=7):
    """A profile dict (as Profile.profile_dict() returns) of n_stacks distinct stacks."""
    rng = random.Random(seed)
    n_files, n_functions = 100, 2000
    strings = [""] + ["/srv/app/module_%d.py" % i for i in range(n_files)] + ["handler_%d" % i for i in range(n_functions)]
    functions = [(1 + n_files + i, 1 + rng.randrange(n_files), 10 + i) for i in range(n_functions)]
    frames = [(rng.randrange(n_functions), rng.randint(1, 400)) for _ in range(20_000)]
    roots = [rng.randrange(len(frames)) for _ in range(3)]
    stacks, seen = [], set()
    while len(stacks) < n_stacks:
        if stacks:
            base = stacks[rng.randrange(len(stacks))]
            prefix = base[:rng.randint(1, len(base))]
        else:
            prefix = [roots[0]]
        stack = tuple(prefix) + tuple(rng.randrange(len(frames)) for _ in range(rng.randint(1, 5)))
        if len(stack) > 60 or stack in seen:
            continue
        seen.add(stack)
        stacks.append(stack)
    records = [(0, i, n, n * 10_000_000, n * 5_000_000, n, 0)
               for i in range(n_stacks) for n in [max(1, int(rng.paretovariate(1.2)))]]
    # stored stacks are leaf first
    return {"strings": strings, "functions": functions, "frames": frames,
            "stacks": [list(reversed(s)) for s in stacks], "threads": [(1, 1, "MainThread")], "records": records,
            "meta": {"duration_ns": 3600 * 10**9, "start_unix_ns": 0}}


def flame_answer(profile):
    started = time.process_time()
    weights = calltree.series(profile, "wall")
    tree = calltree.call_tree(profile, [weights])
    build_s = time.process_time() - started
    answer = {"functions": queries.describe_functions(profile),
              "nodes": {"parent": tree["parent"], "function": tree["function"], "line": tree["line"],
                        "self": tree["self"][0], "total": tree["total"][0]},
              "weight": "wall", "seconds": 3600.0, "samples": 0}
    return answer, build_s


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=directory))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def summarize(values):
    ordered = sorted(values)
    return {"median": statistics.median(ordered), "min": ordered[0], "max": ordered[-1], "n": len(ordered)}


def fmt(s, unit="ms"):
    return "%.1f [%.1f-%.1f] %s" % (s["median"], s["min"], s["max"], unit)


def bench_flame(rounds):
    from playwright.sync_api import sync_playwright

    profile = synthetic_profile()
    answer, build_s = flame_answer(profile)
    text = jsontext.text(answer)
    with tempfile.TemporaryDirectory() as directory:
        os.symlink(os.path.join(WEB, "js"), os.path.join(directory, "js"))
        os.symlink(os.path.join(WEB, "style.css"), os.path.join(directory, "style.css"))
        with open(os.path.join(directory, "index.html"), "w") as f:
            f.write(PAGE)
        with open(os.path.join(directory, "bench.js"), "w") as f:
            f.write(BENCH_JS)
        with open(os.path.join(directory, "flame.json"), "w") as f:
            f.write(text)
        server = serve(directory)
        url = "http://127.0.0.1:%d/index.html" % server.server_address[1]
        results = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for _ in range(rounds):
                page = browser.new_page(viewport={"width": 1500, "height": 900})
                page.goto(url)
                page.wait_for_function("() => typeof window.runBench === 'function'")
                results.append(page.evaluate("() => window.runBench()"))
                page.close()
            version = browser.version
            browser.close()
        server.shutdown()
    keys = ("parse", "drawSync", "firstDraw", "zoomSync", "zoom", "hover")
    return {
        "stacks": len(profile["stacks"]), "nodes": results[0]["nodes"], "json_bytes": len(text),
        "frames_drawn": results[0]["framesDrawn"], "server_tree_cpu_ms": build_s * 1e3, "chromium": version,
        **{key: summarize([r[key] for r in results]) for key in keys},
    }


def bench_api(day_path, rounds):
    from loopscope.server.httpd import Dashboard
    from loopscope.storage import Profile

    with Profile(day_path) as profile:
        start, end = profile.time_range()
        threads = profile.threads()
    hour = 3600 * 10**9
    routes = {
        "summary": "/api/summary",
        "timeline, whole day (300 points)": "/api/timeline?points=300",
        "timeline, last hour": "/api/timeline?points=300&start=%d" % (end - hour),
        "flame, last minute": "/api/flame?start=%d" % (end - 60 * 10**9),
        "flame, last hour": "/api/flame?start=%d" % (end - hour),
        "flame, whole day": "/api/flame",
        "flame, whole day, one thread": "/api/flame?thread=%d" % threads[1]["native_id"],
        "functions, whole day, by line": "/api/functions?granularity=line",
        "diff, an hour ago vs the last hour": "/api/diff?base_start=%d&base_end=%d&start=%d" % (
            end - 2 * hour, end - hour, end - hour),
        "diff, first half vs second half of the day": "/api/diff?base_end=%d&start=%d" % (
            start + (end - start) // 2, start + (end - start) // 2),
    }
    from loopscope.server.cache import ResponseCache

    # cold: a server whose cache keeps nothing (every request queries the file); warm: the normal
    # server asked the same again (a second view of the same selection, a reload, another browser)
    selection_cache_size = queries.SELECTIONS.size
    cold_server = Dashboard(day_path, port=0).start()
    cold_server.cache = ResponseCache(max_entries=0)
    warm_server = Dashboard(day_path, port=0).start()
    times = {(kind, name): [] for kind in ("cold", "warm") for name in routes}
    sizes = {}
    try:
        for _ in range(rounds):
            for name, path in routes.items():
                for kind, server in (("cold", cold_server), ("warm", warm_server)):
                    # the servers share this process's selection cache: off and empty for cold
                    queries.SELECTIONS.entries.clear()
                    queries.SELECTIONS.size = 0 if kind == "cold" else selection_cache_size
                    t = time.perf_counter()
                    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (server.port, path)) as response:
                        body = response.read()
                    if kind == "warm" and len(times[(kind, name)]) == 0:
                        # the first warm request fills the cache: ask again for the warm figure
                        t = time.perf_counter()
                        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (server.port, path)) as response:
                            body = response.read()
                    times[(kind, name)].append((time.perf_counter() - t) * 1e3)
                    sizes[name] = len(body)
    finally:
        queries.SELECTIONS.size = selection_cache_size
        cold_server.close()
        warm_server.close()
    return {name: {"cold": summarize(times[("cold", name)]), "warm": summarize(times[("warm", name)]),
                   "bytes": sizes[name]} for name in routes}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--day", help="a 24 h profile (benchmarks/bench_storage_write.py OUT.lsp)")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args()
    out = {"rounds": args.rounds, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "load": os.getloadavg()}
    flame = bench_flame(args.rounds)
    out["flame"] = flame
    print("flame graph of %d distinct stacks: %d nodes, %.1f MB of JSON, %d frames drawn; Chromium %s"
          % (flame["stacks"], flame["nodes"], flame["json_bytes"] / 1e6, flame["frames_drawn"], flame["chromium"]))
    print("  server call-tree build (Python, CPU): %.0f ms" % flame["server_tree_cpu_ms"])
    for key, label in (("parse", "JSON.parse"), ("drawSync", "setData (layout + draw), synchronous"),
                       ("firstDraw", "first draw, until the frame is presented"),
                       ("zoomSync", "zoom click, synchronous"), ("zoom", "zoom click, until the frame is presented"),
                       ("hover", "hover (hit test + tooltip)")):
        print("  %-45s %s" % (label, fmt(flame[key])))
    if args.day:
        out["api"] = bench_api(args.day, args.rounds)
        print("API on %s (HTTP, whole request; cold = no cache, warm = answered from the cache):" % args.day)
        for name, s in out["api"].items():
            print("  %-45s cold %s  warm %s  (%d bytes)" % (name, fmt(s["cold"]), fmt(s["warm"]), s["bytes"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
