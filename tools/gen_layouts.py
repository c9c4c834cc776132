#!/usr/bin/env python3
"""gen_layouts.py - measure CPython's struct layouts and write them out as C data.

How it works
------------
For each CPython minor version 3.8 .. 3.13 this script finds one build installed under pyenv
(~/.pyenv/versions/3.X.*, the highest patch release if there are several; override the root
with --pyenv-root or $PYENV_ROOT). For that build it writes a small C probe that includes the
build's own headers (include/python3.X and include/python3.X/internal) with -DPy_BUILD_CORE,
prints `offsetof` / `sizeof` of every field struct ls_layout (src/engine/layout.h) needs, one
"name value" line each, compiles the probe with gcc, runs it and collects the numbers. Fields a
version does not have are -1. The kinds (frame_kind, lasti_kind, ...) are written into each row
directly, following the same rules as ls_layout_set_version_rules() in src/engine/layout.c;
tests/c/test_layout.c checks that the two agree.

Outputs (both are checked in; rerunning the script rewrites them byte for byte identically):
  src/engine/layout_tables.c   the built-in rows, ls_layout_builtin(), ls_layout_builtin_minors[]
                               and ls_layout_builtin_count. GENERATED: do not edit.
  src/engine/layout_debug.c    only the block between the "BEGIN GENERATED" and "END GENERATED"
                               markers: the byte position of every _Py_DebugOffsets member the
                               parser reads, for 3.13, measured with offsetof on the real
                               _Py_DebugOffsets struct of the 3.13 headers. The rest of that file
                               is written by hand.

The rows describe x86_64 Linux release builds with the GIL (no Py_DEBUG / Py_TRACE_REFS). Each
row serves every patch release of its minor version, so its hexversion is 0x030X0000.

After measuring, the numbers are compared with the values measured independently in the
reference brief (shared/reference/cpython-internals.md, section 3.2); any disagreement is
printed as a warning (and is an error with --strict).

Usage:
  python3 tools/gen_layouts.py            regenerate both outputs
  python3 tools/gen_layouts.py --check    exit 1 if either output is not what would be generated
  python3 tools/gen_layouts.py --capture-debug-offsets
        start ~/.pyenv/versions/3.13.*/bin/python3.13, read the first 2048 bytes of its
        _PyRuntime (where _Py_DebugOffsets lives) through /proc/PID/mem and write them to
        tests/data/debug_offsets_3.13.<micro>.bin (the fixture tests/c/test_layout.c parses).

Requires gcc and the pyenv builds; it never runs as part of the build.
"""

import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLES_C = os.path.join(REPO, "src", "engine", "layout_tables.c")
DEBUG_C = os.path.join(REPO, "src", "engine", "layout_debug.c")
MINORS = [8, 9, 10, 11, 12, 13]

# Order of the offset fields in struct ls_layout (layout.h), grouped as there.
OFFSET_FIELDS = [
    ("_PyRuntimeState", ["rt_size", "rt_interp_head", "rt_tstate_current", "rt_finalizing"]),
    ("PyInterpreterState", ["is_size", "is_next", "is_threads_head", "is_id", "is_gil_pointer",
                            "is_gil_holder", "is_gil_locked"]),
    ("PyThreadState", ["ts_size", "ts_next", "ts_interp", "ts_frame", "cf_current_frame",
                       "ts_thread_id", "ts_native_tid", "ts_datastack_chunk"]),
    ("_PyStackChunk (3.11+)", ["chunk_previous", "chunk_size", "chunk_data"]),
    ("PyFrameObject (<=3.10) / _PyInterpreterFrame (3.11+)",
     ["fr_size", "fr_back", "fr_code", "fr_lasti", "fr_owner", "fr_is_entry", "fr_state"]),
    ("PyCodeObject", ["co_size", "co_filename", "co_name", "co_qualname", "co_firstlineno",
                      "co_linetable", "co_code_adaptive", "co_firsttraceable", "co_code",
                      "co_ob_size", "co_version", "co_framesize", "co_nlocalsplus", "co_stacksize",
                      "co_flags"]),
    ("PyObject, PyBytesObject, PyASCIIObject", ["ob_type", "bytes_size", "bytes_sval",
                                                "str_length", "str_state", "str_ascii_size",
                                                "str_compact_size"]),
]
ALL_FIELDS = [f for _, fields in OFFSET_FIELDS for f in fields]


