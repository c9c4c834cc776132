# cache.py - remembers the dashboard's recent answers, so that the views of one selection (flame
# graph, table, source), a page reloaded or a second browser cost one query, not one each.
"""ResponseCache: an LRU of encoded answers keyed by (route, parameters, data version).

The data version is (windows in the file, whether the recording has finished): any new window
changes it, so a live recording never gets a stale answer, and a finished profile's answers stay
until pushed out by newer ones. Entries are bounded in number and in bytes."""

import threading
from collections import OrderedDict

MAX_ENTRIES = 64
MAX_BYTES = 64 * 1024 * 1024


class ResponseCache:
    def __init__(self, max_entries=MAX_ENTRIES, max_bytes=MAX_BYTES):
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self.entries = OrderedDict()
        self.bytes = 0
        self.lock = threading.Lock()
        self.hits = self.misses = 0

    @staticmethod
    def key(path, params, version):
        return (path, tuple(sorted(params.items())), version)

    def get(self, key):
        with self.lock:
            value = self.entries.get(key)
            if value is None:
                self.misses += 1
                return None
            self.entries.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key, value, size):
        if size > self.max_bytes // 4:
            return
        with self.lock:
            if key in self.entries:
                return
            self.entries[key] = (value, size)
            self.bytes += size
            while len(self.entries) > self.max_entries or self.bytes > self.max_bytes:
                _, (_, old_size) = self.entries.popitem(last=False)
                self.bytes -= old_size
