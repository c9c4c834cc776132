/* _engine_arrays.c - the binding of idlist.h: what the profile reader and the dashboard's server
 * do to large integer lists, in C so that a day's profile answers in milliseconds:
 *
 *   parse_id_lists(texts) -> (offsets, values)    stored stacks ["[12,7,3]", ...] as array('I')s:
 *                                                 list i is values[offsets[i]:offsets[i + 1]]
 *   renumber_ids(ids) -> (distinct, renumbered)   dense ids in order of value, as array('I')s
 *   gather(index, table, fallback) -> array('i')  table[index[i]], fallback where index[i] < 0
 *   json_ints(array) -> str                        the JSON text of an integer array
 *
 * Malformed text or an index past the table raises ValueError.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string.h>

#include "_engine_arrays.h"
#include "idlist.h"
#include "ls_error.h"

PyObject *engine_new_array(char typecode, const void *data, size_t n)
{
	PyObject *module = PyImport_ImportModule("array");
	if (!module)
		return NULL;
	PyObject *type = PyObject_GetAttrString(module, "array");
	Py_DECREF(module);
	if (!type)
		return NULL;
	char code[2] = {typecode, 0};
	PyObject *result = PyObject_CallFunction(type, "sy#", code, (const char *)(data ? data : ""), (Py_ssize_t)n);
	Py_DECREF(type);
	return result;
}

/* (array('I') of a[0..na), array('I') of b[0..nb)), or NULL with an exception set. */
static PyObject *u32_array_pair(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	PyObject *first = engine_new_array('I', a, na * sizeof(*a));
	PyObject *second = first ? engine_new_array('I', b, nb * sizeof(*b)) : NULL;
	PyObject *pair = first && second ? PyTuple_Pack(2, first, second) : NULL;
	Py_XDECREF(first);
	Py_XDECREF(second);
	return pair;
}

/* A C-contiguous buffer of integers of the given width (4 or 8; 0: either); *is_signed tells. */
static int int_buffer(PyObject *obj, Py_buffer *view, int width, int *is_signed, const char *what)
{
	if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
		return -1;
	const char *f = view->format ? view->format : "B";
	if (*f == '@' || *f == '=' || *f == '<')
		f++;
	int ok = (view->itemsize == 4 || view->itemsize == 8) && (!width || view->itemsize == width) && f[0] &&
		 !f[1] && strchr("iIlLqQ", f[0]);
	if (!ok) {
		PyErr_Format(PyExc_TypeError, "%s must be an array of %s integers", what,
			     width == 4 ? "32-bit" : width == 8 ? "64-bit" : "32- or 64-bit");
		PyBuffer_Release(view);
		return -1;
	}
	if (is_signed)
		*is_signed = f[0] == 'i' || f[0] == 'l' || f[0] == 'q';
	return 0;
}

PyObject *engine_parse_id_lists(PyObject *module, PyObject *arg)
{
	(void)module;
	PyObject *seq = PySequence_Fast(arg, "parse_id_lists: expected a list of str");
	if (!seq)
		return NULL;
	Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
	PyObject **items = PySequence_Fast_ITEMS(seq);
	size_t cap = 0;
	for (Py_ssize_t i = 0; i < count; i++) {
		if (!PyUnicode_Check(items[i])) {
			PyErr_SetString(PyExc_TypeError, "parse_id_lists: expected a list of str");
			Py_DECREF(seq);
			return NULL;
		}
		cap += (size_t)PyUnicode_GET_LENGTH(items[i]) / 2 + 1; /* a value takes a digit and a comma */
	}
	uint32_t *offsets = malloc(((size_t)count + 1) * sizeof(*offsets));
	uint32_t *values = malloc((cap ? cap : 1) * sizeof(*values));
	PyObject *result = NULL;
	if (!offsets || !values || cap > UINT32_MAX) {
		PyErr_NoMemory();
		goto done;
	}
	size_t n = 0;
	offsets[0] = 0;
	for (Py_ssize_t i = 0; i < count; i++) {
		Py_ssize_t len;
		const char *text = PyUnicode_AsUTF8AndSize(items[i], &len);
		if (!text)
			goto done;
		if (ls_idlist_parse(text, (size_t)len, values, cap, &n) != 0) {
			PyErr_Format(PyExc_ValueError, "parse_id_lists: item %zd is not a list of ids: %.40R", i, items[i]);
			goto done;
		}
		offsets[i + 1] = (uint32_t)n;
	}
	result = u32_array_pair(offsets, (size_t)count + 1, values, n);
done:
	free(offsets);
	free(values);
	Py_DECREF(seq);
	return result;
}

