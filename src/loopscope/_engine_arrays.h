/* _engine_arrays.h - the id-list functions of the binding, defined in _engine_arrays.c. */
#ifndef LOOPSCOPE_ENGINE_ARRAYS_H
#define LOOPSCOPE_ENGINE_ARRAYS_H

#include <Python.h>

PyObject *engine_parse_id_lists(PyObject *module, PyObject *arg);
PyObject *engine_renumber_ids(PyObject *module, PyObject *arg);
PyObject *engine_gather(PyObject *module, PyObject *args);
PyObject *engine_json_ints(PyObject *module, PyObject *arg);
/* array.array(typecode, the n bytes at data), or NULL with an exception set. */
PyObject *engine_new_array(char typecode, const void *data, size_t n);

#endif
