# A target whose stacks never stand still, for stress tests of the sampler's consistency: worker
# threads recurse to random depths through plain functions, methods, generators and a lambda,
# raise and catch exceptions, and new short-lived threads start and end all the time. Every
# function name the program can show is listed in NAMES (printed as JSON on the first line of
# stdout), so a test can check that no sample ever shows a name that is not in the program.
import json
import random
import sys
import threading
import time


def leaf(n):
    total = 0
    for i in range(n * 20):
        total += i
    return total


def recurse(depth):
    if depth <= 0:
        return leaf(random.randint(1, 30))
    if depth % 5 == 0:
        return sum(generate(depth - 1))
    if depth % 7 == 0:
        try:
            fail(depth)
        except ValueError:
            pass
    return Walker().step(depth - 1)


def generate(depth):
    yield recurse(depth)


def fail(depth):
    raise ValueError(depth)


class Walker:
    def step(self, depth):
        return (lambda d: recurse(d))(depth)


def worker(stop):
    while not stop.is_set():
        recurse(random.randint(1, 30))


def short_lived():
    recurse(random.randint(1, 10))


def spawner(stop):
    while not stop.is_set():
        t = threading.Thread(target=short_lived)
        t.start()
        t.join()
        time.sleep(0.001)


NAMES = [
    "leaf", "recurse", "generate", "fail", "Walker.step", "step", "Walker.step.<locals>.<lambda>",
    "<lambda>", "worker", "short_lived", "spawner", "main", "<module>",
]


def main():
    stop = threading.Event()
    for _ in range(3):
        threading.Thread(target=worker, args=(stop,), daemon=True).start()
    threading.Thread(target=spawner, args=(stop,), daemon=True).start()
    print(json.dumps(NAMES), flush=True)
    time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 60)
    stop.set()


if __name__ == "__main__":
    main()