def probe_exprs(minor):
    """C expressions (or None = absent) for every layout field of 3.<minor>."""
    e = {}
    rt, interp, ts, code = "_PyRuntimeState", "PyInterpreterState", "PyThreadState", "PyCodeObject"
    frame = "PyFrameObject" if minor <= 10 else "_PyInterpreterFrame"

    e["rt_size"] = f"sizeof({rt})"
    e["rt_interp_head"] = f"offsetof({rt}, interpreters.head)"
    e["rt_tstate_current"] = f"offsetof({rt}, gilstate.tstate_current)" if minor <= 11 else None
    # 3.8 names it `finalizing`; 3.9 .. 3.13 `_finalizing` (an atomic pointer until 3.12).
    e["rt_finalizing"] = f"offsetof({rt}, {'finalizing' if minor == 8 else '_finalizing'})"

    e["is_size"] = f"sizeof({interp})"
    e["is_next"] = f"offsetof({interp}, next)"
    e["is_threads_head"] = (f"offsetof({interp}, tstate_head)" if minor <= 10
                            else f"offsetof({interp}, threads.head)")
    e["is_id"] = f"offsetof({interp}, id)"
    e["is_gil_pointer"] = f"offsetof({interp}, ceval.gil)" if minor >= 12 else None
    if minor == 12:
        # Through the pointer: offsets inside struct _gil_runtime_state.
        e["is_gil_holder"] = "offsetof(struct _gil_runtime_state, last_holder)"
        e["is_gil_locked"] = "offsetof(struct _gil_runtime_state, locked)"
    elif minor >= 13:
        # Within the interpreter, as _Py_DebugOffsets reports them
        # (gil_runtime_state_holder/locked).
        e["is_gil_holder"] = f"offsetof({interp}, _gil.last_holder)"
        e["is_gil_locked"] = f"offsetof({interp}, _gil.locked)"
    else:
        e["is_gil_holder"] = e["is_gil_locked"] = None

    e["ts_size"] = f"sizeof({ts})"
    e["ts_next"] = f"offsetof({ts}, next)"
    e["ts_interp"] = f"offsetof({ts}, interp)"
    ts_frame = "frame" if minor <= 10 else "cframe" if minor <= 12 else "current_frame"
    e["ts_frame"] = f"offsetof({ts}, {ts_frame})"
    e["cf_current_frame"] = "offsetof(_PyCFrame, current_frame)" if minor in (11, 12) else None
    e["ts_thread_id"] = f"offsetof({ts}, thread_id)"
    e["ts_native_tid"] = f"offsetof({ts}, native_thread_id)" if minor >= 11 else None
    e["ts_datastack_chunk"] = f"offsetof({ts}, datastack_chunk)" if minor >= 11 else None

    for name, member in (("chunk_previous", "previous"), ("chunk_size", "size"),
                         ("chunk_data", "data")):
        e[name] = f"offsetof(_PyStackChunk, {member})" if minor >= 11 else None

    e["fr_size"] = f"sizeof({frame})"
    if minor <= 10:
        e["fr_back"] = f"offsetof({frame}, f_back)"
        e["fr_code"] = f"offsetof({frame}, f_code)"
        e["fr_lasti"] = f"offsetof({frame}, f_lasti)"
        e["fr_owner"] = e["fr_is_entry"] = None
        e["fr_state"] = f"offsetof({frame}, {'f_executing' if minor <= 9 else 'f_state'})"
    else:
        e["fr_back"] = f"offsetof({frame}, previous)"
        e["fr_code"] = f"offsetof({frame}, {'f_code' if minor <= 12 else 'f_executable'})"
        e["fr_lasti"] = f"offsetof({frame}, {'prev_instr' if minor <= 12 else 'instr_ptr'})"
        e["fr_owner"] = f"offsetof({frame}, owner)"
        e["fr_is_entry"] = f"offsetof({frame}, is_entry)" if minor == 11 else None
        e["fr_state"] = None

    e["co_size"] = f"sizeof({code})"
    e["co_filename"] = f"offsetof({code}, co_filename)"
    e["co_name"] = f"offsetof({code}, co_name)"
    e["co_qualname"] = f"offsetof({code}, co_qualname)" if minor >= 11 else None
    e["co_firstlineno"] = f"offsetof({code}, co_firstlineno)"
    e["co_linetable"] = f"offsetof({code}, {'co_lnotab' if minor <= 9 else 'co_linetable'})"
    e["co_code_adaptive"] = f"offsetof({code}, co_code_adaptive)" if minor >= 11 else None
    e["co_firsttraceable"] = f"offsetof({code}, _co_firsttraceable)" if minor >= 11 else None
    e["co_code"] = f"offsetof({code}, co_code)" if minor <= 10 else None
    e["co_ob_size"] = f"offsetof({code}, ob_base.ob_size)" if minor >= 11 else None
    e["co_version"] = f"offsetof({code}, co_version)" if minor >= 12 else None
    e["co_framesize"] = f"offsetof({code}, co_framesize)" if minor >= 12 else None
    e["co_nlocalsplus"] = f"offsetof({code}, co_nlocalsplus)" if minor >= 11 else None
    e["co_stacksize"] = f"offsetof({code}, co_stacksize)" if minor >= 11 else None
    e["co_flags"] = f"offsetof({code}, co_flags)"

    e["ob_type"] = "offsetof(PyObject, ob_type)"
    e["bytes_size"] = "offsetof(PyBytesObject, ob_base.ob_size)"
    e["bytes_sval"] = "offsetof(PyBytesObject, ob_sval)"
    e["str_length"] = "offsetof(PyASCIIObject, length)"
    e["str_state"] = "offsetof(PyASCIIObject, state)"
    e["str_ascii_size"] = "sizeof(PyASCIIObject)"
    e["str_compact_size"] = "sizeof(PyCompactUnicodeObject)"
    assert sorted(e) == sorted(ALL_FIELDS), set(ALL_FIELDS) ^ set(e)
    return e