PyObject *engine_renumber_ids(PyObject *module, PyObject *arg)
{
	(void)module;
	Py_buffer view;
	int is_signed;
	if (int_buffer(arg, &view, 4, &is_signed, "renumber_ids: ids") < 0)
		return NULL;
	size_t n = (size_t)(view.len / 4), d = 0;
	uint32_t *distinct = malloc((n ? n : 1) * sizeof(*distinct));
	uint32_t *renumbered = malloc((n ? n : 1) * sizeof(*renumbered));
	PyObject *result = NULL;
	if (!distinct || !renumbered) {
		PyErr_NoMemory();
	} else {
		int rc;
		Py_BEGIN_ALLOW_THREADS
		rc = ls_idlist_renumber(view.buf, n, distinct, &d, renumbered);
		Py_END_ALLOW_THREADS
		if (rc) {
			PyErr_NoMemory();
			goto done;
		}
		result = u32_array_pair(distinct, d, renumbered, n);
	}
done:
	free(distinct);
	free(renumbered);
	PyBuffer_Release(&view);
	return result;
}

PyObject *engine_gather(PyObject *module, PyObject *args)
{
	(void)module;
	PyObject *index_obj, *table_obj;
	int fallback;
	if (!PyArg_ParseTuple(args, "OOi", &index_obj, &table_obj, &fallback))
		return NULL;
	Py_buffer index, table;
	int index_signed, table_signed;
	if (int_buffer(index_obj, &index, 4, &index_signed, "gather: index") < 0)
		return NULL;
	if (int_buffer(table_obj, &table, 4, &table_signed, "gather: table") < 0) {
		PyBuffer_Release(&index);
		return NULL;
	}
	PyObject *result = NULL;
	size_t n = (size_t)(index.len / 4);
	int32_t *out = malloc((n ? n : 1) * sizeof(*out));
	if (!out)
		PyErr_NoMemory();
	else if (!index_signed || !table_signed)
		PyErr_SetString(PyExc_TypeError, "gather: index and table must be array('i')");
	else if (ls_idlist_gather(index.buf, n, table.buf, (size_t)(table.len / 4), fallback, out) != 0)
		PyErr_SetString(PyExc_ValueError, "gather: an index is past the table");
	else
		result = engine_new_array('i', out, n * sizeof(*out));
	free(out);
	PyBuffer_Release(&index);
	PyBuffer_Release(&table);
	return result;
}

PyObject *engine_json_ints(PyObject *module, PyObject *arg)
{
	(void)module;
	Py_buffer view;
	int is_signed;
	if (int_buffer(arg, &view, 0, &is_signed, "json_ints: values") < 0)
		return NULL;
	size_t n = (size_t)(view.len / view.itemsize);
	char *text = malloc(ls_idlist_json_size(n));
	PyObject *result = NULL;
	if (!text) {
		PyErr_NoMemory();
	} else {
		size_t len = ls_idlist_json(view.buf, n, (int)view.itemsize, is_signed, text);
		result = PyUnicode_FromStringAndSize(text, (Py_ssize_t)len);
	}
	free(text);
	PyBuffer_Release(&view);
	return result;
}
