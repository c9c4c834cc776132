/* _engine_types.h - what the binding's files share: module state and the Session object. */
#ifndef LOOPSCOPE_ENGINE_TYPES_H
#define LOOPSCOPE_ENGINE_TYPES_H

#include <Python.h>

#include "ls.h"

typedef struct {
	PyObject *session_type;
	PyObject *sampler_type;
	PyObject *error; /* loopscope._engine.Error(code, message, detail) */
} module_state;

typedef struct {
	PyObject_HEAD
	struct ls_session *session;
	int busy;        /* a call with the GIL released is using the session */
	PyObject *error; /* borrowed from module state, kept alive by the type */
} SessionObject;

module_state *get_state(PyObject *module);
/* Raise error_type(code, message, detail); returns NULL. */
PyObject *raise_engine_error(PyObject *error_type, int code, const char *detail);

#endif