def version_rules(minor):
    """The kinds for a row; the same rules as ls_layout_set_version_rules() in layout.c."""
    return {
        "frame_kind": ("LS_FRAME_OBJECT" if minor <= 10 else
                       "LS_FRAME_VIA_CFRAME" if minor <= 12 else "LS_FRAME_DIRECT"),
        "lasti_kind": ("LS_LASTI_BYTE" if minor <= 9 else "LS_LASTI_INDEX" if minor == 10 else
                       "LS_LASTI_PREV_INSTR" if minor <= 12 else "LS_LASTI_INSTR_PTR"),
        "linetable_kind": ("LS_LINETABLE_LNOTAB" if minor <= 9 else
                           "LS_LINETABLE_310" if minor == 10 else "LS_LINETABLE_LOCATIONS"),
        "gil_kind": ("LS_GIL_RUNTIME_TSTATE_CURRENT" if minor <= 11 else
                     "LS_GIL_INTERP_POINTER" if minor == 12 else "LS_GIL_INTERP_EMBEDDED"),
        "owner_skip_min": "0" if minor <= 11 else "3",
        "owner_torn": "2" if minor >= 11 else "0xff",
        "code_tag_mask": "~(uint64_t)0" if minor <= 13 else "~(uint64_t)3",
    }


# _Py_DebugOffsets members whose byte position the 3.13 parser needs: (name in struct
# ls_debug_positions of layout_debug.c, member designator in _Py_DebugOffsets).
DEBUG_POSITIONS_313 = [
    ("version", "version"),
    ("free_threaded", "free_threaded"),
    ("rt_size", "runtime_state.size"),
    ("rt_finalizing", "runtime_state.finalizing"),
    ("rt_interp_head", "runtime_state.interpreters_head"),
    ("is_size", "interpreter_state.size"),
    ("is_id", "interpreter_state.id"),
    ("is_next", "interpreter_state.next"),
    ("is_threads_head", "interpreter_state.threads_head"),
    ("is_ceval_gil", "interpreter_state.ceval_gil"),
    ("is_gil_locked", "interpreter_state.gil_runtime_state_locked"),
    ("is_gil_holder", "interpreter_state.gil_runtime_state_holder"),
    ("ts_size", "thread_state.size"),
    ("ts_next", "thread_state.next"),
    ("ts_interp", "thread_state.interp"),
    ("ts_current_frame", "thread_state.current_frame"),
    ("ts_thread_id", "thread_state.thread_id"),
    ("ts_native_tid", "thread_state.native_thread_id"),
    ("ts_datastack_chunk", "thread_state.datastack_chunk"),
    ("fr_size", "interpreter_frame.size"),
    ("fr_previous", "interpreter_frame.previous"),
    ("fr_executable", "interpreter_frame.executable"),
    ("fr_instr_ptr", "interpreter_frame.instr_ptr"),
    ("fr_owner", "interpreter_frame.owner"),
    ("co_size", "code_object.size"),
    ("co_filename", "code_object.filename"),
    ("co_name", "code_object.name"),
    ("co_qualname", "code_object.qualname"),
    ("co_linetable", "code_object.linetable"),
    ("co_firstlineno", "code_object.firstlineno"),
    ("co_code_adaptive", "code_object.co_code_adaptive"),
    ("ob_size", "pyobject.size"),
    ("ob_type", "pyobject.ob_type"),
    ("by_size", "bytes_object.size"),
    ("by_ob_size", "bytes_object.ob_size"),
    ("by_ob_sval", "bytes_object.ob_sval"),
    ("str_size", "unicode_object.size"),
    ("str_state", "unicode_object.state"),
    ("str_length", "unicode_object.length"),
    ("str_ascii_size", "unicode_object.asciiobject_size"),
]

