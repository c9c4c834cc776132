# bench_storage_read.py - times Profile.profile_dict() (the query behind exports and the dashboard)
# on a profile, for the last minute, hour, whole day, random ranges and one thread: median of 7 runs.
# Usage: python benchmarks/bench_storage_read.py PROFILE.lsp  (e.g. the 24 h file of bench_storage_write.py)
import sys, time
from loopscope.storage import Profile
if len(sys.argv) != 2 or sys.argv[1].startswith("-"):
    sys.exit("usage: python benchmarks/bench_storage_read.py PROFILE.lsp")
p = Profile(sys.argv[1])
start, end = p.time_range()
def timed(label, **kw):
    walls, cpus = [], []
    for _ in range(7):
        a = time.perf_counter(); c = time.process_time(); d = p.profile_dict(**kw)
        walls.append((time.perf_counter() - a) * 1e3); cpus.append((time.process_time() - c) * 1e3)
    print("%-24s wall first %6.1f median %6.1f ms | cpu median %6.1f ms | %5d records %5d stacks" % (
        label, walls[0], sorted(walls)[3], sorted(cpus)[3], len(d["records"]), len(d["stacks"])))
timed("last minute", start_ns=end - 60 * 10**9)
timed("last hour", start_ns=end - 3600 * 10**9)
timed("whole day", )
timed("random 90 min", start_ns=start + 12345 * 10**9, end_ns=start + (12345 + 5400) * 10**9)
timed("random 7 h", start_ns=start + 4321 * 10**9, end_ns=start + (4321 + 25200) * 10**9)
timed("whole day, one thread", thread="worker-2")
a = time.perf_counter(); n = len(p.windows()); print("windows(): %d in %.1f ms" % (n, (time.perf_counter() - a) * 1e3))
