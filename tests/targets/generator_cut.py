# Target (CPython 3.8 - 3.10): a generator's frame, running, whose f_back is cleared in place, as a
# reader sees it when the generator yields between reading the thread's top and reading the frame.
# The main thread runs consumer() -> gen() and, inside gen(), sets gen's own frame's f_back to NULL
# through ctypes (PyFrameObject: PyObject_VAR_HEAD, then f_back, on 64-bit builds at offset 24),
# prints "ready" and sleeps there for good. The chain from the thread's top is then [gen] alone,
# ending at a frame of generator code: a reader must report it as partial, never as a whole stack.
# It is never meant to return (the interpreter would follow the cleared link): it is killed.
import ctypes
import sys
import time

F_BACK_OFFSET = 24


def gen():
    frame = sys._getframe()
    ctypes.c_void_p.from_address(id(frame) + F_BACK_OFFSET).value = None
    del frame
    print("ready", flush=True)
    while True:
        time.sleep(60)
    yield


def consumer():
    for _ in gen():
        pass


if __name__ == "__main__":
    if sys.version_info >= (3, 11) or ctypes.sizeof(ctypes.c_void_p) != 8:
        sys.exit("generator_cut.py is for 64-bit CPython 3.8 - 3.10")
    consumer()
