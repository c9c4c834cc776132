# Target for the time-range and thread selections of `loopscope export`: once the recording has
# begun (the profile file named by argv[1] exists; it waits up to 10 s for it), the main thread runs
# fast() over and over for PHASE_S seconds, then slow() for PHASE_S seconds, while a helper thread
# waits in helper_wait() all along. It prints one JSON line to stdout with the unix times (ns) of the
# phase boundaries and the helper's kernel thread id. The phases sleep in short steps rather than
# spin, so the target loads the machine little. Runs unchanged on CPython 3.8 to 3.13.
import json
import os
import sys
import threading
import time

PHASE_S = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0


def fast():
    time.sleep(0.002)


def slow():
    time.sleep(0.002)


def helper_wait(stop, ready):
    ready.append(threading.get_native_id())
    while not stop.is_set():
        time.sleep(0.05)


def wait_for_recording(path):
    deadline = time.monotonic() + 10
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.002)


def run_phase(function, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        function()


def main():
    stop, ready = threading.Event(), []
    helper = threading.Thread(target=helper_wait, args=(stop, ready), name="helper")
    helper.start()
    wait_for_recording(sys.argv[1])
    fast_ns = time.time_ns()
    run_phase(fast, PHASE_S)
    switch_ns = time.time_ns()
    run_phase(slow, PHASE_S)
    end_ns = time.time_ns()
    stop.set()
    helper.join()
    print(json.dumps({"fast_ns": fast_ns, "switch_ns": switch_ns, "end_ns": end_ns, "helper_native_id": ready[0]}),
          flush=True)


if __name__ == "__main__":
    main()
