"""Dump every standard-library code object's line table together with CPython's own answers.

Run this under the CPython to be checked (3.8 .. 3.13): ``python3.X tools/dump_code_tables.py OUT``.
It compiles every ``.py`` file under ``sysconfig.get_paths()['stdlib']`` (Lib/test included,
site-packages and files that do not compile skipped), walks each module's code object and the
code objects nested in ``co_consts``, and writes to OUT a marshal (format 2, readable by any
3.8+) of ``(header, records)``:

- ``header``: dict with ``version`` (sys.version), ``hexversion``, ``kind``, ``files``,
  ``failed_files``, ``seconds``.
- ``records``: list of tuples ``(label, kind, table, firstlineno, code_len, neg, answers, lines)``:
  ``kind`` 1 (co_lnotab, <3.10), 2 (3.10 co_linetable) or 3 (3.11+ location table); ``table`` the
  raw bytes; ``code_len`` the bytecode length in the decoder's units (bytes for kinds 1 and 2,
  2-byte code units for kind 3); ``neg`` = PyCode_Addr2Line(code, -1); ``answers`` CPython's
  PyCode_Addr2Line at every even byte offset 0 .. len(co_code) - 2, run-length encoded as a flat
  list ``[count, line, count, line, ...]``; ``lines`` = ``tuple(code.co_lines())`` on 3.10+
  (ranges in bytes, line possibly None), else None.

The ground truth is CPython itself (PyCode_Addr2Line through ctypes); nothing here decodes a
table. The script keeps to syntax and APIs that 3.8 has.
"""

import ctypes
import marshal
import os
import sys
import sysconfig
import time
import types
import warnings

MARSHAL_VERSION = 2

if sys.version_info >= (3, 11):
    KIND = 3
elif sys.version_info >= (3, 10):
    KIND = 2
else:
    KIND = 1

_addr2line = ctypes.pythonapi.PyCode_Addr2Line
_addr2line.argtypes = [ctypes.py_object, ctypes.c_int]
_addr2line.restype = ctypes.c_int


def source_files(root):
    """Every .py file under root, sorted, outside site-packages/dist-packages."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ("site-packages", "dist-packages", "__pycache__"))
        for name in sorted(filenames):
            if name.endswith(".py"):
                yield os.path.join(dirpath, name)


def code_objects(code):
    """code and every code object nested in its constants, depth first."""
    stack = [code]
    while stack:
        co = stack.pop()
        yield co
        stack.extend(c for c in reversed(co.co_consts) if isinstance(c, types.CodeType))


def run_length(values):
    out = []
    for v in values:
        if out and out[-1] == v:
            out[-2] += 1
        else:
            out.extend((1, v))
    return out


def record(label, co):
    nbytes = len(co.co_code)
    table = co.co_lnotab if KIND == 1 else co.co_linetable
    code_len = nbytes // 2 if KIND == 3 else nbytes
    answers = run_length(_addr2line(co, off) for off in range(0, nbytes - 1, 2))
    lines = tuple(co.co_lines()) if KIND >= 2 else None
    return (label, KIND, bytes(table), co.co_firstlineno, code_len, _addr2line(co, -1), answers, lines)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: %s OUT\n" % argv[0])
        return 2
    started = time.monotonic()
    root = sysconfig.get_paths()["stdlib"]
    records, files, failed = [], 0, 0
    warnings.simplefilter("ignore")
    for path in source_files(root):
        try:
            with open(path, "rb") as f:
                module = compile(f.read(), path, "exec", dont_inherit=True)
        except Exception:  # SyntaxError, ValueError, RecursionError, MemoryError, ...
            failed += 1
            continue
        files += 1
        rel = os.path.relpath(path, root)
        for co in code_objects(module):
            records.append(record("%s:%s:%d" % (rel, co.co_name, co.co_firstlineno), co))
    header = {
        "version": sys.version,
        "hexversion": sys.hexversion,
        "kind": KIND,
        "files": files,
        "failed_files": failed,
        "seconds": time.monotonic() - started,
    }
    with open(argv[1], "wb") as f:
        marshal.dump((header, records), f, MARSHAL_VERSION)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
