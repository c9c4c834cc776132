/* session.c - a session ties a target (live or recorded) to a walker and its tables (see ls.h).
 *
 * Opening a session discovers the interpreter (live) or reads the facts stored in the image and
 * chooses the layout the same way; sampling is ls_threads_walk() into a sample the session owns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ls.h"
#include "pythread.h"
#include "walker.h"

struct ls_session {
	struct ls_proc *proc;
	struct ls_target target;
	struct ls_strtab strings;
	struct ls_functab functions;
	struct ls_walker walker;
	struct ls_sample sample;
	uint64_t samples, threads_walked, torn_threads, retried_threads, retried_samples;
	int64_t partial_stack_function; /* its id + 1, 0 until first used */
	int64_t top_missing_function;   /* the same */
};

/* How many times a whole sample is read again when the interpreter or its thread list changed
 * while we read it (a thread started or ended mid-read): such a race is brief, so an immediate
 * retry nearly always gets a whole sample. */
#define LS_SAMPLE_RETRIES 3

static int session_new(struct ls_proc *proc, struct ls_session **out)
{
	struct ls_session *s = calloc(1, sizeof(*s));
	if (!s)
		return LS_ERR_NOMEM;
	s->proc = proc;
	int rc = ls_strtab_init(&s->strings);
	if (!rc)
		rc = ls_functab_init(&s->functions);
	if (!rc)
		rc = ls_walker_init(&s->walker);
	if (rc) {
		s->proc = NULL; /* the caller still owns proc on failure */
		ls_session_free(s);
		return rc;
	}
	s->walker.ctx = (struct ls_code_context){proc, &s->target, &s->strings, &s->functions};
	*out = s;
	return 0;
}

