# bench_storage_write.py - writes a synthetic 24-hour profile (86,400 one-second windows x ~50 records)
# through ProfileWriter and reports the CPU and wall time per window; its output file is the input
# of bench_storage_read.py. Usage: python benchmarks/bench_storage_write.py OUT.lsp [WINDOWS]
"""Synthetic 24 h profile: 86,400 one-second windows x ~50 records; times writing and profile_dict()."""
import os, random, sys, time
from loopscope.storage import ProfileWriter, Profile

if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
    sys.exit("usage: python benchmarks/bench_storage_write.py OUT.lsp [WINDOWS [STACKS [ZIPF]]] [--big] [--close]")
path = sys.argv[1]
WINDOWS = int(sys.argv[2]) if len(sys.argv) > 2 else 86400
START = 1_700_000_000 * 10**9
rng = random.Random(1)
NFILES, NFUNCS, NFRAMES, NTHREADS = 60, 800, 3000, 4
NSTACKS = int(sys.argv[3]) if len(sys.argv) > 3 else 6000
ZIPF = float(sys.argv[4]) if len(sys.argv) > 4 else 1.1
strings = [(0, "")] + [(i, "/app/mod%d.py" % i) for i in range(1, NFILES + 1)]
strings += [(NFILES + 1 + i, "func_%d" % i) for i in range(NFUNCS)]
functions = [(i, NFILES + 1 + i, rng.randint(1, NFILES), 10 * i) for i in range(NFUNCS)]
frames = [(i, rng.randrange(NFUNCS), rng.randint(1, 500)) for i in range(NFRAMES)]
stacks = [(i, [rng.randrange(NFRAMES) for _ in range(rng.randint(5, 40))]) for i in range(NSTACKS)]
threads = [(i, 1000 + i, 140000000000000 + i, "worker-%d" % i if i else "MainThread") for i in range(NTHREADS)]
meta = dict(command=["python", "app.py"], pid=1, python_version="3.11.7", hexversion=0x30B07F0, rate_hz=100,
            window_s=1.0, mode="attach", start_unix_ns=START)
# Zipf-ish popularity: most samples go to few stacks, the tail appears now and then.
weights = [1.0 / (k + 1) ** ZIPF for k in range(NSTACKS)]
cum = []
acc = 0.0
for w in weights:
    acc += w; cum.append(acc)

def window_records():
    chosen = set()
    while len(chosen) < 50:
        stack = rng.choices(range(NSTACKS), cum_weights=cum)[0]
        chosen.add((rng.randrange(NTHREADS), stack))
    return [(t, s, n, n * 10**7, n * 9 * 10**6, n, n // 2) for (t, s) in chosen for n in [rng.randint(1, 30)]]

t0 = time.perf_counter()
w = ProfileWriter(path, meta, overwrite=True, read_sources=False)
w.add_interned({"strings": strings, "functions": functions, "frames": frames, "stacks": stacks, "threads": threads})
pool = [window_records() for _ in range(500)]   # pre-generated records, reused round-robin
slowest = 0.0
cpu0 = time.process_time()
boundary_cpu = []
plain_cpu = []
for i in range(WINDOWS):
    a = time.perf_counter(); c = time.process_time()
    w.add_window({"index": i, "start_unix_ns": START + i * 10**9, "end_unix_ns": START + (i + 1) * 10**9,
                  "samples": 100, "late": 0, "failed": 0, "process_cpu_ns": 10**9 // 2, "records": pool[i % 500]})
    slowest = max(slowest, time.perf_counter() - a)
    (boundary_cpu if i % 60 == 0 and i else plain_cpu).append(time.process_time() - c)
elapsed = time.perf_counter() - t0
print("cpu %.3f ms/window; windows that complete a minute: cpu median %.1f ms, max %.1f ms; others max %.1f ms" % (
    (time.process_time() - cpu0) / WINDOWS * 1e3, sorted(boundary_cpu)[len(boundary_cpu) // 2] * 1e3,
    max(boundary_cpu) * 1e3, max(plain_cpu) * 1e3))
print("wrote %d windows in %.1f s (%.3f ms/window, slowest %.1f ms); file %.1f MB (+wal %.1f MB)" % (
    WINDOWS, elapsed, elapsed / WINDOWS * 1e3, slowest * 1e3, os.path.getsize(path) / 1e6,
    os.path.getsize(path + "-wal") / 1e6 if os.path.exists(path + "-wal") else 0))
# big window: 10k records
if "--big" not in sys.argv:
    sys.exit()
big = [(t, s, 3, 3 * 10**7, 10**7, 3, 1) for t in range(NTHREADS) for s in range(2500)]
times = []
cpus = []
for j in range(20):
    a = time.perf_counter(); c = time.process_time()
    w.add_window({"index": WINDOWS + j, "start_unix_ns": START + (WINDOWS + j) * 10**9,
                  "end_unix_ns": START + (WINDOWS + j + 1) * 10**9, "samples": 100, "late": 0, "failed": 0,
                  "process_cpu_ns": 1, "records": big})
    times.append((time.perf_counter() - a) * 1e3); cpus.append((time.process_time() - c) * 1e3)
times.sort(); cpus.sort()
print("10k-record windows: wall median %.1f ms (min %.1f, max %.1f); cpu median %.1f ms (min %.1f max %.1f)" % (
    times[10], times[0], times[-1], cpus[10], cpus[0], cpus[-1]))
if "--close" in sys.argv:
    a = time.perf_counter(); w.close(); print("close: %.1f ms" % ((time.perf_counter() - a) * 1e3))
