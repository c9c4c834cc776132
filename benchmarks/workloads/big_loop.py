# Overhead workload "big_loop": one function, long arithmetic loops, no calls: the stack never
# changes, only the line. See protocol.py.
from protocol import serve


def work(scale):
    x, y = 1, 2
    for i in range(int(25000000 * scale)):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        y = (y + (x >> 7)) % 1000003
    return x ^ y


if __name__ == "__main__":
    serve(work)
