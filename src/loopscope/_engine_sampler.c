/* _engine_sampler.c - the binding of the C sampler (src/engine/sampler.h).
 *
 * Sampler(session, rate_hz, window_s, main_thread_only, os_info, duration_s) wraps one
 * ls_sampler over a Session, which it keeps alive. start()/stop() run and end the C sampling
 * thread (stop waits with the GIL released); take() returns what the consumer has not seen yet:
 * (interned items, closed windows) as plain lists and dicts (the shape loopscope.storage stores;
 * threads as (id, native_id, thread_id, name));
 * status() the counters. step() takes one tick on the caller's thread, for tests.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <time.h>

#include "_engine_sampler.h"
#include "sampler.h"

typedef struct {
	PyObject_HEAD
	struct ls_sampler *sampler;
	PyObject *session; /* the SessionObject, owned */
} SamplerObject;

static PyObject *Sampler_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = {"session", "rate_hz", "window_s", "main_thread_only", "os_info", "duration_s", NULL};
	PyObject *session;
	unsigned int rate_hz = 100;
	double window_s = 1.0, duration_s = 0.0;
	int main_only = 0, os_info = 1;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|Idppd:Sampler", kwlist, &session, &rate_hz, &window_s, &main_only,
					 &os_info, &duration_s))
		return NULL;
	PyObject *module = PyType_GetModule(type);
	module_state *st = module ? get_state(module) : NULL;
	if (!st)
		return NULL;
	if (!PyObject_TypeCheck(session, (PyTypeObject *)st->session_type)) {
		PyErr_SetString(PyExc_TypeError, "Sampler needs a Session");
		return NULL;
	}
	if (window_s < 0.001 || window_s > 86400.0 || duration_s < 0.0) {
		PyErr_SetString(PyExc_ValueError, "window_s must be within 0.001 .. 86400 and duration_s >= 0");
		return NULL;
	}
	struct ls_sampler_config cfg = {
		.rate_hz = rate_hz,
		.window_ns = (uint64_t)(window_s * 1e9),
		.main_thread_only = main_only,
		.os_info = os_info,
		.duration_ns = (uint64_t)(duration_s * 1e9),
	};
	struct ls_sampler *sampler;
	int rc = ls_sampler_new(((SessionObject *)session)->session, &cfg, &sampler);
	if (rc) {
		if (rc == LS_ERR_INVALID_ARG)
			return PyErr_Format(PyExc_ValueError, "rate_hz must be within 1 .. 100000");
		return raise_engine_error(st->error, rc, NULL);
	}
	SamplerObject *self = (SamplerObject *)type->tp_alloc(type, 0);
	if (!self) {
		ls_sampler_free(sampler);
		return NULL;
	}
	self->sampler = sampler;
	Py_INCREF(session);
	self->session = session;
	return (PyObject *)self;
}

static void Sampler_dealloc(SamplerObject *self)
{
	PyTypeObject *type = Py_TYPE(self);
	if (self->sampler) {
		Py_BEGIN_ALLOW_THREADS
		ls_sampler_free(self->sampler);
		Py_END_ALLOW_THREADS
	}
	Py_XDECREF(self->session);
	type->tp_free((PyObject *)self);
	Py_DECREF(type);
}

static PyObject *Sampler_start(SamplerObject *self, PyObject *Py_UNUSED(ignored))
{
	SessionObject *session = (SessionObject *)self->session;
	if (session->busy) {
		PyErr_SetString(PyExc_RuntimeError, "session is in use by another thread");
		return NULL;
	}
	int rc = ls_sampler_start(self->sampler);
	if (rc) {
		PyErr_SetString(PyExc_RuntimeError, "sampler already started");
		return NULL;
	}
	session->busy = 1; /* the sampling thread owns the session until stop() */
	Py_RETURN_NONE;
}

static PyObject *Sampler_stop(SamplerObject *self, PyObject *Py_UNUSED(ignored))
{
	Py_BEGIN_ALLOW_THREADS
	ls_sampler_stop(self->sampler);
	Py_END_ALLOW_THREADS
	((SessionObject *)self->session)->busy = 0;
	Py_RETURN_NONE;
}

