/* _engine_export.c - the binding of the C exporters: export(format, profile, weight, lines).
 *
 * `profile` is a dict of plain lists (the shape loopscope.storage produces):
 *   strings   [str, ...]                       ids are positions; strings[0] must be ""
 *   functions [(name_id, file_id, first_line)]
 *   frames    [(function_id, line)]
 *   stacks    [[frame_id, ...] leaf first]
 *   threads   [(native_id, thread_id, name_id)]
 *   records   [(thread, stack, samples, wall_ns, cpu_ns, on_cpu, gil)]
 *   meta      {pid, hexversion, period_ns, start_unix_ns, duration_ns, command}
 * It is copied into a struct ls_profile and written by the exporter; the result is bytes.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_engine_export.h"
#include "export.h"
#include "ls_error.h"

static int fail_shape(const char *what)
{
	PyErr_Format(PyExc_ValueError, "profile: malformed %s", what);
	return -1;
}

static PyObject *list_item(PyObject *dict, const char *key)
{
	PyObject *v = PyDict_GetItemString(dict, key); /* borrowed */
	if (!v || !PyList_Check(v)) {
		PyErr_Format(PyExc_ValueError, "profile: %s must be a list", key);
		return NULL;
	}
	return v;
}

static int load_strings(struct ls_profile *p, PyObject *list)
{
	for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
		Py_ssize_t len;
		const char *s = PyUnicode_AsUTF8AndSize(PyList_GET_ITEM(list, i), &len);
		if (!s)
			return -1;
		if (ls_strtab_intern(&p->strings, s, (size_t)len) != i)
			return fail_shape("strings (duplicates, or strings[0] is not \"\")");
	}
	return 0;
}

static int load_functions(struct ls_profile *p, PyObject *list)
{
	for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
		struct ls_function fn;
		if (!PyArg_ParseTuple(PyList_GET_ITEM(list, i), "IIi", &fn.name_id, &fn.file_id, &fn.first_line))
			return -1;
		if (fn.name_id >= p->strings.len || fn.file_id >= p->strings.len || ls_functab_intern(&p->functions, &fn) != i)
			return fail_shape("functions");
	}
	return 0;
}

static int load_frames(struct ls_profile *p, PyObject *list)
{
	for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
		unsigned int function_id;
		int line;
		if (!PyArg_ParseTuple(PyList_GET_ITEM(list, i), "Ii", &function_id, &line))
			return -1;
		if (function_id >= p->functions.len || ls_frametab_intern(&p->frames, function_id, line) != i)
			return fail_shape("frames");
	}
	return 0;
}

static int load_stacks(struct ls_profile *p, PyObject *list)
{
	uint32_t *ids = NULL;
	size_t cap = 0;
	int rc = 0;
	for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list) && rc == 0; i++) {
		PyObject *seq = PySequence_Fast(PyList_GET_ITEM(list, i), "stacks must hold sequences");
		if (!seq)
			break;
		Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
		if ((size_t)n > cap) {
			uint32_t *grown = PyMem_Realloc(ids, (size_t)n * sizeof(*ids));
			if (!grown) {
				Py_DECREF(seq);
				PyErr_NoMemory();
				rc = -1;
				break;
			}
			ids = grown;
			cap = (size_t)n;
		}
		for (Py_ssize_t k = 0; k < n && rc == 0; k++) {
			unsigned long v = PyLong_AsUnsignedLong(PySequence_Fast_GET_ITEM(seq, k));
			if (PyErr_Occurred())
				rc = -1;
			else if (v >= p->frames.len)
				rc = fail_shape("stacks (unknown frame id)");
			else
				ids[k] = (uint32_t)v;
		}
		Py_DECREF(seq);
		if (rc == 0 && ls_stacktab_intern(&p->stacks, ids, (size_t)n) != i)
			rc = fail_shape("stacks (duplicates)");
	}
	PyMem_Free(ids);
	return PyErr_Occurred() ? -1 : rc;
}

