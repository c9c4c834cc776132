/* _engine.c - the thin Python binding of the C engine (src/engine/ls.h).
 *
 * One type, Session, whose methods each call one engine function and convert the result; plus
 * the pure line-table decoder for tests. Multi-phase initialisation, module state, heap types,
 * no static PyObject globals. Sampling releases the GIL (the engine never touches Python
 * objects); a session refuses to be used by two threads at once.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include "_engine_calltree.h"
#include "_engine_arrays.h"
#include "_engine_export.h"
#include "_engine_sampler.h"
#include "_engine_types.h"
#include "linetable.h"
#include "pythread.h"
#include "export.h"
#include "ls.h"

module_state *get_state(PyObject *module)
{
	return (module_state *)PyModule_GetState(module);
}

PyObject *raise_engine_error(PyObject *error_type, int code, const char *detail)
{
	PyObject *args = Py_BuildValue("(iss)", code, ls_error_message(code), detail ? detail : "");
	if (args) {
		PyErr_SetObject(error_type, args);
		Py_DECREF(args);
	}
	return NULL;
}

/* --- Session --------------------------------------------------------------------------------- */

static PyObject *session_wrap(PyTypeObject *type, struct ls_session *s, PyObject *error)
{
	SessionObject *self = (SessionObject *)type->tp_alloc(type, 0);
	if (!self) {
		ls_session_free(s);
		return NULL;
	}
	self->session = s;
	self->error = error;
	return (PyObject *)self;
}

static PyObject *error_of_type(PyTypeObject *type)
{
	PyObject *module = PyType_GetModule(type);
	return module ? get_state(module)->error : PyExc_RuntimeError;
}

static PyObject *Session_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = {"pid", NULL};
	int pid;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "i:Session", kwlist, &pid))
		return NULL;
	PyObject *error = error_of_type(type);
	struct ls_session *s = NULL;
	char why[512];
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = ls_session_open_pid(pid, &s, why, sizeof(why));
	Py_END_ALLOW_THREADS
	if (rc)
		return raise_engine_error(error, rc, why);
	return session_wrap(type, s, error);
}

static PyObject *Session_from_image(PyObject *cls, PyObject *arg)
{
	PyObject *path_bytes;
	if (!PyUnicode_FSConverter(arg, &path_bytes))
		return NULL;
	PyTypeObject *type = (PyTypeObject *)cls;
	PyObject *error = error_of_type(type);
	struct ls_session *s = NULL;
	char why[512];
	int rc = ls_session_open_image(PyBytes_AS_STRING(path_bytes), &s, why, sizeof(why));
	Py_DECREF(path_bytes);
	if (rc)
		return raise_engine_error(error, rc, why);
	return session_wrap(type, s, error);
}

static void Session_dealloc(SessionObject *self)
{
	PyTypeObject *type = Py_TYPE(self);
	ls_session_free(self->session);
	type->tp_free((PyObject *)self);
	Py_DECREF(type);
}

static PyObject *thread_to_tuple(const struct ls_sample *s, const struct ls_thread *th)
{
	PyObject *frames = PyTuple_New(th->nframes);
	if (!frames)
		return NULL;
	for (uint32_t i = 0; i < th->nframes; i++) {
		const struct ls_frame *f = &s->frames[th->first_frame + i];
		PyObject *item = Py_BuildValue("(Ii)", f->function_id, f->line);
		if (!item) {
			Py_DECREF(frames);
			return NULL;
		}
		PyTuple_SET_ITEM(frames, i, item);
	}
	return Py_BuildValue("(KLLIKsN)", (unsigned long long)th->thread_id, (long long)th->native_id,
			     (long long)th->interp_id, th->flags, (unsigned long long)th->cpu_ns, th->name, frames);
}

/* sample() -> list of (thread_id, native_id, interp_id, flags, cpu_ns, name, frames), frames
 * innermost first as (function_id, line). */
