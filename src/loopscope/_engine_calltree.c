/* _engine_calltree.c - the binding of the call-tree builder (src/engine/calltree.h):
 *
 *   call_tree(stack_offsets, stack_frames, frame_key, key_rank, weights, n_series) -> dict
 *
 * The first four are buffers of unsigned 32-bit integers (array('I')), weights a buffer of unsigned
 * 64-bit integers (array('Q')) of n_series rows of len(stack_offsets) - 1. The dict holds arrays:
 * parent and key as array('i') (the root's are -1), and self, total, key_self, key_total as a list
 * of one array('Q') per series.
 * The GIL is released while the tree is built.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_engine_arrays.h"
#include "_engine_calltree.h"
#include "calltree.h"
#include "ls_error.h"

static int get_buffer(PyObject *obj, Py_buffer *view, Py_ssize_t itemsize, const char *name)
{
	if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
		return -1;
	if (view->itemsize != itemsize || !view->format || (view->format[0] != 'I' && view->format[0] != 'L' &&
							     view->format[0] != 'Q' && view->format[0] != 'K')) {
		PyErr_Format(PyExc_TypeError, "call_tree: %s must be a buffer of unsigned %d-bit integers", name,
			     (int)(itemsize * 8));
		PyBuffer_Release(view);
		return -1;
	}
	return 0;
}

/* The root's UINT32_MAX reads as -1 in an array('i') (node and key counts stay below 2^31). */
static PyObject *i32_array(const uint32_t *values, size_t n)
{
	return engine_new_array('i', values, n * sizeof(*values));
}

/* [array('Q') of row 0, ...]: n_rows rows of n values */
static PyObject *u64_rows(const uint64_t *values, size_t n_rows, size_t n)
{
	PyObject *rows = PyList_New((Py_ssize_t)n_rows);
	if (!rows)
		return NULL;
	for (size_t k = 0; k < n_rows; k++) {
		PyObject *row = engine_new_array('Q', values + k * n, n * sizeof(*values));
		if (!row) {
			Py_DECREF(rows);
			return NULL;
		}
		PyList_SET_ITEM(rows, (Py_ssize_t)k, row);
	}
	return rows;
}

static int set_item(PyObject *dict, const char *key, PyObject *value)
{
	if (!value)
		return -1;
	int rc = PyDict_SetItemString(dict, key, value);
	Py_DECREF(value);
	return rc;
}

PyObject *engine_call_tree(PyObject *module, PyObject *args)
{
	(void)module;
	PyObject *objs[5];
	Py_ssize_t n_series;
	Py_buffer views[5];
	static const char *names[5] = {"stack_offsets", "stack_frames", "frame_key", "key_rank", "weights"};
	int got = 0;
	PyObject *result = NULL;
	struct ls_calltree tree = {0};

	if (!PyArg_ParseTuple(args, "OOOOOn", &objs[0], &objs[1], &objs[2], &objs[3], &objs[4], &n_series))
		return NULL;
	for (; got < 5; got++)
		if (get_buffer(objs[got], &views[got], got == 4 ? 8 : 4, names[got]) < 0)
			goto done;
	size_t n_offsets = (size_t)(views[0].len / 4);
	if (n_offsets < 1 || n_series < 1 || n_series > 64) {
		PyErr_SetString(PyExc_ValueError, "call_tree: need at least one stack offset and 1 to 64 series");
		goto done;
	}
	struct ls_calltree_input in = {
		.n_stacks = n_offsets - 1,
		.stack_offsets = views[0].buf,
		.stack_frames = views[1].buf,
		.n_frames = (size_t)(views[2].len / 4),
		.frame_key = views[2].buf,
		.n_keys = (size_t)(views[3].len / 4),
		.key_rank = views[3].buf,
		.n_series = (size_t)n_series,
		.weights = views[4].buf,
	};
	if ((size_t)(views[4].len / 8) != in.n_series * in.n_stacks ||
	    ((const uint32_t *)views[0].buf)[in.n_stacks] > (size_t)(views[1].len / 4)) {
		PyErr_SetString(PyExc_ValueError, "call_tree: weights or stack_frames do not match the stacks");
		goto done;
	}
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = ls_calltree_build(&in, &tree);
	Py_END_ALLOW_THREADS
	if (rc == LS_ERR_NOMEM) {
		PyErr_NoMemory();
		goto done;
	}
	if (rc < 0) {
		PyErr_SetString(PyExc_ValueError, "call_tree: a stack, frame or key index is out of range");
		goto done;
	}
	result = PyDict_New();
	if (!result || set_item(result, "parent", i32_array(tree.parent, tree.n_nodes)) < 0 ||
	    set_item(result, "key", i32_array(tree.key, tree.n_nodes)) < 0 ||
	    set_item(result, "self", u64_rows(tree.self, tree.n_series, tree.n_nodes)) < 0 ||
	    set_item(result, "total", u64_rows(tree.total, tree.n_series, tree.n_nodes)) < 0 ||
	    set_item(result, "key_self", u64_rows(tree.key_self, tree.n_series, tree.n_keys)) < 0 ||
	    set_item(result, "key_total", u64_rows(tree.key_total, tree.n_series, tree.n_keys)) < 0)
		Py_CLEAR(result);
done:
	ls_calltree_release(&tree);
	for (int i = 0; i < got; i++)
		PyBuffer_Release(&views[i]);
	return result;
}