# Measured values from the reference brief, section 3.2 (and 2.4 for the debug positions), to
# cross-check against. Only fields the brief lists.
REFERENCE = {
    8: dict(rt_interp_head=32, rt_tstate_current=1368, is_next=0, is_threads_head=8, is_id=16,
            ts_next=8, ts_interp=16, ts_frame=24, ts_thread_id=176, ts_size=264, fr_back=24,
            fr_code=32, fr_lasti=104, fr_size=368, co_filename=104, co_name=112,
            co_firstlineno=40, co_linetable=120, co_code=48, co_size=176, str_ascii_size=48,
            str_compact_size=72, str_length=16, str_state=32, bytes_size=16, bytes_sval=32,
            ob_type=8, rt_size=1464),
    9: dict(rt_interp_head=32, rt_tstate_current=568, is_next=0, is_threads_head=8, is_id=24,
            ts_next=8, ts_interp=16, ts_frame=24, ts_thread_id=176, ts_size=264, fr_back=24,
            fr_code=32, fr_lasti=104, fr_size=368, co_filename=104, co_name=112,
            co_firstlineno=40, co_linetable=120, co_code=48, co_size=176, str_ascii_size=48,
            str_compact_size=72, str_length=16, str_state=32, bytes_size=16, bytes_sval=32,
            ob_type=8, rt_size=656),
    10: dict(rt_interp_head=32, rt_tstate_current=568, is_next=0, is_threads_head=8, is_id=24,
             ts_next=8, ts_interp=16, ts_frame=24, ts_thread_id=176, ts_size=280, fr_back=24,
             fr_code=32, fr_lasti=96, fr_size=360, co_filename=104, co_name=112,
             co_firstlineno=40, co_linetable=120, co_code=48, co_size=176, str_ascii_size=48,
             str_compact_size=72, str_length=16, str_state=32, bytes_size=16, bytes_sval=32,
             ob_type=8, rt_size=672),
    11: dict(rt_interp_head=40, rt_tstate_current=576, is_next=0, is_threads_head=16, is_id=48,
             ts_next=8, ts_interp=16, ts_frame=56, cf_current_frame=8, ts_thread_id=152,
             ts_native_tid=160, ts_datastack_chunk=296, ts_size=360, fr_back=48, fr_code=32,
             fr_lasti=56, fr_owner=69, fr_is_entry=68, fr_size=80, co_filename=112, co_name=120,
             co_qualname=128, co_firstlineno=72, co_linetable=136, co_firsttraceable=168,
             co_code_adaptive=184, co_size=192, str_ascii_size=48, str_compact_size=72,
             str_length=16, str_state=32, bytes_size=16, bytes_sval=32, ob_type=8,
             co_ob_size=16, rt_size=166688),
    12: dict(rt_interp_head=40, is_next=0, is_threads_head=72, is_id=8, is_gil_pointer=384,
             ts_next=8, ts_interp=16, ts_frame=56, cf_current_frame=0, ts_thread_id=136,
             ts_native_tid=144, ts_datastack_chunk=232, ts_size=288, fr_back=8, fr_code=0,
             fr_lasti=56, fr_owner=70, fr_size=80, co_filename=112, co_name=120,
             co_qualname=128, co_firstlineno=68, co_linetable=136, co_firsttraceable=176,
             co_code_adaptive=192, co_size=200, str_ascii_size=40, str_compact_size=56,
             str_length=16, str_state=32, bytes_size=16, bytes_sval=32, ob_type=8,
             co_ob_size=16, rt_size=459944, is_gil_holder=8, is_gil_locked=16),
    13: dict(rt_interp_head=632, is_next=7264, is_threads_head=7344, is_id=7272,
             is_gil_pointer=16, is_gil_holder=7760, is_gil_locked=7768, ts_next=8, ts_interp=16,
             ts_frame=72, ts_thread_id=152, ts_native_tid=160, ts_datastack_chunk=232,
             ts_size=304, fr_back=8, fr_code=0, fr_lasti=56, fr_owner=70, fr_size=80,
             co_filename=112, co_name=120, co_qualname=128, co_firstlineno=68,
             co_linetable=136, co_firsttraceable=184, co_code_adaptive=200, co_size=208,
             str_ascii_size=40, str_compact_size=56, str_length=16, str_state=32, bytes_size=16,
             bytes_sval=32, ob_type=8, co_ob_size=16, rt_size=283320),
}
# 3.12's gil holder/locked are inside struct _gil_runtime_state (+8/+16, section 6 of the brief);
# the brief's 1048/1056 are the same fields as offsets of interp->_gil within the interpreter.
REFERENCE_DEBUG_POSITIONS_313 = dict(
    rt_interp_head=40, is_id=56, is_next=64, is_threads_head=72, is_ceval_gil=112,
    is_gil_locked=136, is_gil_holder=144, ts_size=152, ts_next=168, ts_current_frame=184,
    ts_thread_id=192, ts_native_tid=200, ts_datastack_chunk=208, fr_size=224, fr_previous=232,
    fr_executable=240, fr_instr_ptr=248, fr_owner=264, co_size=272, co_filename=280,
    co_name=288, co_qualname=296, co_linetable=304, co_firstlineno=312, co_code_adaptive=344,
    ob_type=360, by_ob_size=520, by_ob_sval=528, str_state=544, str_length=552,
    str_ascii_size=560)

