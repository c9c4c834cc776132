# Target: a worker blocked at the bottom of a 1,000-deep recursion.
import sys
import threading

import _harness

DEPTH = 1000


def descend(remaining):
    if remaining > 1:
        return descend(remaining - 1)
    _harness.park()


def setup():
    sys.setrecursionlimit(DEPTH + 1000)
    threading.stack_size(64 * 1024 * 1024)  # room for 1,000 C-level calls on 3.8 - 3.10
    _harness.spawn(descend, DEPTH)
    threading.stack_size(0)


if __name__ == "__main__":
    _harness.main(setup)