static PyObject *Session_sample(SessionObject *self, PyObject *Py_UNUSED(ignored))
{
	if (self->busy) {
		PyErr_SetString(PyExc_RuntimeError, "session is in use by another thread");
		return NULL;
	}
	const struct ls_sample *sample = NULL;
	int rc;
	self->busy = 1;
	Py_BEGIN_ALLOW_THREADS
	rc = ls_session_sample(self->session, &sample);
	Py_END_ALLOW_THREADS
	self->busy = 0;
	if (rc)
		return raise_engine_error(self->error, rc, NULL);
	PyObject *list = PyList_New(sample->nthreads);
	if (!list)
		return NULL;
	for (uint32_t i = 0; i < sample->nthreads; i++) {
		PyObject *t = thread_to_tuple(sample, &sample->threads[i]);
		if (!t) {
			Py_DECREF(list);
			return NULL;
		}
		PyList_SET_ITEM(list, i, t);
	}
	return list;
}

/* thread_python_name(index) -> str or None: the name the program gave thread `index` of the last
 * sample (threading.Thread.name), when it can be read */
static PyObject *Session_thread_python_name(SessionObject *self, PyObject *arg)
{
	unsigned long index = PyLong_AsUnsignedLong(arg);
	if (PyErr_Occurred())
		return NULL;
	if (self->busy) {
		PyErr_SetString(PyExc_RuntimeError, "session is in use by another thread");
		return NULL;
	}
	char name[LS_PY_THREAD_NAME_MAX];
	int rc;
	self->busy = 1;
	Py_BEGIN_ALLOW_THREADS
	rc = ls_session_thread_python_name(self->session, index > UINT32_MAX ? UINT32_MAX : (uint32_t)index, name,
					   sizeof(name));
	Py_END_ALLOW_THREADS
	self->busy = 0;
	if (rc == LS_ERR_INVALID_ARG) {
		PyErr_Format(PyExc_IndexError, "the last sample has no thread %lu", index);
		return NULL;
	}
	if (rc || !name[0])
		Py_RETURN_NONE;
	return PyUnicode_DecodeUTF8(name, (Py_ssize_t)strlen(name), "surrogateescape");
}

static PyObject *string_or_empty(const struct ls_session *s, uint32_t id)
{
	size_t len = 0;
	const char *str = ls_session_string(s, id, &len);
	return PyUnicode_DecodeUTF8(str ? str : "", str ? (Py_ssize_t)len : 0, "surrogateescape");
}

/* function(id) -> (name, file, first_line) */
static PyObject *Session_function(SessionObject *self, PyObject *arg)
{
	unsigned long id = PyLong_AsUnsignedLong(arg);
	if (PyErr_Occurred())
		return NULL;
	const struct ls_function *fn = ls_session_function(self->session, (uint32_t)id);
	if (!fn || id > UINT32_MAX) {
		PyErr_Format(PyExc_KeyError, "no function %lu", id);
		return NULL;
	}
	return Py_BuildValue("(NNi)", string_or_empty(self->session, fn->name_id),
			     string_or_empty(self->session, fn->file_id), fn->first_line);
}

static PyObject *Session_target(SessionObject *self, PyObject *Py_UNUSED(ignored))
{
	int exact = self->busy ? ls_session_target(self->session)->facts.version_exact
			       : ls_session_refresh_version(self->session);
	const struct ls_target *t = ls_session_target(self->session);
	return Py_BuildValue("{s:i,s:k,s:s,s:O,s:N,s:s,s:K}", "pid", t->facts.pid, "hexversion",
			     (unsigned long)t->facts.hexversion, "version", t->facts.version, "version_exact",
			     exact ? Py_True : Py_False, "binary", PyUnicode_DecodeFSDefault(t->facts.binary), "layout",
			     t->layout.from_debug_offsets ? "debug_offsets" : "builtin", "runtime_address",
			     (unsigned long long)t->facts.runtime_addr);
}

