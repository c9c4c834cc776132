/* ls_error.c - message table for the engine's error codes (see ls_error.h). */
#include "ls_error.h"

const char *ls_error_message(int code)
{
	switch (code) {
	case LS_OK: return "success";
	case LS_ERR_NOMEM: return "out of memory";
	case LS_ERR_INVALID_ARG: return "invalid argument";
	case LS_ERR_NO_PROCESS: return "no such process";
	case LS_ERR_PERMISSION: return "permission denied";
	case LS_ERR_PROCESS_EXITED: return "the process exited";
	case LS_ERR_READ: return "cannot read target memory";
	case LS_ERR_IO: return "cannot read a file";
	case LS_ERR_NOT_PYTHON: return "not a python process";
	case LS_ERR_UNSUPPORTED_VERSION: return "unsupported python version";
	case LS_ERR_NO_DEBUG_OFFSETS: return "no _Py_DebugOffsets in the runtime";
	case LS_ERR_BAD_DEBUG_OFFSETS: return "inconsistent _Py_DebugOffsets";
	case LS_ERR_BAD_ELF: return "malformed elf file";
	case LS_ERR_NOT_STARTED: return "the interpreter has not started";
	case LS_ERR_TORN: return "inconsistent read (the target changed while we read it)";
	case LS_ERR_TOO_DEEP: return "walk exceeded its bound";
	case LS_ERR_BAD_LINETABLE: return "malformed line table";
	case LS_ERR_BAD_STRING: return "malformed string object";
	case LS_ERR_BAD_IMAGE: return "not a valid memory image";
	}
	return "unknown error";
}

int ls_error_is_recoverable(int code)
{
	switch (code) {
	case LS_ERR_NO_PROCESS:
	case LS_ERR_PERMISSION:
	case LS_ERR_PROCESS_EXITED:
	case LS_ERR_NOMEM:
		return 0;
	default:
		return 1;
	}
}