PROBE_TEMPLATE = """\
#define Py_BUILD_CORE 1
#define Py_BUILD_CORE_MODULE 1
#include <Python.h>
#include <stddef.h>
#include <stdio.h>
{includes}

#define SHOW(name, expr) printf("%s %ld\\n", name, (long)(expr))

int main(void)
{{
\tprintf("py_version %s\\n", PY_VERSION);
\tprintf("py_version_hex %lu\\n", (unsigned long)PY_VERSION_HEX);
{lines}
\treturn 0;
}}
"""

INCLUDES = {
    8: ["internal/pycore_pystate.h", "frameobject.h"],
    9: ["internal/pycore_runtime.h", "internal/pycore_interp.h", "frameobject.h"],
    10: ["internal/pycore_runtime.h", "internal/pycore_interp.h", "frameobject.h"],
    11: ["internal/pycore_runtime.h", "internal/pycore_interp.h", "internal/pycore_frame.h"],
    12: ["internal/pycore_runtime.h", "internal/pycore_interp.h", "internal/pycore_frame.h",
         "internal/pycore_gil.h"],
    13: ["internal/pycore_runtime.h", "internal/pycore_interp.h", "internal/pycore_frame.h",
          "internal/pycore_gil.h"],
}


def find_build(root, minor):
    cands = []
    for path in glob.glob(os.path.join(root, "versions", f"3.{minor}.*")):
        m = re.fullmatch(rf"3\.{minor}\.(\d+)", os.path.basename(path))
        if m and os.path.isdir(os.path.join(path, "include", f"python3.{minor}", "internal")):
            cands.append((int(m.group(1)), path))
    if not cands:
        sys.exit(f"gen_layouts: no pyenv build of 3.{minor} with internal headers under {root}")
    return max(cands)[1]


