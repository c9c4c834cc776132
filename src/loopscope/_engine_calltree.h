/* _engine_calltree.h - the call_tree function of the binding, defined in _engine_calltree.c. */
#ifndef LOOPSCOPE_ENGINE_CALLTREE_H
#define LOOPSCOPE_ENGINE_CALLTREE_H

#include <Python.h>

PyObject *engine_call_tree(PyObject *module, PyObject *args);

#endif