static PyObject *Session_stats(SessionObject *self, PyObject *Py_UNUSED(ignored))
{
	struct ls_session_stats st;
	ls_session_get_stats(self->session, &st);
	return Py_BuildValue("{s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K}", "batched_thread_lists",
			     st.batched_thread_lists, "samples", st.samples, "read_calls",
			     st.read_calls, "read_bytes", st.read_bytes, "read_failures", st.read_failures,
			     "read_ranges", st.read_ranges, "own_batches", st.own_batches,
			     "threads_walked", st.threads_walked, "torn_threads", st.torn_threads,
			     "retried_threads", st.retried_threads, "retried_samples", st.retried_samples, "code_hits", st.code_hits, "code_misses",
			     st.code_misses, "code_stale", st.code_stale, "code_epoch_hits", st.code_epoch_hits,
			     "code_age_hits", st.code_age_hits);
}

static PyObject *Session_start_recording(SessionObject *self, PyObject *Py_UNUSED(ignored))
{
	int rc = ls_session_start_recording(self->session);
	if (rc)
		return raise_engine_error(self->error, rc, NULL);
	Py_RETURN_NONE;
}

static PyObject *Session_save_image(SessionObject *self, PyObject *arg)
{
	PyObject *path_bytes;
	if (!PyUnicode_FSConverter(arg, &path_bytes))
		return NULL;
	int rc = ls_session_save_image(self->session, PyBytes_AS_STRING(path_bytes));
	Py_DECREF(path_bytes);
	if (rc)
		return raise_engine_error(self->error, rc, NULL);
	Py_RETURN_NONE;
}

static PyObject *Session_set_os_info(SessionObject *self, PyObject *arg)
{
	int enabled = PyObject_IsTrue(arg);
	if (enabled < 0)
		return NULL;
	ls_session_set_os_info(self->session, enabled);
	Py_RETURN_NONE;
}

static PyObject *Session_set_code_check_every(SessionObject *self, PyObject *arg)
{
	unsigned long long ns = PyLong_AsUnsignedLongLong(arg);
	if (ns == (unsigned long long)-1 && PyErr_Occurred())
		return NULL;
	ls_session_set_code_check_every(self->session, (uint64_t)ns);
	Py_RETURN_NONE;
}

static PyMethodDef Session_methods[] = {
	{"set_os_info", (PyCFunction)Session_set_os_info, METH_O,
	 "set_os_info(enabled): whether samples read each thread's state, CPU time and name from /proc"},
	{"set_code_check_every", (PyCFunction)Session_set_code_check_every, METH_O,
	 "set_code_check_every(ns): prove code identity in a sample at least this often, 0 = in every sample "
	 "(the recorder's setting; see ls_session_set_code_check_every)"},
	{"from_image", (PyCFunction)Session_from_image, METH_O | METH_CLASS,
	 "from_image(path) -> Session over a recorded memory image"},
	{"sample", (PyCFunction)Session_sample, METH_NOARGS,
	 "sample() -> [(thread_id, native_id, interp_id, flags, cpu_ns, name, ((function_id, line), ...))]"},
	{"function", (PyCFunction)Session_function, METH_O, "function(id) -> (name, file, first_line)"},
	{"thread_python_name", (PyCFunction)Session_thread_python_name, METH_O,
	 "thread_python_name(index) -> the name the program gave thread index of the last sample, or None"},
	{"target", (PyCFunction)Session_target, METH_NOARGS, "target() -> dict describing the interpreter"},
	{"stats", (PyCFunction)Session_stats, METH_NOARGS, "stats() -> dict of counters"},
	{"start_recording", (PyCFunction)Session_start_recording, METH_NOARGS,
	 "record every read from now on, for save_image()"},
	{"save_image", (PyCFunction)Session_save_image, METH_O, "save_image(path): write what was read"},
	{NULL, NULL, 0, NULL},
};

