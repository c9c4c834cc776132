/* ls_error.h - the engine's error codes and their messages.
 *
 * Every engine function that can fail returns 0 or one of these negative codes. Codes are grouped
 * by subsystem (process access, interpreter discovery, walking, decoding). The message table in
 * ls_error.c gives each a short lower-case description; the Python shell turns the codes that a
 * user can meet into a full sentence with a remedy (src/loopscope/_errors.py).
 */
#ifndef LS_ERROR_H
#define LS_ERROR_H

enum ls_error {
	LS_OK = 0,
	LS_ERR_NOMEM = -1,
	LS_ERR_INVALID_ARG = -2,
	/* process access */
	LS_ERR_NO_PROCESS = -10,      /* no such pid */
	LS_ERR_PERMISSION = -11,      /* not allowed to read the process */
	LS_ERR_PROCESS_EXITED = -12,  /* it went away while we read it */
	LS_ERR_READ = -13,            /* an address was not readable (torn or bogus pointer) */
	LS_ERR_IO = -14,              /* a /proc or ELF file could not be read */
	/* interpreter discovery */
	LS_ERR_NOT_PYTHON = -20,           /* no CPython runtime in the process */
	LS_ERR_UNSUPPORTED_VERSION = -21,  /* a CPython we cannot read */
	LS_ERR_NO_DEBUG_OFFSETS = -22,     /* 3.13+ without a _Py_DebugOffsets cookie */
	LS_ERR_BAD_DEBUG_OFFSETS = -23,    /* debug offsets present but not consistent */
	LS_ERR_BAD_ELF = -24,              /* an ELF file we could not parse */
	LS_ERR_NOT_STARTED = -25,          /* the runtime has no interpreter or thread yet */
	/* walking and decoding (remote memory is hostile: these are counted, not fatal) */
	LS_ERR_TORN = -30,             /* inconsistent data: the target changed under us */
	LS_ERR_TOO_DEEP = -31,         /* a walk hit its bound */
	LS_ERR_BAD_LINETABLE = -32,
	LS_ERR_BAD_STRING = -33,
	LS_ERR_BAD_IMAGE = -34,        /* a recorded memory image that is not one, or is corrupt */
};

/* A static, lower-case description of `code` ("no such process"). Never NULL. */
const char *ls_error_message(int code);

/* 1 when a walk can go on after `code` (the error concerns one thread or frame), 0 when the
 * session is over (the process is gone, permission was lost). */
int ls_error_is_recoverable(int code);

#endif
