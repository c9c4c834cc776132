# Target: threads named the ways programs name them, for the dump's python_name (read from each
# Thread object): ASCII; non-ASCII of every str kind (Latin-1, BMP, astral); a name longer than
# loopscope keeps (63 bytes, cut at a character boundary); a Thread subclass; a thread whose
# __dict__ was materialised (its attributes move from the inline/shared-key values to a dict on
# 3.11+); and a thread renamed after it started (the dump reads the name as it is now).
import threading

import _harness


def blocked():
    _harness.park()


class Worker(threading.Thread):
    def run(self):
        _harness.park()


def setup():
    _harness.spawn(blocked, name="stats-flusher")
    _harness.spawn(blocked, name="w\u00f6rker \u00fc \u95a2\u6570 \U00020000")
    _harness.spawn(blocked, name="long-" + "\u00e9" * 70)
    materialised = _harness.spawn(blocked, name="dict-materialised")
    materialised.__dict__["extra"] = 1
    renamed = _harness.spawn(blocked, name="before-rename")
    renamed.name = "after-rename"
    worker = Worker(name="subclass", daemon=True)
    _harness._expected_arrivals += 1
    _harness._spawned.append(worker)
    worker.start()


if __name__ == "__main__":
    _harness.main(setup)