static PyType_Slot Session_slots[] = {
	{Py_tp_new, Session_new},
	{Py_tp_dealloc, Session_dealloc},
	{Py_tp_methods, Session_methods},
	{Py_tp_doc, "Session(pid): read the Python stacks of a running process"},
	{0, NULL},
};

static PyType_Spec Session_spec = {
	"loopscope._engine.Session",
	sizeof(SessionObject),
	0,
	Py_TPFLAGS_DEFAULT,
	Session_slots,
};

/* --- module functions ------------------------------------------------------------------------ */

static PyObject *linetable_decode(PyObject *module, PyObject *args)
{
	int kind, firstlineno;
	Py_buffer table;
	if (!PyArg_ParseTuple(args, "iy*i:linetable_decode", &kind, &table, &firstlineno))
		return NULL;
	struct ls_line_ranges ranges = {0};
	int rc = ls_linetable_decode((enum ls_linetable_kind)kind, table.buf, (size_t)table.len, firstlineno, &ranges);
	PyBuffer_Release(&table);
	if (rc) {
		ls_line_ranges_release(&ranges);
		if (rc == LS_ERR_NOMEM)
			return PyErr_NoMemory();
		PyErr_Format(PyExc_ValueError, "%s", ls_error_message(rc));
		return NULL;
	}
	PyObject *list = PyList_New((Py_ssize_t)ranges.len);
	for (size_t i = 0; list && i < ranges.len; i++) {
		PyObject *t = Py_BuildValue("(IIi)", ranges.items[i].start, ranges.items[i].end, ranges.items[i].line);
		if (!t) {
			Py_CLEAR(list);
			break;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, t);
	}
	ls_line_ranges_release(&ranges);
	(void)module;
	return list;
}

static PyObject *error_message(PyObject *module, PyObject *arg)
{
	(void)module;
	long code = PyLong_AsLong(arg);
	if (code == -1 && PyErr_Occurred())
		return NULL;
	return PyUnicode_FromString(ls_error_message((int)code));
}

static PyMethodDef module_methods[] = {
	{"linetable_decode", linetable_decode, METH_VARARGS,
	 "linetable_decode(kind, table, firstlineno) -> [(start, end, line)]"},
	{"error_message", error_message, METH_O, "error_message(code) -> str"},
	{"parse_id_lists", engine_parse_id_lists, METH_O,
	 "parse_id_lists(texts) -> (offsets, values): stored id lists as array('I')s"},
	{"renumber_ids", engine_renumber_ids, METH_O,
	 "renumber_ids(ids) -> (distinct, renumbered): dense ids in order of value, as array('I')s"},
	{"gather", engine_gather, METH_VARARGS, "gather(index, table, fallback) -> array('i') of table[index[i]]"},
	{"json_ints", engine_json_ints, METH_O, "json_ints(array) -> str: the JSON text of an integer array"},
	{"call_tree", engine_call_tree, METH_VARARGS,
	 "call_tree(stack_offsets, stack_frames, frame_key, key_rank, weights, n_series) -> dict (see _engine_calltree.c)"},
	{"export", (PyCFunction)(void (*)(void))engine_export, METH_VARARGS | METH_KEYWORDS,
	 "export(format, profile, weight=0, lines=True) -> bytes (see _engine_export.c for the profile's shape)"},
	{NULL, NULL, 0, NULL},
};

static int add_int(PyObject *m, const char *name, long value)
{
	return PyModule_AddIntConstant(m, name, value);
}

