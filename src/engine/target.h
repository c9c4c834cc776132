/* target.h - what we know about the target's interpreter: where it is and which layout it has.
 *
 * ls_target_discover() works on a live process: it reads /proc/PID/maps, picks the ELF file that
 * holds the CPython runtime (libpython or the executable itself), resolves _PyRuntime and the type
 * objects we validate against, determines the exact version and chooses the layout. The facts it
 * finds are plain data (struct ls_target_facts) so that a recorded image can carry them and replay
 * a walk without the ELF files.
 */
#ifndef LS_TARGET_H
#define LS_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "layout.h"
#include "proc.h"

#define LS_VERSION_STRING_MAX 32
#define LS_BINARY_PATH_MAX 512

struct ls_target_facts {
	int32_t pid;
	uint32_t hexversion;                    /* PY_VERSION_HEX; 0 when unknown */
	char version[LS_VERSION_STRING_MAX];    /* "3.11.7", "3.14.0rc1"; "" when unknown */
	char binary[LS_BINARY_PATH_MAX];        /* the file holding the runtime */
	uint64_t runtime_addr;                  /* &_PyRuntime in the target */
	uint64_t code_type_addr;                /* &PyCode_Type, 0 if unknown (then not checked) */
	uint64_t frame_type_addr;               /* &PyFrame_Type, 0 if unknown */
	uint64_t code_epoch_addr;               /* 3.12: &_Py_next_func_version, a u32 every new code
						 * object increments (a local symbol: 0 when the
						 * binary is stripped); not stored in images */
	/* <=3.10: where the version string Py_GetVersion() writes at start-up may be (.bss). The
	 * interpreter may not have written it yet when we attach to a process that is starting; then
	 * the version is known only to its minor number and version_exact is 0 until
	 * ls_target_refresh_version() finds the string. */
	uint64_t bss_addr, bss_size;
	uint8_t version_exact;
};

struct ls_target {
	struct ls_target_facts facts;
	struct ls_layout layout;
};

/* Find the interpreter of a live process. On failure returns a negative code and writes the
 * reason, naming what was found (binary, version), into why. Codes: LS_ERR_NOT_PYTHON,
 * LS_ERR_UNSUPPORTED_VERSION, LS_ERR_PERMISSION, LS_ERR_PROCESS_EXITED, LS_ERR_NO_PROCESS,
 * LS_ERR_BAD_DEBUG_OFFSETS, LS_ERR_IO, LS_ERR_NOMEM. */
int ls_target_discover(struct ls_proc *proc, struct ls_target *out, char *why, size_t why_len);

/* Choose t->layout from t->facts: the built-in table, or from 3.13 on the target's
 * _Py_DebugOffsets read through proc. Used by discovery and when an image is opened. */
int ls_target_choose_layout(struct ls_proc *proc, struct ls_target *t, char *why, size_t why_len);

/* If the version is not exact yet, look for the version string again; 1 if it is exact now. */
int ls_target_refresh_version(struct ls_proc *proc, struct ls_target *t);

/* Parse "3.8.18 (default, ..." (or "3.8.18") into PY_VERSION_HEX; 0 when not a version. */
uint32_t ls_version_parse(const char *text, size_t len);

/* Format hexversion as "3.11.7" / "3.14.0rc1" into buf. */
void ls_version_format(uint32_t hexversion, char *buf, size_t len);

#endif