static PyObject *Sampler_step(SamplerObject *self, PyObject *Py_UNUSED(ignored))
{
	SessionObject *session = (SessionObject *)self->session;
	if (session->busy) {
		PyErr_SetString(PyExc_RuntimeError, "the sampling thread is running");
		return NULL;
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int rc;
	Py_BEGIN_ALLOW_THREADS
	rc = ls_sampler_step(self->sampler, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
	Py_END_ALLOW_THREADS
	if (rc)
		return raise_engine_error(session->error, rc, NULL);
	Py_RETURN_NONE;
}

static PyObject *Sampler_flush(SamplerObject *self, PyObject *Py_UNUSED(ignored))
{
	ls_sampler_flush(self->sampler);
	Py_RETURN_NONE;
}

/* --- take() ---------------------------------------------------------------------------------- */

struct interned_lists {
	PyObject *strings, *functions, *frames, *stacks, *threads;
};

static int append_new(PyObject *list, PyObject *item)
{
	if (!item)
		return -1;
	int rc = PyList_Append(list, item);
	Py_DECREF(item);
	return rc;
}

static int visit_string(void *ctx, uint32_t id, const char *s, size_t len)
{
	struct interned_lists *l = ctx;
	return append_new(l->strings, Py_BuildValue("(IN)", id, PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, "surrogateescape")));
}

static int visit_function(void *ctx, uint32_t id, const struct ls_function *fn)
{
	struct interned_lists *l = ctx;
	return append_new(l->functions, Py_BuildValue("(IIIi)", id, fn->name_id, fn->file_id, fn->first_line));
}

static int visit_frame(void *ctx, uint32_t id, const struct ls_frame_key *f)
{
	struct interned_lists *l = ctx;
	return append_new(l->frames, Py_BuildValue("(IIi)", id, f->function_id, f->line));
}

static int visit_stack(void *ctx, uint32_t id, const uint32_t *frames, size_t n)
{
	struct interned_lists *l = ctx;
	PyObject *list = PyList_New((Py_ssize_t)n);
	if (!list)
		return -1;
	for (size_t i = 0; i < n; i++) {
		PyObject *v = PyLong_FromUnsignedLong(frames[i]);
		if (!v) {
			Py_DECREF(list);
			return -1;
		}
		PyList_SET_ITEM(list, (Py_ssize_t)i, v);
	}
	return append_new(l->stacks, Py_BuildValue("(IN)", id, list));
}

static int visit_thread(void *ctx, const struct ls_interned_thread *t)
{
	struct interned_lists *l = ctx;
	return append_new(l->threads, Py_BuildValue("(ILKs)", t->id, (long long)t->native_id,
						   (unsigned long long)t->thread_id, t->name));
}

static PyObject *window_dict(const struct ls_window *w)
{
	PyObject *records = PyList_New((Py_ssize_t)w->nrecords);
	if (!records)
		return NULL;
	for (size_t i = 0; i < w->nrecords; i++) {
		const struct ls_record *r = &w->records[i];
		PyObject *t = Py_BuildValue("(IIKKKKK)", r->thread, r->stack, r->w.samples, r->w.wall_ns, r->w.cpu_ns,
					    r->w.on_cpu, r->w.gil);
		if (!t) {
			Py_DECREF(records);
			return NULL;
		}
		PyList_SET_ITEM(records, (Py_ssize_t)i, t);
	}
	return Py_BuildValue("{s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:N}", "index", w->index, "start_unix_ns",
			     w->start_unix_ns, "end_unix_ns", w->end_unix_ns, "samples", w->samples, "late", w->late,
			     "failed", w->failed, "torn_threads", w->torn_threads, "process_cpu_ns",
			     w->process_cpu_ns, "records", records);
}

/* take() -> (interned, windows): items interned since the last take, then the closed windows. */
static PyObject *Sampler_take(SamplerObject *self, PyObject *Py_UNUSED(ignored))
{
	struct interned_lists l = {PyList_New(0), PyList_New(0), PyList_New(0), PyList_New(0), PyList_New(0)};
	PyObject *windows = PyList_New(0), *result = NULL;
	if (!l.strings || !l.functions || !l.frames || !l.stacks || !l.threads || !windows)
		goto out;
	/* windows first: every id they use was interned before they closed, so taking the interned
	 * items second can only hand out more than the windows need, never less */
	for (struct ls_window *w; (w = ls_sampler_take_window(self->sampler));) {
		PyObject *d = window_dict(w);
		ls_window_free(w);
		if (append_new(windows, d) < 0)
			goto out;
	}
	struct ls_interned_visitor v = {&l, visit_string, visit_function, visit_frame, visit_stack, visit_thread};
	if (ls_sampler_take_interned(self->sampler, &v) != 0)
		goto out;
	result = Py_BuildValue("({s:O,s:O,s:O,s:O,s:O}O)", "strings", l.strings, "functions", l.functions, "frames",
			       l.frames, "stacks", l.stacks, "threads", l.threads, windows);
out:
	Py_XDECREF(l.strings);
	Py_XDECREF(l.functions);
	Py_XDECREF(l.frames);
	Py_XDECREF(l.stacks);
	Py_XDECREF(l.threads);
	Py_XDECREF(windows);
	return result;
}

static PyObject *Sampler_status(SamplerObject *self, PyObject *Py_UNUSED(ignored))
{
	struct ls_sampler_status st;
	ls_sampler_get_status(self->sampler, &st);
	static const char *states[] = {"idle", "running", "stopped", "target_exited", "failed"};
	const char *state = (unsigned)st.state < 5 ? states[st.state] : "?";
	return Py_BuildValue("{s:s,s:i,s:s,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K}", "state", state, "last_error",
			     st.last_error, "last_error_message", st.last_error ? ls_error_message(st.last_error) : "",
			     "ticks", st.ticks, "samples", st.samples, "late", st.late, "failed", st.failed,
			     "torn_threads", st.torn_threads, "windows_closed", st.windows_closed,
			     "windows_dropped", st.windows_dropped, "elapsed_ns", st.elapsed_ns, "sampler_cpu_ns",
			     st.sampler_cpu_ns, "process_cpu_ns", st.process_cpu_ns);
}

static PyMethodDef Sampler_methods[] = {
	{"start", (PyCFunction)Sampler_start, METH_NOARGS, "start the sampling thread"},
	{"stop", (PyCFunction)Sampler_stop, METH_NOARGS, "stop the sampling thread and close the current window"},
	{"step", (PyCFunction)Sampler_step, METH_NOARGS, "take one tick on this thread (when not started)"},
	{"flush", (PyCFunction)Sampler_flush, METH_NOARGS, "close the current window now"},
	{"take", (PyCFunction)Sampler_take, METH_NOARGS, "take() -> (new interned items, closed windows)"},
	{"status", (PyCFunction)Sampler_status, METH_NOARGS, "status() -> dict of counters"},
	{NULL, NULL, 0, NULL},
};

static PyType_Slot Sampler_slots[] = {
	{Py_tp_new, Sampler_new},
	{Py_tp_dealloc, Sampler_dealloc},
	{Py_tp_methods, Sampler_methods},
	{Py_tp_doc, "Sampler(session, rate_hz=100, window_s=1.0, main_thread_only=False, os_info=True, duration_s=0)"},
	{0, NULL},
};

static PyType_Spec Sampler_spec = {
	"loopscope._engine.Sampler", sizeof(SamplerObject), 0, Py_TPFLAGS_DEFAULT, Sampler_slots,
};

int engine_sampler_add_type(PyObject *m, module_state *st)
{
	st->sampler_type = PyType_FromModuleAndSpec(m, &Sampler_spec, NULL);
	if (!st->sampler_type)
		return -1;
	Py_INCREF(st->sampler_type);
	if (PyModule_AddObject(m, "Sampler", st->sampler_type) < 0) {
		Py_DECREF(st->sampler_type);
		return -1;
	}
	return 0;
}
