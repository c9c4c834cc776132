"""readv_kinds.py - summarise a readv_log.c log of engine_loop on a 3.11 target: the ranges and
calls a sample spends, by kind. Each process_vm_readv is one call, each remote range in it one
range (one take of the target's memory-map lock). A sample starts with its first call: the GIL
holder's word (or the interpreter head with it), the thread state, the 8-byte cframe word, and when
the stack did not move from chunk to chunk, every range the last sample's walk read. A call that
starts with the thread state and cframe word is a retry's. The call after either is the own batch
of a moving stack (chunks, code headers, names: stackbatch.c); what follows until the next sample
is read afresh by the walk (frames, chunks, code headers, names no batch served).

    python3 benchmarks/readv_kinds.py READV_LOG [TS_SIZE]

TS_SIZE is the thread state's size as the engine reads it (360 on 3.11.7; see layout_tables.c).
"""
import collections
import sys


def kinds(path, ts_size):
    samples = 0
    ranges, calls = collections.Counter(), collections.Counter()
    after_start = False
    for line in open(path):
        fields = line.split()
        result = int(fields[1])
        lens = [int(r.split(":")[1]) for r in fields[4:]]
        if lens[1:3] == [ts_size, 8]:
            kind, after_start = "first call", True
            samples += 1
        elif lens[:2] == [ts_size, 8]:
            kind, after_start = "retry: thread state, cframe word (and chunk)", True
        elif after_start:
            kind = "own batch" + (", failed at its first range" if result < 0 else "")
            after_start = False
        else:
            kind = "read afresh by the walk" + (", failed" if result < 0 else "")
        ranges[kind] += len(lens)
        calls[kind] += 1
    return samples, ranges, calls


def main():
    path = sys.argv[1]
    ts_size = int(sys.argv[2]) if len(sys.argv) > 2 else 360
    samples, ranges, calls = kinds(path, ts_size)
    if not samples:
        sys.exit("no first calls found: is TS_SIZE right?")
    print("| kind | ranges a sample | calls a sample |")
    print("|---|---|---|")
    for kind in sorted(ranges, key=lambda k: -ranges[k]):
        print("| %s | %.2f | %.2f |" % (kind, ranges[kind] / samples, calls[kind] / samples))
    print("| all | %.2f | %.2f |" % (sum(ranges.values()) / samples, sum(calls.values()) / samples))
    print("\n%d samples" % samples)


if __name__ == "__main__":
    main()
