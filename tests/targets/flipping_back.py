# Target (CPython 3.8 - 3.10): a top frame whose caller link keeps changing, as a reader sees a
# thread that calls and returns while its frames are read. The main thread runs main() -> spin(),
# and spin() rewrites its own frame's f_back through ctypes (PyFrameObject: PyObject_VAR_HEAD,
# then f_back, on 64-bit builds at offset 24) in a loop, back and forth between its real caller
# (main's frame) and the frame of a suspended generator (whose own f_back is NULL). A walk and its
# re-check then often disagree about spin's caller while main's frame and the module's hold
# still: a reader must never show `suspended` as a whole stack's caller of spin, and may keep the
# outer part [<module>, main] of a stack whose top moved. Prints "ready" once it spins. Never
# meant to return (the interpreter would follow the rewritten link): it is killed.
import ctypes
import sys

F_BACK_OFFSET = 24


def suspended():
    yield


def spin(other):
    slot = ctypes.c_void_p.from_address(id(sys._getframe()) + F_BACK_OFFSET)
    real = slot.value
    print("ready", flush=True)
    while True:
        slot.value = other
        slot.value = real


def main():
    generator = suspended()
    next(generator)
    spin(id(generator.gi_frame))


if __name__ == "__main__":
    main()
