# A target that makes a subinterpreter while it is being sampled: the main thread waits in
# main_wait (short sleeps: 3.11 cannot make an interpreter while another thread spins); on a line
# on stdin a thread that was waiting for it makes a subinterpreter and runs sub_spin in it, which
# writes "running" to stdout (through the file descriptor it is given) and spins for ever. The main
# interpreter's thread list does not change (the thread existed before); the new interpreter goes
# at the head of the runtime's list, so a reader that checks the list by the old interpreter alone
# would never see the new thread. Prints "ready PID" once running. Runs on
# CPython 3.8 to 3.13 (_xxsubinterpreters; 3.13: _interpreters).
import os
import sys
import threading
import time

try:
    import _interpreters as interpreters
except ImportError:
    import _xxsubinterpreters as interpreters

SUB_SOURCE = """
import os


def sub_spin():
    os.write(%d, b"running\\n")
    total = 0
    while True:
        total = (total + 1) & 0xFFFF


sub_spin()
"""


def run_in_subinterpreter():
    interp = interpreters.create()
    interpreters.run_string(interp, SUB_SOURCE % sys.stdout.fileno())


def main_wait():
    while True:
        time.sleep(0.001)


def wait_for_go():
    sys.stdin.readline()
    run_in_subinterpreter()  # in this thread: the main interpreter's thread list stays as it was


threading.Thread(target=wait_for_go, daemon=True).start()
sys.stdout.write("ready %d\n" % os.getpid())
sys.stdout.flush()
main_wait()
