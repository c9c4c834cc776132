# Target: workers blocked inside a list, dict and set comprehension, a generator expression and a
# nested list comprehension. Up to 3.11 each has its own frame (`<listcomp>`, `<genexpr>`...);
# from 3.12 on list, dict and set comprehensions are inlined into the enclosing function.
import _harness


def in_list_comprehension():
    return [_harness.park() for _ in range(1)]


def in_dict_comprehension():
    return {key: _harness.park() for key in range(1)}


def in_set_comprehension():
    return {_harness.park() for _ in range(1)}


def in_generator_expression():
    return sum(_harness.park() or 0 for _ in range(1))


def in_nested_comprehension():
    return [[_harness.park() for _ in range(1)] for _ in range(1)]


def setup():
    for worker in (in_list_comprehension, in_dict_comprehension, in_set_comprehension,
                   in_generator_expression, in_nested_comprehension):
        _harness.spawn(worker)


if __name__ == "__main__":
    _harness.main(setup)
