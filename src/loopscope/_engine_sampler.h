/* _engine_sampler.h - the Sampler type of the binding, defined in _engine_sampler.c. */
#ifndef LOOPSCOPE_ENGINE_SAMPLER_H
#define LOOPSCOPE_ENGINE_SAMPLER_H

#include <Python.h>

#include "_engine_types.h"

/* Create the Sampler type, store it in st->sampler_type and add it to module m; 0 or -1. */
int engine_sampler_add_type(PyObject *m, module_state *st);

#endif
