/* _engine_export.h - the export function of the binding, defined in _engine_export.c. */
#ifndef LOOPSCOPE_ENGINE_EXPORT_H
#define LOOPSCOPE_ENGINE_EXPORT_H

#include <Python.h>

PyObject *engine_export(PyObject *module, PyObject *args, PyObject *kwargs);

#endif
