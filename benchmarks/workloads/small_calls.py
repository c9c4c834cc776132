# Overhead workload "small_calls": many tiny Python calls (a few million a second), a shallow
# stack whose top changes all the time. See protocol.py.
from protocol import serve


def add(a, b):
    return a + b


def mix(x):
    return add(x, 7) ^ 0x5A5A


def step(x, i):
    return mix(add(x, i)) & 0xFFFFF


def work(scale):
    x = 1
    for i in range(int(27000000 * scale)):
        x = step(x, i)
    return x


if __name__ == "__main__":
    serve(work)
