# Target for the dashboard's tests: once the recording has begun (the profile file named by argv[1]
# exists), the main thread calls fast() for PHASE_S seconds, then slow() for PHASE_S seconds; a
# helper thread waits in helper_wait() all along. slow() spends three quarters of its time on the
# line marked "hot line" (the hottest line of the file) and a quarter on the next one. It prints one JSON line with the unix times
# (ns) of the phase boundaries and the helper's kernel thread id. Sleeps keep the machine's load low; runs on CPython 3.8 to 3.13.
# The helper thread, the wait for the recording and the phase loop are record_phases.py's.
import json
import sys
import threading
import time

from record_phases import helper_wait, run_phase, wait_for_recording

PHASE_S = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0


def fast():
    time.sleep(0.001)
    time.sleep(0.001)


def slow():
    time.sleep(0.003)  # hot line
    time.sleep(0.001)


def main():
    stop, ids = threading.Event(), []
    helper = threading.Thread(target=helper_wait, args=(stop, ids), name="helper")
    helper.start()
    wait_for_recording(sys.argv[1])
    fast_ns = time.time_ns()
    run_phase(fast, PHASE_S)
    switch_ns = time.time_ns()
    run_phase(slow, PHASE_S)
    end_ns = time.time_ns()
    stop.set()
    helper.join()
    print(json.dumps({"fast_ns": fast_ns, "switch_ns": switch_ns, "end_ns": end_ns, "helper_tid": ids[0]}), flush=True)


if __name__ == "__main__":
    main()
