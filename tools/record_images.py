"""Record the golden memory images that tests/c/test_engine.c and the image fuzzer replay.

For every CPython found (pyenv 3.8..3.13 and Debian's /usr/bin/python3.11) this starts
tests/targets/generators.py (threads blocked in generators, nested calls and methods), waits for its
ground truth, then runs `loopscope dump PID --save-image` and writes, under tests/data/images/:
  <id>.img       the bytes the dump read (the loopscope memory image format)
  <id>.expected  what a replay of the image must print, in test_engine.c's plain format:
                 "thread N NAME" (the name the program gave the thread, "-" for none) then one
                 "  function|file|line" per frame, innermost first
Re-run it after changing what the walker reads: `.venv/bin/python tools/record_images.py`
(or name the images to record again: `... record_images.py cpython-3.9 cpython-3.10`).
"""
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "images")
TARGET = os.path.join(ROOT, "tests", "targets", "generators.py")


def interpreters():
    found = {}
    for path in sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3.*"))):
        name = os.path.basename(path)
        minor = name.split(".")[-1]
        if name.count(".") == 1 and minor.isdigit():
            minor = int(minor)
            if 8 <= minor <= 13:
                found["cpython-3.%d" % minor] = path
    if os.path.exists("/usr/bin/python3.11"):
        found["debian-3.11"] = "/usr/bin/python3.11"
    return found


def expected_text(dump):
    lines = []
    for index, thread in enumerate(dump["threads"]):
        lines.append("thread %d %s" % (index, thread["python_name"] or "-"))
        for frame in reversed(thread["frames"]):
            line = -1 if frame["line"] is None else frame["line"]
            lines.append("  %s|%s|%d" % (frame["function"], frame["file"], line))
    return "\n".join(lines) + "\n"


def record(ident, python):
    with tempfile.TemporaryDirectory() as tmp:
        truth = os.path.join(tmp, "truth.json")
        target = subprocess.Popen([python, TARGET, truth], stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 30
            while not os.path.exists(truth):
                if time.monotonic() > deadline or target.poll() is not None:
                    raise SystemExit("%s: the target did not start" % ident)
                time.sleep(0.05)
            time.sleep(0.3)  # the reporter thread ends
            image = os.path.join(OUT, ident + ".img")
            out = subprocess.run(
                [sys.executable, "-m", "loopscope", "dump", str(target.pid), "--json", "--save-image", image],
                check=True, stdout=subprocess.PIPE,
            ).stdout
            with open(os.path.join(OUT, ident + ".expected"), "w", encoding="utf-8") as f:
                f.write(expected_text(json.loads(out)))
            print("%s: %d bytes" % (ident, os.path.getsize(image)))
        finally:
            target.kill()
            target.wait()


def main():
    """Record every interpreter found, or only those named: record_images.py [ID ...] (cpython-3.10 ...)."""
    os.makedirs(OUT, exist_ok=True)
    found = interpreters()
    wanted = sys.argv[1:] or list(found)
    unknown = [ident for ident in wanted if ident not in found]
    if unknown:
        sys.exit("unknown or missing interpreter %s (found: %s)" % (", ".join(unknown), ", ".join(found)))
    for ident in wanted:
        record(ident, found[ident])


if __name__ == "__main__":
    main()
