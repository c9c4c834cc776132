"""loopscope: a continuous, low-overhead profiler for long-running Python programs.

The C engine (loopscope._engine) reads the stacks of a running CPython from outside; this package is
the thin shell around it: the command line (loopscope.cli) and the functions that turn engine samples
into the documented outputs (loopscope.dumping).
"""

__version__ = "0.1.0"