def run_probe(prefix, minor, extra_lines):
    inc = os.path.join(prefix, "include", f"python3.{minor}")
    exprs = probe_exprs(minor)
    lines = [f'\tSHOW("{name}", {exprs[name]});' for name in ALL_FIELDS if exprs[name]]
    lines += extra_lines
    src = PROBE_TEMPLATE.format(
        includes="\n".join(f'#include "{h}"' for h in INCLUDES[minor]), lines="\n".join(lines))
    with tempfile.TemporaryDirectory(prefix="gen_layouts") as tmp:
        c_path, exe = os.path.join(tmp, "probe.c"), os.path.join(tmp, "probe")
        with open(c_path, "w") as f:
            f.write(src)
        cmd = ["gcc", "-std=gnu11", "-w", "-I", inc, "-I", os.path.join(inc, "internal"),
               c_path, "-o", exe]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            sys.exit(f"gen_layouts: probe for 3.{minor} failed to compile:\n{res.stderr}")
        out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout
    values = {}
    for line in out.splitlines():
        key, val = line.split(" ", 1)
        values[key] = val if key == "py_version" else int(val)
    for name in ALL_FIELDS:
        values.setdefault(name, -1)
    return values


def render_tables(rows):
    versions = ", ".join(rows[m]["py_version"] for m in MINORS)
    out = []
    out.append(f"""\
/* layout_tables.c - GENERATED by tools/gen_layouts.py: do not edit; rerun the script instead.
 *
 * The built-in struct ls_layout rows for CPython 3.8 .. 3.13 (x86_64 Linux, release builds with
 * the GIL), measured with offsetof/sizeof against the installed headers of CPython
 * {versions}.
 * Each row serves every patch release of its minor version (hexversion 0x030X0000, micro 0).
 * -1 marks a field the version does not have. The kinds follow ls_layout_set_version_rules().
 * Besides the rows this file defines ls_layout_builtin(), ls_layout_builtin_minors[] and
 * ls_layout_builtin_count (declared in layout.h).
 */
#include "layout.h"

static const struct ls_layout ls_layout_rows[] = {{""")
    for m in MINORS:
        v = rows[m]
        rules = version_rules(m)
        out.append(f"\t{{\n\t\t/* {v['py_version']} */")
        out.append(f"\t\t.hexversion = 0x030{m:X}0000,")
        out.append(f"\t\t.minor = {m},")
        out.append("\t\t.free_threaded = 0,")
        out.append("\t\t.from_debug_offsets = 0,")
        for key in ("owner_skip_min", "owner_torn", "frame_kind", "lasti_kind", "linetable_kind",
                    "gil_kind", "code_tag_mask"):
            out.append(f"\t\t.{key} = {rules[key]},")
        for group, fields in OFFSET_FIELDS:
            out.append(f"\t\t/* {group} */")
            out.append("\t\t" + " ".join(f".{f} = {v[f]}," for f in fields[:4]))
            for i in range(4, len(fields), 4):
                out.append("\t\t" + " ".join(f".{f} = {v[f]}," for f in fields[i:i + 4]))
        out.append("\t},")
    out.append("};\n")
    out.append("const int ls_layout_builtin_minors[] = {" + ", ".join(str(m) for m in MINORS) +
               "};")
    out.append("const size_t ls_layout_builtin_count = "
               "sizeof ls_layout_builtin_minors / sizeof ls_layout_builtin_minors[0];\n")
    out.append("""\
const struct ls_layout *ls_layout_builtin(int minor)
{
	for (size_t i = 0; i < sizeof ls_layout_rows / sizeof ls_layout_rows[0]; i++) {
		if (ls_layout_rows[i].minor == minor)
			return &ls_layout_rows[i];
	}
	return NULL;
}
""")
    return "\n".join(out)


BEGIN_MARK = "/* BEGIN GENERATED by tools/gen_layouts.py"
END_MARK = "/* END GENERATED */"


def render_debug_block(positions, py_version):
    lines = [f"{BEGIN_MARK} from the _Py_DebugOffsets struct of CPython",
             f" * {py_version} (offsetof): do not edit. */",
             "static const struct ls_debug_positions ls_debug_positions_313 = {",
             "\t.minor = 13,",
             f"\t.block_size = {positions['block_size']},"]
    for name, _ in DEBUG_POSITIONS_313:
        lines.append(f"\t.{name} = {positions[name]},")
    lines.append("};")
    lines.append(END_MARK)
    return "\n".join(lines)


def splice_debug_block(text, block):
    start = text.find(BEGIN_MARK)
    end = text.find(END_MARK)
    if start < 0 or end < start:
        sys.exit(f"gen_layouts: generated-block markers not found in {DEBUG_C}")
    return text[:start] + block + text[end + len(END_MARK):]


def compare(minor, values, reference):
    bad = []
    for key, want in sorted(reference.items()):
        if values.get(key) != want:
            bad.append(f"3.{minor} {key}: measured {values.get(key)}, reference says {want}")
    return bad