static int module_exec(PyObject *m)
{
	module_state *st = get_state(m);
	st->error = PyErr_NewException("loopscope._engine.Error", PyExc_Exception, NULL);
	if (!st->error)
		return -1;
	Py_INCREF(st->error);
	if (PyModule_AddObject(m, "Error", st->error) < 0) {
		Py_DECREF(st->error);
		return -1;
	}
	st->session_type = PyType_FromModuleAndSpec(m, &Session_spec, NULL);
	if (!st->session_type || engine_sampler_add_type(m, st) < 0)
		return -1;
	if (!st->session_type)
		return -1;
	Py_INCREF(st->session_type);
	if (PyModule_AddObject(m, "Session", st->session_type) < 0) {
		Py_DECREF(st->session_type);
		return -1;
	}
	struct {
		const char *name;
		long value;
	} constants[] = {
		{"THREAD_HOLDS_GIL", LS_THREAD_HOLDS_GIL}, {"THREAD_ON_CPU", LS_THREAD_ON_CPU},
		{"THREAD_TRUNCATED", LS_THREAD_TRUNCATED}, {"THREAD_TORN", LS_THREAD_TORN},
		{"THREAD_TOP_MISSING", LS_THREAD_TOP_MISSING},
		{"THREAD_HAS_CPU_TIME", LS_THREAD_HAS_CPU_TIME}, {"THREAD_HAS_OS_INFO", LS_THREAD_HAS_OS_INFO},
		{"ERR_NO_PROCESS", LS_ERR_NO_PROCESS}, {"ERR_PERMISSION", LS_ERR_PERMISSION},
		{"ERR_PROCESS_EXITED", LS_ERR_PROCESS_EXITED}, {"ERR_READ", LS_ERR_READ},
		{"ERR_NOT_PYTHON", LS_ERR_NOT_PYTHON}, {"ERR_UNSUPPORTED_VERSION", LS_ERR_UNSUPPORTED_VERSION},
		{"ERR_NO_DEBUG_OFFSETS", LS_ERR_NO_DEBUG_OFFSETS}, {"ERR_BAD_DEBUG_OFFSETS", LS_ERR_BAD_DEBUG_OFFSETS},
		{"ERR_NOT_STARTED", LS_ERR_NOT_STARTED}, {"ERR_TORN", LS_ERR_TORN}, {"ERR_BAD_IMAGE", LS_ERR_BAD_IMAGE}, {"ERR_IO", LS_ERR_IO},
		{"LINETABLE_LNOTAB", LS_LINETABLE_LNOTAB}, {"LINETABLE_310", LS_LINETABLE_310},
		{"LINETABLE_LOCATIONS", LS_LINETABLE_LOCATIONS}, {"LINE_NONE", LS_LINE_NONE},
		{"MAX_DEPTH", LS_MAX_DEPTH}, {"RECORDER_CODE_CHECK_NS", (long)LS_RECORDER_CODE_CHECK_NS},
		{"WEIGHT_SAMPLES", LS_WEIGHT_SAMPLES}, {"WEIGHT_WALL", LS_WEIGHT_WALL}, {"WEIGHT_CPU", LS_WEIGHT_CPU},
	};
	for (size_t i = 0; i < sizeof(constants) / sizeof(constants[0]); i++)
		if (add_int(m, constants[i].name, constants[i].value) < 0)
			return -1;
	return 0;
}

static int module_traverse(PyObject *m, visitproc visit, void *arg)
{
	module_state *st = get_state(m);
	Py_VISIT(st->session_type);
	Py_VISIT(st->sampler_type);
	Py_VISIT(st->error);
	return 0;
}

static int module_clear(PyObject *m)
{
	module_state *st = get_state(m);
	Py_CLEAR(st->session_type);
	Py_CLEAR(st->sampler_type);
	Py_CLEAR(st->error);
	return 0;
}

static void module_free(void *m)
{
	module_clear((PyObject *)m);
}

static PyModuleDef_Slot module_slots[] = {
	{Py_mod_exec, module_exec},
	{0, NULL},
};

static struct PyModuleDef engine_module = {
	PyModuleDef_HEAD_INIT,
	"loopscope._engine",
	"The loopscope C engine: read CPython stacks from another process.",
	sizeof(module_state),
	module_methods,
	module_slots,
	module_traverse,
	module_clear,
	module_free,
};

PyMODINIT_FUNC PyInit__engine(void)
{
	return PyModuleDef_Init(&engine_module);
}
