# Target: one worker blocked inside a generator resumed by next(), another blocked at the bottom of a
# `yield from` chain three generators deep driven by a for loop.
import _harness


def counting_generator():
    yield 1
    _harness.park()
    yield 2


def drive_generator():
    numbers = counting_generator()
    next(numbers)
    next(numbers)


def leaf_generator():
    yield "leaf"
    _harness.park()
    yield "never"


def middle_generator():
    yield from leaf_generator()


def top_generator():
    yield from middle_generator()


def drive_yield_from():
    for _ in top_generator():
        pass


def setup():
    _harness.spawn(drive_generator)
    _harness.spawn(drive_yield_from)


if __name__ == "__main__":
    _harness.main(setup)