int ls_session_open_pid(int32_t pid, struct ls_session **out, char *why, size_t why_len)
{
	struct ls_proc *proc;
	if (why && why_len)
		why[0] = 0;
	int rc = ls_proc_open_live(pid, &proc);
	if (rc)
		return rc;
	struct ls_session *s;
	rc = session_new(proc, &s);
	if (rc) {
		ls_proc_free(proc);
		return rc;
	}
	rc = ls_target_discover(proc, &s->target, why, why_len);
	if (rc) {
		ls_session_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

static int open_image_proc(struct ls_proc *proc, const struct ls_target_facts *facts, struct ls_session **out,
			   char *why, size_t why_len)
{
	struct ls_session *s;
	int rc = session_new(proc, &s);
	if (rc) {
		ls_proc_free(proc);
		return rc;
	}
	s->target.facts = *facts;
	s->target.facts.version_exact = 1; /* an image carries the version its recorder saw */
	rc = ls_target_choose_layout(proc, &s->target, why, why_len);
	if (rc) {
		ls_session_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int ls_session_open_image(const char *path, struct ls_session **out, char *why, size_t why_len)
{
	struct ls_proc *proc;
	struct ls_target_facts facts;
	if (why && why_len)
		why[0] = 0;
	int rc = ls_proc_open_image(path, &proc, &facts);
	return rc ? rc : open_image_proc(proc, &facts, out, why, why_len);
}

int ls_session_open_image_bytes(const uint8_t *data, size_t len, struct ls_session **out, char *why,
				size_t why_len)
{
	struct ls_proc *proc;
	struct ls_target_facts facts;
	if (why && why_len)
		why[0] = 0;
	int rc = ls_proc_open_image_bytes(data, len, &proc, &facts);
	return rc ? rc : open_image_proc(proc, &facts, out, why, why_len);
}

void ls_session_free(struct ls_session *s)
{
	if (!s)
		return;
	ls_walker_release(&s->walker);
	ls_functab_release(&s->functions);
	ls_strtab_release(&s->strings);
	free(s->sample.threads);
	free(s->sample.frames);
	if (s->proc)
		ls_proc_free(s->proc);
	free(s);
}

int ls_session_sample(struct ls_session *s, const struct ls_sample **out)
{
	int rc;
	for (int attempt = 0;; attempt++) {
		rc = ls_threads_walk(&s->walker, &s->sample);
		if ((rc != LS_ERR_TORN && rc != LS_ERR_READ) || attempt == LS_SAMPLE_RETRIES)
			break;
		s->retried_samples++;
	}
	if (rc)
		return rc;
	s->samples++;
	s->threads_walked += s->sample.nthreads;
	s->torn_threads += s->sample.torn_threads;
	s->retried_threads += s->sample.retried_threads;
	*out = &s->sample;
	return 0;
}

void ls_session_set_all_moving(struct ls_session *s, int enabled)
{
	s->walker.all_moving = enabled != 0;
}

void ls_session_set_code_check_every(struct ls_session *s, uint64_t ns)
{
	s->walker.code_check_every_ns = ns;
}

void ls_session_set_os_info(struct ls_session *s, int enabled)
{
	s->walker.os_info = enabled != 0;
}

const struct ls_target *ls_session_target(const struct ls_session *s)
{
	return &s->target;
}

int ls_session_refresh_version(struct ls_session *s)
{
	return ls_target_refresh_version(s->proc, &s->target);
}

const struct ls_function *ls_session_function(const struct ls_session *s, uint32_t id)
{
	return ls_functab_get(&s->functions, id);
}

const char *ls_session_string(const struct ls_session *s, uint32_t id, size_t *len)
{
	return ls_strtab_get(&s->strings, id, len);
}

uint32_t ls_session_string_count(const struct ls_session *s)
{
	return s->strings.len;
}

uint32_t ls_session_function_count(const struct ls_session *s)
{
	return s->functions.len;
}

int64_t ls_session_intern_string(struct ls_session *s, const char *str, size_t len)
{
	return ls_strtab_intern(&s->strings, str, len);
}

/* A function of loopscope's own (file "<loopscope>") that marks what a recording could not read;
 * *memo holds its id + 1 once interned. */
static int64_t marker_function(struct ls_session *s, const char *label, int64_t *memo)
{
	if (*memo)
		return *memo - 1;
	int64_t name = ls_strtab_intern(&s->strings, label, strlen(label));
	int64_t file = ls_strtab_intern(&s->strings, LS_PARTIAL_STACK_FILE, strlen(LS_PARTIAL_STACK_FILE));
	if (name < 0 || file < 0)
		return name < 0 ? name : file;
	struct ls_function fn = {(uint32_t)name, (uint32_t)file, 0};
	int64_t id = ls_functab_intern(&s->functions, &fn);
	if (id >= 0)
		*memo = id + 1;
	return id;
}

int64_t ls_session_partial_stack_function(struct ls_session *s)
{
	return marker_function(s, LS_PARTIAL_STACK_NAME, &s->partial_stack_function);
}

int64_t ls_session_top_missing_function(struct ls_session *s)
{
	return marker_function(s, LS_TOP_MISSING_NAME, &s->top_missing_function);
}

void ls_session_get_stats(const struct ls_session *s, struct ls_session_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->samples = s->samples;
	out->read_calls = s->proc->stats.read_calls;
	out->read_bytes = s->proc->stats.read_bytes;
	out->read_failures = s->proc->stats.read_failures;
	out->read_ranges = s->proc->stats.read_ranges;
	out->own_batches = s->walker.own_batches;
	out->threads_walked = s->threads_walked;
	out->torn_threads = s->torn_threads;
	out->retried_threads = s->retried_threads;
	out->retried_samples = s->retried_samples;
	out->code_hits = s->walker.code_cache.hits;
	out->code_misses = s->walker.code_cache.misses;
	out->code_stale = s->walker.code_cache.stale;
	out->code_epoch_hits = s->walker.code_epoch_hits;
	out->code_age_hits = s->walker.code_age_hits;
	out->batched_thread_lists = s->walker.spec_hits;
}

int ls_session_start_recording(struct ls_session *s)
{
	int rc = ls_proc_start_recording(s->proc);
	if (rc || !s->target.layout.from_debug_offsets)
		return rc;
	/* an image must carry the debug offsets its layout will be chosen from */
	uint8_t block[2048];
	return ls_proc_read(s->proc, s->target.facts.runtime_addr, block, sizeof(block));
}

int ls_session_save_image(const struct ls_session *s, const char *path)
{
	return ls_image_save(s->proc, &s->target.facts, path);
}

/* 1 if `text` (len bytes) ends with `suffix`. */
static int ends_with(const char *text, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);
	return text && len >= n && memcmp(text + len - n, suffix, n) == 0;
}

int ls_session_thread_python_name(struct ls_session *s, uint32_t index, char *buf, size_t cap)
{
	if (cap)
		buf[0] = 0;
	if (index >= s->sample.nthreads || cap < 8)
		return LS_ERR_INVALID_ARG;
	const struct ls_thread *th = &s->sample.threads[index];
	if (!th->base_frame || th->nframes == 0)
		return LS_ERR_NOT_STARTED;
	/* the outermost frame must be threading.Thread._bootstrap, whose first local is the Thread */
	const struct ls_frame *outermost = &s->sample.frames[th->first_frame + th->nframes - 1];
	const struct ls_function *fn = ls_functab_get(&s->functions, outermost->function_id);
	size_t name_len = 0, file_len = 0;
	const char *name = fn ? ls_strtab_get(&s->strings, fn->name_id, &name_len) : NULL;
	const char *file = fn ? ls_strtab_get(&s->strings, fn->file_id, &file_len) : NULL;
	if (!name || !(ends_with(name, name_len, "._bootstrap") || (name_len == 10 && memcmp(name, "_bootstrap", 10) == 0)) ||
	    !ends_with(file, file_len, "threading.py"))
		return LS_ERR_NOT_STARTED;
	return ls_pythread_name(s->proc, &s->target.layout, th->base_frame, buf, cap);
}
