"""A diagnostic contender for bench_overhead.py: loopscope's C sampler on PID at RATE, its windows
taken and dropped (no profile file, no dashboard), with or without the per-thread /proc reads
(os_info). Beside `loopscope attach` it tells the cost of the sampling itself from the rest.

    python sampler_contender.py PID RATE [os|no-os]
"""
import sys
import time

from loopscope import _engine


def main():
    if len(sys.argv) not in (3, 4) or not sys.argv[1].isdigit():
        sys.exit("usage: python sampler_contender.py PID RATE [os|no-os]")
    pid, rate = int(sys.argv[1]), int(sys.argv[2])
    os_info = (sys.argv[3] if len(sys.argv) > 3 else "os") == "os"
    session = _engine.Session(pid)
    sampler = _engine.Sampler(session, rate_hz=rate, window_s=1.0, main_thread_only=False, os_info=os_info,
                              duration_s=0.0)
    sampler.start()
    try:
        while True:
            time.sleep(0.2)
            sampler.take()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
