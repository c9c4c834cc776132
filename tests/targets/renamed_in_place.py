# A target whose running function gets a new name at the same address: a thread runs
# before_rename_0() for ever; after a line on stdin the main thread overwrites, in place, the text of
# the str that the code object shows as its name with "after__rename_1" (same length), prints
# "renamed" and waits. Every pointer in the code object stays as it was, as when a new code object
# is made where a freed one was with its strings where the old ones were. A reader that identified
# code objects by their fields' addresses alone would keep the old name. Prints "ready PID" first.
# CPython 3.8 to 3.11 only: 3.12+ number every code object (co_version), which this rename keeps.
# With the argument "bursts" the thread runs the function only in short bursts (about 0.1 ms every
# 10 ms), so that it is seldom on the stack when a sample looks.
import ctypes
import os
import sys
import threading
import time

SOURCE = "def before_rename_0(stop):\n    x = 0\n    while not stop[0]:\n        x += 1\n    return x\n"
BURST_SOURCE = "def before_rename_0(n):\n    x = 0\n    for i in range(n):\n        x += 1\n    return x\n"


def bursts(function):
    while True:
        function(2000)
        time.sleep(0.01)


namespace = {}
if sys.argv[1:] == ["bursts"]:
    exec(compile(BURST_SOURCE, __file__, "exec"), namespace)
    function = namespace["before_rename_0"]
    threading.Thread(target=bursts, args=(function,), daemon=True).start()
else:
    exec(compile(SOURCE, __file__, "exec"), namespace)
    function = namespace["before_rename_0"]
    stop = [False]
    threading.Thread(target=function, args=(stop,), daemon=True).start()
sys.stdout.write("ready %d\n" % os.getpid())
sys.stdout.flush()
sys.stdin.readline()
code = function.__code__
shown = getattr(code, "co_qualname", code.co_name)
new_text = b"after__rename_1"
assert len(new_text) == len(shown) and shown.isascii()
data_offset = sys.getsizeof(shown) - len(shown) - 1  # a compact ASCII str: header, text, NUL
ctypes.memmove(id(shown) + data_offset, new_text, len(new_text))
sys.stdout.write("renamed\n")
sys.stdout.flush()
sys.stdin.readline()
