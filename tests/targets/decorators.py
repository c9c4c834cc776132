# Target: one worker blocked under two stacked functools.wraps decorators and a class-based decorator.
# The wrappers' frames carry their code's names (`logged.<locals>.wrapper`, `Traced.__call__`), not
# the wrapped function's __qualname__.
import functools

import _harness


def logged(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return function(*args, **kwargs)

    return wrapper


def counted(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        wrapper.calls += 1
        return function(*args, **kwargs)

    wrapper.calls = 0
    return wrapper


class Traced:
    def __init__(self, function):
        functools.update_wrapper(self, function)
        self.function = function

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)


@Traced
def innermost():
    _harness.park()


@logged
@counted
def decorated_twice():
    return innermost()


if __name__ == "__main__":
    _harness.main(lambda: _harness.spawn(decorated_twice))
