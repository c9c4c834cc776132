# Target: a module with a non-ASCII file name whose functions are named with Latin-1 (`función`),
# BMP (`関数`) and astral-plane (`𠀀`, U+20000) characters, so names of all three str kinds
# (1, 2 and 4 bytes per character) appear in the stack, plus a method of a non-ASCII class.
import _harness


class Clase:
    def método(self):
        return función()


def función():
    return 関数()


def 関数():
    return 𠀀()


def 𠀀():
    _harness.park()


def start():
    Clase().método()


if __name__ == "__main__":
    _harness.main(lambda: _harness.spawn(start))
