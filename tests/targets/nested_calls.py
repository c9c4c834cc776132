# Target: a worker thread blocked in time.sleep() at the bottom of seven plain nested calls.
import time

import _harness


def level_1():
    level_2()


def level_2():
    level_3()


def level_3():
    level_4()


def level_4():
    level_5()


def level_5():
    level_6()


def level_6():
    level_7()


def level_7():
    _harness.arrive()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    _harness.main(lambda: _harness.spawn(level_1))
