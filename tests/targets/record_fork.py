# Target: runs before_fork() for about a second, prints the unix time (ns) of the fork on stdout,
# forks; the child runs child_work() for a second and exits, the parent runs after_fork() for 1.5 s,
# waits for the child and exits 0. Work is a sleep of a millisecond plus a little computing, in a
# loop. Runs unchanged on CPython 3.8 to 3.13.
import os
import time


def work(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.001)
        sum(range(1000))


def before_fork():
    work(1.0)


def child_work():
    work(1.0)


def after_fork():
    work(1.5)


def main():
    before_fork()
    print(time.time_ns(), flush=True)
    child = os.fork()
    if child == 0:
        child_work()
        os._exit(0)
    after_fork()
    _, status = os.waitpid(child, 0)
    assert status == 0, status


if __name__ == "__main__":
    main()
