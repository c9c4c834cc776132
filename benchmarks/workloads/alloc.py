# Overhead workload "alloc": allocation-heavy - builds and drops lists, dicts, tuples, strings and
# small objects (with reference cycles, so the cyclic GC runs too). See protocol.py.
from protocol import serve


class Node:
    def __init__(self, key, parent):
        self.key = key
        self.parent = parent
        self.children = []


def build(n, seed):
    root = Node(seed, None)
    nodes = [root]
    for i in range(n):
        parent = nodes[(i * 7 + seed) % len(nodes)]
        child = Node({"i": i, "s": str(i * seed)}, parent)
        parent.children.append(child)
        nodes.append(child)
    return sum(len(node.children) for node in nodes) + len(nodes[-1].key["s"])


def work(scale):
    total = 0
    for seed in range(int(4000 * scale)):
        total = (total + build(500, seed) + len([(j, str(j)) for j in range(200)])) & 0xFFFFFFFF
    return total


if __name__ == "__main__":
    serve(work)