def generate(root):
    rows, problems = {}, []
    for m in MINORS:
        prefix = find_build(root, m)
        extra = []
        if m == 13:
            extra = [f'\tSHOW("dpos_{n}", offsetof(_Py_DebugOffsets, {d}));'
                     for n, d in DEBUG_POSITIONS_313]
            extra.append('\tSHOW("dpos_block_size", sizeof(_Py_DebugOffsets));')
        rows[m] = run_probe(prefix, m, extra)
        problems += compare(m, rows[m], REFERENCE[m])
    positions = {k[5:]: v for k, v in rows[13].items() if k.startswith("dpos_")}
    problems += compare(13, positions, REFERENCE_DEBUG_POSITIONS_313)
    tables = render_tables(rows)
    with open(DEBUG_C) as f:
        debug_text = splice_debug_block(f.read(), render_debug_block(positions,
                                                                     rows[13]["py_version"]))
    return tables, debug_text, problems


def capture_debug_offsets(root):
    """Write the first 2048 bytes of a live 3.13 process's _PyRuntime to tests/data."""
    prefix = find_build(root, 13)
    exe = os.path.join(prefix, "bin", "python3.13")
    lib = os.path.join(prefix, "lib", "libpython3.13.so.1.0")
    syms = subprocess.run(["readelf", "-W", "--dyn-syms", lib], capture_output=True, text=True,
                          check=True).stdout
    m = re.search(r"^\s*\d+:\s+([0-9a-f]+)\s+\S+\s+OBJECT\s+GLOBAL\s+\S+\s+\S+\s+_PyRuntime$",
                  syms, re.M)
    if not m:
        sys.exit("gen_layouts: _PyRuntime not found in " + lib)
    sym = int(m.group(1), 16)
    # The child of this process: reading its /proc/PID/mem is allowed under Yama ptrace_scope 1.
    child = subprocess.Popen([exe, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(1.0)
        base = None
        real_lib = os.path.realpath(lib)
        with open(f"/proc/{child.pid}/maps") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 6 and os.path.realpath(parts[5]) == real_lib and \
                        int(parts[2], 16) == 0:
                    base = int(parts[0].split("-")[0], 16)
                    break
        if base is None:
            sys.exit("gen_layouts: libpython3.13 not mapped in the child")
        # libpython is ET_DYN with its first PT_LOAD at vaddr 0, so the bias is the base.
        with open(f"/proc/{child.pid}/mem", "rb") as f:
            f.seek(base + sym)
            data = f.read(2048)
        version = subprocess.run([exe, "-c", "import sys; print(sys.version.split()[0])"],
                                 capture_output=True, text=True, check=True).stdout.strip()
    finally:
        child.kill()
        child.wait()
    if data[:8] != b"xdebugpy":
        sys.exit("gen_layouts: no xdebugpy cookie at _PyRuntime")
    path = os.path.join(REPO, "tests", "data", f"debug_offsets_{version}.bin")
    with open(path, "wb") as f:
        f.write(data)
    print(f"wrote {len(data)} bytes to {os.path.relpath(path, REPO)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pyenv-root", default=os.environ.get("PYENV_ROOT",
                                                           os.path.expanduser("~/.pyenv")))
    ap.add_argument("--check", action="store_true",
                    help="do not write; exit 1 if an output differs from what is generated")
    ap.add_argument("--strict", action="store_true",
                    help="treat a disagreement with the reference values as an error")
    ap.add_argument("--capture-debug-offsets", action="store_true",
                    help="capture tests/data/debug_offsets_3.13.X.bin from a live 3.13")
    args = ap.parse_args()
    if args.capture_debug_offsets:
        capture_debug_offsets(args.pyenv_root)
        return 0
    tables, debug_text, problems = generate(args.pyenv_root)
    for p in problems:
        print("gen_layouts: warning: " + p, file=sys.stderr)
    if problems and args.strict:
        return 1
    status = 0
    for path, text in ((TABLES_C, tables), (DEBUG_C, debug_text)):
        old = open(path).read() if os.path.exists(path) else None
        if old == text:
            continue
        if args.check:
            print(f"gen_layouts: {os.path.relpath(path, REPO)} is out of date", file=sys.stderr)
            status = 1
        else:
            with open(path, "w") as f:
                f.write(text)
            print(f"wrote {os.path.relpath(path, REPO)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
