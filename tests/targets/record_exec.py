# Target: runs before_exec() for about a second, prints the unix time (ns) of the exec on stdout,
# then replaces itself (os.execv, same pid) with `sleep 1` (argv[1] "sleep") or with this Python
# running after_exec() for a second and exiting 4 (argv[1] "python").
# Runs unchanged on CPython 3.8 to 3.13.
import os
import sys
import time

AFTER = """
import time
def after_exec():
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        time.sleep(0.001)
after_exec()
raise SystemExit(4)
"""


def before_exec():
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        time.sleep(0.001)


def main():
    before_exec()
    print(time.time_ns(), flush=True)
    if sys.argv[1] == "sleep":
        os.execv("/bin/sleep", ["sleep", "1"])
    os.execv(sys.executable, [sys.executable, "-c", AFTER])


if __name__ == "__main__":
    main()
