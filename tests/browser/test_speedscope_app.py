# Our speedscope export opens in the real speedscope application (npm speedscope@1.25.0's built app,
# installed by scripts/setup-dev.sh into build/npm) in headless Chromium: a profile recorded from a
# real Python process imports without an error, shows its name, and its hot function is listed; a
# corrupt file does show speedscope's import error (so the check can fail).
#
# speedscope loads #profileURL=<url> only over http, so the app and the profile are served together.
# On failure it renders "Something went wrong." (an exception while importing) or alerts
# "Unrecognized format!" (no importer recognised the file); it draws flame graphs on WebGL, so the
# checks read the DOM: the page title (the file's "name"), the toolbar (the active profile's name)
# and the Sandwich view's table of function names.
import json
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from support import require, run_loopscope  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEEDSCOPE_APP = os.path.join(REPO, "build", "npm", "node_modules", "speedscope", "dist", "release")
HOT = "speedscope_hot_spin"
IMPORT_FAILED = "Something went wrong."
UNRECOGNIZED = "Unrecognized format!"
TIMEOUT_MS = 15000

WORKLOAD = """\
import time

def %s(n):  # nearly all of the CPU time
    total = 0
    for i in range(n):
        total += i * i
    return total

end = time.monotonic() + 1.5
while time.monotonic() < end:
    %s(20000)
""" % (HOT, HOT)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """The speedscope export of a real recording of WORKLOAD, and the export as parsed JSON."""
    directory = tmp_path_factory.mktemp("speedscope")
    script = directory / "busy_worker.py"
    script.write_text(WORKLOAD)
    result = run_loopscope("run", "-q", "--rate", "200", "-o", directory / "busy.lsp", "--export", "speedscope",
                           "--", sys.executable, script)
    assert result.returncode == 0, result.stderr
    path = directory / "busy.speedscope.json"
    with open(path) as f:
        return path, json.load(f)


@pytest.fixture
def open_in_speedscope(page, static_server, tmp_path):
    """open_in_speedscope(profile path) -> the page with speedscope loading that file over http."""
    require(os.path.exists(os.path.join(SPEEDSCOPE_APP, "index.html")),
            "the speedscope app is missing in %s: run scripts/setup-dev.sh (needs npm)" % SPEEDSCOPE_APP)
    root = tmp_path / "site"
    root.mkdir()
    os.symlink(SPEEDSCOPE_APP, root / "speedscope")

    def open_file(profile_path):
        name = os.path.basename(profile_path)
        os.symlink(profile_path, root / name)
        base = static_server(root)
        page.goto("%sspeedscope/index.html#profileURL=%s%s" % (base, base, name))
        return page

    return open_file


def test_export_opens_in_speedscope(recorded, open_in_speedscope, browser_problems):
    from playwright.sync_api import expect

    path, exported = recorded
    active = exported["profiles"][exported.get("activeProfileIndex", 0)]
    assert exported["name"] and "busy_worker.py" in exported["name"], exported["name"]
    page = open_in_speedscope(path)

    # speedscope titles the page "<file name> - speedscope" once the import succeeded
    expect(page).to_have_title("%s - speedscope" % exported["name"], timeout=TIMEOUT_MS)
    expect(page.get_by_text(active["name"], exact=False).first).to_be_visible()
    assert IMPORT_FAILED not in page.inner_text("body")
    assert browser_problems.dialogs == [], "speedscope complained: %s" % browser_problems.dialogs

    # the Sandwich view is a DOM table of every function, by self time: the hot function comes first
    page.get_by_text("Sandwich").click()  # "🥪Sandwich"
    expect(page.get_by_text("Symbol Name")).to_be_visible()
    expect(page.get_by_text(HOT, exact=True).first).to_be_visible()
    symbols = page.locator("tr > td:last-child").all_inner_texts()
    assert symbols and symbols[0].strip() == HOT, "sandwich rows: %s" % symbols[:10]


def corrupt(kind, path, exported):
    """Bytes of a corrupt file: the export cut in half, the export with frame indexes out of range, or
    text that is no profile at all."""
    if kind == "truncated":
        data = path.read_bytes()
        return data[: len(data) // 2]
    if kind == "bad-frame-index":
        broken = json.loads(json.dumps(exported))
        for profile in broken["profiles"]:
            profile["samples"] = [[len(broken["shared"]["frames"]) + 5] for _ in profile["samples"]]
        return json.dumps(broken).encode()
    return b"this is not a profile\n" * 10


def import_error(page, problems):
    """Wait for speedscope's import error: the error view, or the alert; returns which, or None."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        if any(UNRECOGNIZED in dialog for dialog in problems.dialogs):
            return UNRECOGNIZED
        if page.get_by_text(IMPORT_FAILED).is_visible():
            return IMPORT_FAILED
        page.wait_for_timeout(50)
    return None


@pytest.mark.parametrize("kind", ["truncated", "bad-frame-index", "garbage"])
def test_corrupt_file_shows_import_error(kind, recorded, open_in_speedscope, browser_problems, tmp_path):
    path, exported = recorded
    bad = tmp_path / ("%s.speedscope.json" % kind)
    bad.write_bytes(corrupt(kind, path, exported))
    page = open_in_speedscope(bad)
    assert import_error(page, browser_problems), "speedscope showed no import error for a %s file" % kind
    assert page.title() == "speedscope"  # it names no profile
    browser_problems.clear()