static int load_threads_and_records(struct ls_profile *p, PyObject *threads, PyObject *records)
{
	for (Py_ssize_t i = 0; i < PyList_GET_SIZE(threads); i++) {
		struct ls_thread_desc t;
		long long native;
		unsigned long long tid;
		if (!PyArg_ParseTuple(PyList_GET_ITEM(threads, i), "LKI", &native, &tid, &t.name_id))
			return -1;
		t.native_id = native;
		t.thread_id = tid;
		if (t.name_id >= p->strings.len || ls_profile_add_thread(p, &t) < 0)
			return fail_shape("threads");
	}
	for (Py_ssize_t i = 0; i < PyList_GET_SIZE(records); i++) {
		unsigned int thread, stack;
		unsigned long long s, wall, cpu, on_cpu, gil;
		if (!PyArg_ParseTuple(PyList_GET_ITEM(records, i), "IIKKKKK", &thread, &stack, &s, &wall, &cpu, &on_cpu, &gil))
			return -1;
		struct ls_weights w = {s, wall, cpu, on_cpu, gil};
		if (thread >= p->nthreads || stack >= p->stacks.len)
			return fail_shape("records");
		if (ls_profile_add_record(p, thread, stack, &w)) {
			PyErr_NoMemory();
			return -1;
		}
	}
	return 0;
}

static int load_meta(struct ls_profile *p, PyObject *meta)
{
	if (!meta || meta == Py_None)
		return 0;
	if (!PyDict_Check(meta))
		return fail_shape("meta");
	struct {
		const char *key;
		void *dst;
		int is_u64;
	} fields[] = {
		{"pid", &p->meta.pid, 0},
		{"hexversion", &p->meta.hexversion, 0},
		{"period_ns", &p->meta.period_ns, 1},
		{"start_unix_ns", &p->meta.start_unix_ns, 1},
		{"duration_ns", &p->meta.duration_ns, 1},
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		PyObject *v = PyDict_GetItemString(meta, fields[i].key);
		if (!v)
			continue;
		unsigned long long x = PyLong_AsUnsignedLongLong(v);
		if (PyErr_Occurred())
			return -1;
		if (fields[i].is_u64)
			*(uint64_t *)fields[i].dst = x;
		else
			*(int32_t *)fields[i].dst = (int32_t)x;
	}
	PyObject *command = PyDict_GetItemString(meta, "command");
	if (command && command != Py_None) {
		const char *s = PyUnicode_AsUTF8(command);
		if (!s)
			return -1;
		snprintf(p->meta.command, sizeof(p->meta.command), "%s", s);
	}
	return 0;
}

PyObject *engine_export(PyObject *module, PyObject *args, PyObject *kwargs)
{
	static char *kwlist[] = {"format", "profile", "weight", "lines", NULL};
	const char *format;
	PyObject *dict;
	int weight = LS_WEIGHT_SAMPLES, lines = 1;
	(void)module;
	if (!PyArg_ParseTupleAndKeywords(args, kwargs, "sO!|ip:export", kwlist, &format, &PyDict_Type, &dict, &weight,
					 &lines))
		return NULL;
	const struct ls_exporter *exporter = ls_exporter_find(format);
	if (!exporter)
		return PyErr_Format(PyExc_ValueError, "unknown export format %R", PyTuple_GET_ITEM(args, 0));
	if (weight < LS_WEIGHT_SAMPLES || weight > LS_WEIGHT_CPU)
		return PyErr_Format(PyExc_ValueError, "weight must be 0 (samples), 1 (wall) or 2 (cpu)");
	struct ls_profile p;
	if (ls_profile_init(&p))
		return PyErr_NoMemory();
	PyObject *result = NULL, *strings, *functions, *frames, *stacks, *threads, *records;
	if (!(strings = list_item(dict, "strings")) || !(functions = list_item(dict, "functions")) ||
	    !(frames = list_item(dict, "frames")) || !(stacks = list_item(dict, "stacks")) ||
	    !(threads = list_item(dict, "threads")) || !(records = list_item(dict, "records")))
		goto out;
	if (load_strings(&p, strings) || load_functions(&p, functions) || load_frames(&p, frames) ||
	    load_stacks(&p, stacks) || load_threads_and_records(&p, threads, records) ||
	    load_meta(&p, PyDict_GetItemString(dict, "meta")))
		goto out;
	struct ls_export_options o = {(enum ls_export_weight)weight, lines};
	struct ls_buf buf = {0};
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = exporter->write(&p, &o, &buf);
	Py_END_ALLOW_THREADS
	if (rc)
		PyErr_Format(PyExc_RuntimeError, "%s export failed: %s", format, ls_error_message(rc));
	else
		result = PyBytes_FromStringAndSize(buf.data ? buf.data : "", (Py_ssize_t)buf.len);
	ls_buf_release(&buf);
out:
	ls_profile_release(&p);
	return result;
}
