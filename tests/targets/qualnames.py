# Target: one worker whose stack passes through methods of nested classes, static and class methods,
# a property, a closure, a lambda and a class defined inside a function, so qualified names such as
# `Outer.Inner.method`, `enclosing.<locals>.nested` and `enclosing.<locals>.<lambda>` appear.
import _harness


class Outer:
    class Inner:
        def method(self):
            return Outer.Inner.static_helper()

        @staticmethod
        def static_helper():
            return Outer.Inner.class_helper()

        @classmethod
        def class_helper(cls):
            return Outer().value

    @property
    def value(self):
        return enclosing()


def enclosing():
    def nested():
        return (lambda: local_class_factory())()

    return nested()


def local_class_factory():
    class Local:
        def method(self):
            _harness.park()

    return Local().method()


def start():
    Outer.Inner().method()


if __name__ == "__main__":
    _harness.main(lambda: _harness.spawn(start))
