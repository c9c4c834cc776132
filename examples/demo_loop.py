"""A small never-ending worker loop: the kind of program loopscope is for.

Each iteration pulls a job, parses it, does some arithmetic and a little I/O-like waiting, and goes
round again; a background thread flushes statistics now and then.
"""
import json
import threading
import time


def pull_job(n):
    return json.dumps({"id": n, "values": list(range(n % 50, n % 50 + 3000))})


def parse(raw):
    return json.loads(raw)


def score(values):
    total = 0
    for v in values:
        total += (v * v) % 7
    return total


def handle(job):
    result = score(job["values"])
    time.sleep(0.001)  # waiting on "the database"
    return result


def flush_stats(stats):
    while True:
        time.sleep(0.5)
        stats["flushed"] = stats.get("processed", 0)


def main():
    stats = {}
    threading.Thread(target=flush_stats, args=(stats,), name="stats-flusher", daemon=True).start()
    n = 0
    while True:
        job = parse(pull_job(n))
        handle(job)
        stats["processed"] = n
        n += 1


if __name__ == "__main__":
    main()
