"""`loopscope dump` output and usage, on the recorded golden images (no live process needed).

The images in tests/data/images were recorded from real processes (tools/record_images.py); their
.expected files hold the stacks a replay must give. Here the CLI replays them: the JSON must carry
those stacks in the documented order (outermost first), the text must read like a traceback
(innermost last), and bad input must give a one-line error and a non-zero exit.
"""
import json
import os
import subprocess
import sys

import pytest

IMAGES = os.path.join(os.path.dirname(__file__), "..", "data", "images")
STEMS = sorted(name[:-4] for name in os.listdir(IMAGES) if name.endswith(".img"))


def loopscope(*args):
    return subprocess.run(
        [sys.executable, "-m", "loopscope"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        universal_newlines=True, encoding="utf-8",
    )


def expected_threads(stem):
    """[[(function, file, line), ...innermost first], ...] from the .expected file."""
    threads = []
    with open(os.path.join(IMAGES, stem + ".expected"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("thread "):
                threads.append([])
            else:
                function, filename, lineno = line.strip().rsplit("|", 2)
                threads[-1].append((function, filename, int(lineno)))
    return threads


@pytest.mark.parametrize("stem", STEMS)
def test_json_replay_matches_recording(stem):
    out = loopscope("dump", "--image", os.path.join(IMAGES, stem + ".img"), "--json")
    assert out.returncode == 0, out.stderr
    dump = json.loads(out.stdout)
    assert dump["schema"] == "loopscope.dump/1"
    got = [
        [(f["function"], f["file"], -1 if f["line"] is None else f["line"]) for f in reversed(t["frames"])]
        for t in dump["threads"]
    ]
    assert got == expected_threads(stem)
    assert dump["errors"]["torn_threads"] == 0
    assert dump["python"]["version"].startswith(stem.split("-")[1])


@pytest.mark.parametrize("stem", STEMS)
def test_text_reads_like_a_traceback(stem):
    out = loopscope("dump", "--image", os.path.join(IMAGES, stem + ".img"))
    assert out.returncode == 0, out.stderr
    blocks = out.stdout.split("\n\n")[1:]  # the first block is the process header
    threads = expected_threads(stem)
    assert len(blocks) == len(threads)
    for block, frames in zip(blocks, threads):
        lines = block.strip().splitlines()
        assert lines[0].startswith("Thread 0x")
        assert "[waiting]" in lines[0] or "[running" in lines[0]
        shown = lines[1:]
        # innermost last: the traceback's order is the reverse of the engine's
        assert shown == ['    File "%s", line %d, in %s' % (file, line, fn) for fn, file, line in reversed(frames)]


def test_native_tid_names_threads_by_kernel_id():
    image = os.path.join(IMAGES, STEMS[0] + ".img")
    by_native = loopscope("dump", "--image", image, "--native-tid").stdout
    dump = json.loads(loopscope("dump", "--image", image, "--json").stdout)
    for thread in dump["threads"]:
        assert "Thread %d" % thread["native_id"] in by_native
    assert "Thread 0x" not in by_native


def test_replays_are_identical():
    image = os.path.join(IMAGES, "cpython-3.12.img")
    first = loopscope("dump", "--image", image, "--json").stdout
    assert first and all(loopscope("dump", "--image", image, "--json").stdout == first for _ in range(3))


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "give either a PID or --image FILE"),
        (["123", "--image", "x.img"], "give either a PID or --image FILE"),
        (["--image", "/nonexistent/x.img"], "cannot read image"),
        (["--image", __file__], "is not a loopscope memory image"),
    ],
)
def test_bad_usage_is_one_clear_line(args, message):
    out = loopscope("dump", *args)
    assert out.returncode != 0
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("loopscope: error: ") and message in lines[0]


def test_truncated_image_is_refused_not_crashed(tmp_path):
    with open(os.path.join(IMAGES, "cpython-3.11.img"), "rb") as f:
        data = f.read()
    for cut in (8, 100, len(data) // 2, len(data) - 1):
        damaged = tmp_path / ("cut%d.img" % cut)
        damaged.write_bytes(data[:cut])
        out = loopscope("dump", "--image", str(damaged))
        assert out.returncode in (0, 1), out.stderr  # never a signal
        if out.returncode:
            assert out.stderr.startswith("loopscope: error: ")


def _patched_image(tmp_path, hexversion, scramble_offsets=False):
    """The 3.13 golden image, claiming another version in its facts and in the _Py_DebugOffsets
    header at the start of _PyRuntime (where discovery reads the version from 3.13 on)."""
    import struct

    data = bytearray(open(os.path.join(IMAGES, "cpython-3.13.img"), "rb").read())
    struct.pack_into("<I", data, 12, hexversion)  # facts: magic, pid, hexversion
    runtime = struct.unpack_from("<Q", data, 16)[0]
    at = 24 + 8 + 8  # after runtime, code and frame type addresses
    for _ in range(2):  # version and binary strings
        at += 4 + struct.unpack_from("<I", data, at)[0]
    ntids = struct.unpack_from("<I", data, at)[0]
    at += 4 + 4 * ntids
    nthreads = struct.unpack_from("<I", data, at)[0]
    at += 4 + nthreads * (4 + 2 + 8 + 16)
    nregions = struct.unpack_from("<I", data, at)[0]
    at += 4
    for _ in range(nregions):
        addr, length = struct.unpack_from("<QI", data, at)
        if addr <= runtime < addr + length:
            block = at + 12 + (runtime - addr)
            assert data[block:block + 8] == b"xdebugpy"
            struct.pack_into("<Q", data, block + 8, hexversion)
            if scramble_offsets:  # every offset far beyond its struct: not a layout we can trust
                for k in range(40, 400, 8):
                    struct.pack_into("<Q", data, block + k, 1 << 40)
        at += 12 + length
    path = tmp_path / ("patched-%x.img" % hexversion)
    path.write_bytes(bytes(data))
    return str(path)


def test_a_future_cpython_with_unknown_debug_offsets_is_refused_by_name(tmp_path):
    out = loopscope("dump", "--image", _patched_image(tmp_path, 0x030F00F0))  # 3.15.0
    assert out.returncode != 0
    assert "3.15.0" in out.stderr and "not known" in out.stderr


def test_inconsistent_debug_offsets_are_refused_not_followed(tmp_path):
    out = loopscope("dump", "--image", _patched_image(tmp_path, 0x030D00F0, scramble_offsets=True))
    assert out.returncode != 0
    assert out.stderr.startswith("loopscope: error: ") and "_py_debugoffsets" in out.stderr.lower()


def test_text_marks_a_stack_kept_from_its_outermost_frame():
    from loopscope.dumping import format_text
    frame = {"function": "main", "file": "/app/main.py", "line": 7, "first_line": 5}
    thread = {"thread_id": 0x7f00, "native_id": 42, "name": None, "python_name": None, "interpreter": 0,
              "holds_gil": True, "on_cpu": True, "state": "running", "cpu_time_ns": None,
              "truncated": False, "top_missing": True, "frames": [frame]}
    dump = {"pid": 42, "python": {"version": "3.10.13", "binary": "/usr/bin/python3.10"},
            "threads": [thread], "errors": {"torn_threads": 1}}
    lines = format_text(dump).splitlines()
    assert lines[2] == 'Thread 0x7f00 (native 42) "MainThread" [running, holds GIL, innermost frames moving]'
    assert lines[3:5] == ['    File "/app/main.py", line 7, in main', "    ... (inner frames changed while they were read)"]
