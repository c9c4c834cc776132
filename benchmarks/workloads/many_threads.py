# Overhead workload "many_threads": 16 threads share a fixed amount of CPU-bound work (they take
# turns on the GIL), each with a stack of a few frames, so a profiler reads 17 threads per sample.
# See protocol.py (with --stream the threads never end and each counts its own progress).
import threading

from protocol import serve

THREADS = 16


def leaf(x, i):
    return (x * 31 + i) & 0xFFFFF


def worker(n, out, k):
    x = k
    for i in range(n):
        x = leaf(x, i)
    out[k] = x


def work(scale):
    per_thread = int(3000000 * scale)
    out = [0] * THREADS
    threads = [threading.Thread(target=worker, args=(per_thread, out, k), name="worker-%d" % k)
               for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(out) & 0xFFFFFFFF


def stream(slots, done):
    """--stream: the 16 threads run for ever, each counting its units (2,000 leaf calls) in its slot
    and noting each unit's end with done()."""
    def run(k):
        x = k
        while True:
            for i in range(2000):
                x = leaf(x, i)
            slots[k + 1] += 1
            done()

    threads = [threading.Thread(target=run, args=(k,), name="worker-%d" % k, daemon=True) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    serve(work, stream)
