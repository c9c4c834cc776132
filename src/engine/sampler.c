/* sampler.c - the sampling thread, its ticks and its windows (see sampler.h).
 *
 * Structure: ls_sampler_step() is one tick (sample, then add each thread's stack to the current
 * window); sampler_main() is the thread that calls it on absolute deadlines; windows close when a
 * tick falls past their end and go to a bounded ring. It does not write files: the consumer takes
 * windows and newly interned items and stores them (the Python shell, loopscope.recorder).
 */
#define _GNU_SOURCE
#include "sampler.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "array.h"
#include "clock.h"
#include "linetable.h"
#include "ls_error.h"
#include "procstat.h"
#include "pythread.h"

#define MAX_RATE_HZ 100000u

struct recorded_thread {
	int64_t native_id;
	uint64_t thread_id;
	uint32_t name_id;
	uint64_t last_cpu_ns;
	int has_cpu;
	uint8_t name_final;   /* the first search is over: the program's own name found, or given up */
	uint8_t name_tries;   /* whole walks in which the program's name was looked for */
	uint8_t program_name; /* name_id is the program's own name (threading.Thread.name) */
	uint8_t renames;      /* new names taken after the first */
	uint64_t name_seen_ns; /* monotonic time the program's name was last read */
};

/* How many whole walks of a thread are searched for the name the program gave it. */
#define PY_NAME_TRIES 3
/* A thread the program named is looked at again this often (one thread per tick at most), in case
 * it was renamed (t.name = ...); a thread's renames are followed this many times, since each new
 * name stays in the string table for good. */
#define PY_NAME_RECHECK_NS 1000000000ull
#define PY_NAME_RENAMES_MAX 16

struct ls_sampler {
	struct ls_session *session;
	struct ls_sampler_config cfg;
	pthread_mutex_t lock;
	pthread_t thread;
	int started;
	atomic_int stop_requested;

	struct ls_frametab frames;
	struct ls_stacktab stacks;
	struct recorded_thread *threads;
	uint32_t nthreads;
	int name_rechecked;      /* a thread's name was looked at again in this tick */
	size_t cap_threads;
	uint32_t *thread_slots; /* open addressing over (native_id, thread_id): index + 1 */
	uint32_t nthread_slots;
	uint32_t *scratch;      /* frame ids of one stack */
	size_t scratch_cap;

	/* handed to the consumer so far (ids below these were given out) */
	uint32_t sent_strings, sent_functions, sent_frames, sent_stacks, sent_threads;

	uint64_t period_ns;
	uint64_t start_mono_ns, start_unix_ns, last_tick_mono_ns;
	struct ls_window *current;
	struct ls_window **ring;
	size_t ring_cap, ring_head, ring_len;

	uint64_t refused_since;  /* monotonic time reads started being refused, 0 if they are not */
	uint64_t process_cpu_start, process_cpu_last;
	int has_process_cpu;
	struct ls_sampler_status status;
	uint64_t rng;
};

static uint64_t next_random(struct ls_sampler *s)
{
	/* xorshift64*: jitter only, not security */
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 0x2545F4914F6CDD1Dull;
}

int ls_sampler_new(struct ls_session *session, const struct ls_sampler_config *config, struct ls_sampler **out)
{
	if (!config->rate_hz || config->rate_hz > MAX_RATE_HZ || !config->window_ns)
		return LS_ERR_INVALID_ARG;
	struct ls_sampler *s = calloc(1, sizeof(*s));
	if (!s)
		return LS_ERR_NOMEM;
	s->session = session;
	s->cfg = *config;
	if (!s->cfg.ring_windows)
		s->cfg.ring_windows = 256;
	s->period_ns = 1000000000ull / config->rate_hz;
	s->rng = 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid();
	s->ring_cap = s->cfg.ring_windows;
	s->ring = calloc(s->ring_cap, sizeof(*s->ring));
	s->nthread_slots = 64;
	s->thread_slots = calloc(s->nthread_slots, sizeof(*s->thread_slots));
	int rc = (!s->ring || !s->thread_slots) ? LS_ERR_NOMEM : 0;
	if (!rc)
		rc = ls_frametab_init(&s->frames);
	if (!rc)
		rc = ls_stacktab_init(&s->stacks);
	if (!rc && pthread_mutex_init(&s->lock, NULL) != 0)
		rc = LS_ERR_NOMEM;
	if (rc) {
		free(s->ring);
		free(s->thread_slots);
		ls_frametab_release(&s->frames);
		ls_stacktab_release(&s->stacks);
		free(s);
		return rc;
	}
	ls_session_set_os_info(session, config->os_info);
	ls_session_set_code_check_every(session, LS_RECORDER_CODE_CHECK_NS);
	*out = s;
	return 0;
}

void ls_sampler_free(struct ls_sampler *s)
{
	if (!s)
		return;
	ls_sampler_stop(s);
	ls_session_set_code_check_every(s->session, 0); /* the session's own samples prove every time again */
	ls_window_free(s->current);
	for (size_t i = 0; i < s->ring_len; i++)
		ls_window_free(s->ring[(s->ring_head + i) % s->ring_cap]);
	free(s->ring);
	free(s->threads);
	free(s->thread_slots);
	free(s->scratch);
	ls_frametab_release(&s->frames);
	ls_stacktab_release(&s->stacks);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* --- threads --------------------------------------------------------------------------------- */

static uint32_t thread_hash(int64_t native_id, uint64_t thread_id)
{
	uint64_t h = ((uint64_t)native_id * 0x9E3779B97F4A7C15ull) ^ (thread_id * 0xBF58476D1CE4E5B9ull);
	return (uint32_t)(h >> 32);
}

static int thread_slots_grow(struct ls_sampler *s)
{
	uint32_t n = s->nthread_slots * 2;
	uint32_t *slots = calloc(n, sizeof(*slots));
	if (!slots)
		return LS_ERR_NOMEM;
	for (uint32_t t = 0; t < s->nthreads; t++) {
		uint32_t i = thread_hash(s->threads[t].native_id, s->threads[t].thread_id) & (n - 1);
		while (slots[i])
			i = (i + 1) & (n - 1);
		slots[i] = t + 1;
	}
	free(s->thread_slots);
	s->thread_slots = slots;
	s->nthread_slots = n;
	return 0;
}

/* A thread's display name until the program's own is found (find_program_name): MainThread for
 * the thread whose tid is the pid, else its kernel id and, when the OS knows it by a name of its
 * own (not the interpreter's), that name. */
static int64_t thread_name(struct ls_sampler *s, const struct ls_thread *th)
{
	char name[64];
	int32_t pid = ls_session_target(s->session)->facts.pid;
	int own_name = (th->flags & LS_THREAD_HAS_OS_INFO) && th->name[0] && strncmp(th->name, "python", 6) != 0;
	if (th->native_id == pid)
		snprintf(name, sizeof(name), "MainThread");
	else if (th->native_id > 0 && own_name)
		snprintf(name, sizeof(name), "Thread %lld %s", (long long)th->native_id, th->name);
	else if (th->native_id > 0)
		snprintf(name, sizeof(name), "Thread %lld", (long long)th->native_id);
	else
		snprintf(name, sizeof(name), "Thread 0x%llx", (unsigned long long)th->thread_id);
	return ls_session_intern_string(s->session, name, strlen(name));
}

static int64_t intern_thread(struct ls_sampler *s, const struct ls_thread *th)
{
	uint32_t mask = s->nthread_slots - 1, i = thread_hash(th->native_id, th->thread_id) & mask;
	for (; s->thread_slots[i]; i = (i + 1) & mask) {
		uint32_t t = s->thread_slots[i] - 1;
		if (s->threads[t].native_id == th->native_id && s->threads[t].thread_id == th->thread_id)
			return t;
	}
	int64_t name = thread_name(s, th);
	if (name < 0)
		return name;
	if (ls_array_reserve((void **)&s->threads, &s->cap_threads, (size_t)s->nthreads + 1, sizeof(*s->threads)))
		return LS_ERR_NOMEM;
	uint32_t t = s->nthreads++;
	s->threads[t] = (struct recorded_thread){
		.native_id = th->native_id,
		.thread_id = th->thread_id,
		.name_id = (uint32_t)name,
		.name_final = th->native_id == ls_session_target(s->session)->facts.pid, /* MainThread */
	};
	s->thread_slots[i] = t + 1;
	if ((uint64_t)s->nthreads * 2 > s->nthread_slots && thread_slots_grow(s))
		return LS_ERR_NOMEM;
	return t;
}

/* --- windows --------------------------------------------------------------------------------- */

static void process_cpu(struct ls_sampler *s, uint64_t *since_last)
{
	uint64_t ns;
	*since_last = 0;
	if (ls_procstat_process_cpu_ns(ls_session_target(s->session)->facts.pid, &ns) != 0)
		return;
	if (!s->has_process_cpu) {
		s->process_cpu_start = s->process_cpu_last = ns;
		s->has_process_cpu = 1;
		return;
	}
	*since_last = ns >= s->process_cpu_last ? ns - s->process_cpu_last : 0;
	s->process_cpu_last = ns;
	s->status.process_cpu_ns = ns - s->process_cpu_start;
}

/* Close the current window at unix time end and hand it to the ring (dropping the oldest if full). */
static void close_window(struct ls_sampler *s, uint64_t end_unix_ns)
{
	struct ls_window *w = s->current;
	if (!w)
		return;
	s->current = NULL;
	w->end_unix_ns = end_unix_ns;
	process_cpu(s, &w->process_cpu_ns);
	if (s->ring_len == s->ring_cap) {
		ls_window_free(s->ring[s->ring_head]);
		s->ring_head = (s->ring_head + 1) % s->ring_cap;
		s->ring_len--;
		s->status.windows_dropped++;
	}
	s->ring[(s->ring_head + s->ring_len) % s->ring_cap] = w;
	s->ring_len++;
	s->status.windows_closed++;
}

/* Make s->current the window that contains monotonic time now (closing the one before). */
static int window_at(struct ls_sampler *s, uint64_t now)
{
	uint64_t index = (now - s->start_mono_ns) / s->cfg.window_ns;
	if (s->current && s->current->index == index)
		return 0;
	if (s->current)
		close_window(s, s->start_unix_ns + (s->current->index + 1) * s->cfg.window_ns);
	s->current = ls_window_new(index, s->start_unix_ns + index * s->cfg.window_ns);
	return s->current ? 0 : LS_ERR_NOMEM;
}

/* --- ticks ----------------------------------------------------------------------------------- */

/* Name thread t as the program did (threading.Thread.name) once a whole walk of it shows where to
 * look: thread `index` of the session's own last sample; and now and then look again, to follow a
 * rename. A thread whose name changed is sent again. */
static void find_program_name(struct ls_sampler *s, uint32_t t, uint32_t index, const struct ls_thread *th)
{
	struct recorded_thread *rt = &s->threads[t];
	uint64_t now = s->last_tick_mono_ns;
	if (!th->base_frame)
		return;
	if (rt->name_final) {
		if (!rt->program_name || rt->renames >= PY_NAME_RENAMES_MAX || s->name_rechecked ||
		    now - rt->name_seen_ns < PY_NAME_RECHECK_NS)
			return;
		s->name_rechecked = 1;
	}
	char name[LS_PY_THREAD_NAME_MAX];
	int rc = ls_session_thread_python_name(s->session, index, name, sizeof(name));
	if (rc == 0 && name[0]) {
		int64_t id = ls_session_intern_string(s->session, name, strlen(name));
		if (id >= 0) {
			rt->name_seen_ns = now;
			if (rt->program_name && rt->name_id == (uint32_t)id)
				return;
			rt->renames += rt->program_name;
			rt->name_id = (uint32_t)id;
			rt->name_final = rt->program_name = 1;
			if (s->sent_threads > t)
				s->sent_threads = t; /* the interned threads from t on go out again */
			return;
		}
	}
	if (rt->name_final)
		rt->name_seen_ns = now; /* unreadable this time: look again a period later */
	else if (++rt->name_tries >= PY_NAME_TRIES)
		rt->name_final = 1;
}

static int add_thread_sample(struct ls_sampler *s, const struct ls_sample *sample, const struct ls_thread *th,
			     uint64_t wall_ns, int own_sample)
{
	int64_t t = intern_thread(s, th);
	if (t < 0)
		return (int)t;
	if (own_sample)
		find_program_name(s, (uint32_t)t, (uint32_t)(th - sample->threads), th);
	struct recorded_thread *rt = &s->threads[t];
	uint64_t cpu = 0;
	if (th->flags & LS_THREAD_HAS_CPU_TIME) {
		/* CPU used since this thread was last seen; a first sight counts 0 */
		if (rt->has_cpu && th->cpu_ns >= rt->last_cpu_ns)
			cpu = th->cpu_ns - rt->last_cpu_ns;
		rt->last_cpu_ns = th->cpu_ns;
		rt->has_cpu = 1;
	}
	/* a stack read only in part gets a root of its own (ls_session_partial_stack_function), one
	 * read from its outermost frame up a leaf of its own (ls_session_top_missing_function) */
	uint32_t partial = (th->flags & LS_THREAD_TRUNCATED) != 0;
	uint32_t top_missing = !partial && (th->flags & LS_THREAD_TOP_MISSING) != 0;
	uint32_t n = th->nframes + partial + top_missing;
	if (ls_array_reserve((void **)&s->scratch, &s->scratch_cap, n, sizeof(*s->scratch)))
		return LS_ERR_NOMEM;
	for (uint32_t i = 0; i < th->nframes; i++) {
		const struct ls_frame *f = &sample->frames[th->first_frame + i];
		int64_t id = ls_frametab_intern(&s->frames, f->function_id, f->line);
		if (id < 0)
			return (int)id;
		s->scratch[top_missing + i] = (uint32_t)id;
	}
	if (partial || top_missing) {
		int64_t fn = partial ? ls_session_partial_stack_function(s->session)
				     : ls_session_top_missing_function(s->session);
		int64_t id = fn < 0 ? fn : ls_frametab_intern(&s->frames, (uint32_t)fn, LS_LINE_NONE);
		if (id < 0)
			return (int)id;
		s->scratch[partial ? th->nframes : 0] = (uint32_t)id; /* innermost first */
	}
	int64_t stack = ls_stacktab_intern(&s->stacks, s->scratch, n);
	if (stack < 0)
		return (int)stack;
	struct ls_weights w = {1, wall_ns, cpu, (th->flags & LS_THREAD_ON_CPU) != 0, (th->flags & LS_THREAD_HOLDS_GIL) != 0};
	return ls_window_add(s->current, (uint32_t)t, (uint32_t)stack, &w);
}

/* Start a tick at monotonic time now: the window it belongs to, its wall time. */
static int begin_tick(struct ls_sampler *s, uint64_t now, uint64_t *wall)
{
	if (!s->start_mono_ns) {
		s->start_mono_ns = now;
		s->start_unix_ns = ls_clock_ns(CLOCK_REALTIME);
		uint64_t ignored;
		process_cpu(s, &ignored);
	}
	int rc = window_at(s, now);
	if (rc)
		return rc;
	*wall = s->last_tick_mono_ns ? now - s->last_tick_mono_ns : s->period_ns;
	s->last_tick_mono_ns = now;
	s->status.ticks++;
	return 0;
}

/* own_sample: the sample is the session's last one (not one fed from outside), so its threads
 * can be looked at further (find_program_name). */
static int add_sample(struct ls_sampler *s, const struct ls_sample *sample, uint64_t wall, int own_sample)
{
	s->status.samples++;
	s->current->samples++;
	s->name_rechecked = 0;
	s->status.torn_threads += sample->torn_threads;
	s->current->torn_threads += sample->torn_threads;
	int32_t pid = ls_session_target(s->session)->facts.pid;
	for (uint32_t i = 0; i < sample->nthreads; i++) {
		const struct ls_thread *th = &sample->threads[i];
		if (s->cfg.main_thread_only && th->native_id != pid)
			continue;
		int rc = add_thread_sample(s, sample, th, wall, own_sample);
		if (rc)
			return rc;
	}
	return 0;
}

static int step_locked(struct ls_sampler *s, uint64_t now)
{
	uint64_t wall;
	int rc = begin_tick(s, now, &wall);
	if (rc)
		return rc;
	const struct ls_sample *sample;
	rc = ls_session_sample(s->session, &sample);
	if (rc) {
		s->status.failed++;
		s->current->failed++;
		if (rc == LS_ERR_PERMISSION && s->status.samples > 0) {
			/* a process being torn down refuses reads (EPERM) before it becomes a zombie (then
			 * ESRCH): once we could read it, only a refusal that lasts a second is final */
			if (!s->refused_since)
				s->refused_since = now;
			return now - s->refused_since < 1000000000ull ? 0 : rc;
		}
		return ls_error_is_recoverable(rc) || rc == LS_ERR_NOT_STARTED ? 0 : rc;
	}
	s->refused_since = 0;
	return add_sample(s, sample, wall, 1);
}

int ls_sampler_feed(struct ls_sampler *s, const struct ls_sample *sample, uint64_t now)
{
	pthread_mutex_lock(&s->lock);
	uint64_t wall;
	int rc = begin_tick(s, now, &wall);
	if (!rc)
		rc = add_sample(s, sample, wall, 0);
	s->status.elapsed_ns = now - s->start_mono_ns;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int ls_sampler_step(struct ls_sampler *s, uint64_t now)
{
	pthread_mutex_lock(&s->lock);
	int rc = step_locked(s, now);
	s->status.elapsed_ns = now - s->start_mono_ns;
	pthread_mutex_unlock(&s->lock);
	return rc;
}

void ls_sampler_flush(struct ls_sampler *s)
{
	pthread_mutex_lock(&s->lock);
	if (s->current) {
		uint64_t end = s->start_unix_ns + (ls_clock_ns(CLOCK_MONOTONIC) - s->start_mono_ns);
		uint64_t window_end = s->start_unix_ns + (s->current->index + 1) * s->cfg.window_ns;
		close_window(s, end < window_end ? end : window_end);
	}
	pthread_mutex_unlock(&s->lock);
}

static void sleep_until(uint64_t deadline)
{
	struct timespec ts = {(time_t)(deadline / 1000000000ull), (long)(deadline % 1000000000ull)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* The kernel may wake a sleeper up to its timer slack late (50 us by default), which at 10 kHz is
 * half a period: this thread's slack becomes a tenth of the period, never more than it was. */
static void tighten_timer_slack(uint64_t period)
{
#ifdef __linux__
	int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (slack > 0 && period / 10 < (uint64_t)slack)
		prctl(PR_SET_TIMERSLACK, (unsigned long)(period / 10 > 1000 ? period / 10 : 1000), 0, 0, 0);
#else
	(void)period;
#endif
}

static void *sampler_main(void *arg)
{
	struct ls_sampler *s = arg;
	uint64_t period = s->period_ns, start = ls_clock_ns(CLOCK_MONOTONIC);
	tighten_timer_slack(period);
	uint64_t jitter_span = period / 2;
	for (uint64_t k = 0; !atomic_load(&s->stop_requested); k++) {
		uint64_t nominal = start + k * period;
		/* a deadline anywhere in [nominal - period/4, nominal + period/4), never carried over:
		 * no drift, and no lock-step with periodic work in the target */
		uint64_t offset = k && jitter_span ? next_random(s) % jitter_span : jitter_span / 2;
		sleep_until(nominal + offset - jitter_span / 2);
		if (atomic_load(&s->stop_requested))
			break;
		uint64_t now = ls_clock_ns(CLOCK_MONOTONIC);
		if (s->cfg.duration_ns && now - start >= s->cfg.duration_ns)
			break;
		if (now > nominal + period) {
			/* behind: skip the ticks we missed rather than run them late */
			uint64_t missed = (now - nominal) / period;
			k += missed;
			pthread_mutex_lock(&s->lock);
			s->status.late += missed;
			if (s->current)
				s->current->late += missed;
			pthread_mutex_unlock(&s->lock);
		}
		int rc = ls_sampler_step(s, now);
		if (rc) {
			pthread_mutex_lock(&s->lock);
			s->status.last_error = rc;
			s->status.state = rc == LS_ERR_PROCESS_EXITED ? LS_SAMPLER_TARGET_EXITED : LS_SAMPLER_FAILED;
			pthread_mutex_unlock(&s->lock);
			break;
		}
	}
	struct timespec cpu;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0) {
		pthread_mutex_lock(&s->lock);
		s->status.sampler_cpu_ns = (uint64_t)cpu.tv_sec * 1000000000ull + (uint64_t)cpu.tv_nsec;
		pthread_mutex_unlock(&s->lock);
	}
	ls_sampler_flush(s);
	pthread_mutex_lock(&s->lock);
	if (s->status.state == LS_SAMPLER_RUNNING)
		s->status.state = LS_SAMPLER_STOPPED;
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int ls_sampler_start(struct ls_sampler *s)
{
	if (s->started || s->status.state != LS_SAMPLER_IDLE)
		return LS_ERR_INVALID_ARG;
	s->status.state = LS_SAMPLER_RUNNING;
	if (pthread_create(&s->thread, NULL, sampler_main, s) != 0) {
		s->status.state = LS_SAMPLER_FAILED;
		return LS_ERR_NOMEM;
	}
	s->started = 1;
	return 0;
}

void ls_sampler_stop(struct ls_sampler *s)
{
	if (!s->started)
		return;
	atomic_store(&s->stop_requested, 1);
	pthread_join(s->thread, NULL);
	s->started = 0;
}

struct ls_window *ls_sampler_take_window(struct ls_sampler *s)
{
	struct ls_window *w = NULL;
	pthread_mutex_lock(&s->lock);
	if (s->ring_len) {
		w = s->ring[s->ring_head];
		s->ring[s->ring_head] = NULL;
		s->ring_head = (s->ring_head + 1) % s->ring_cap;
		s->ring_len--;
	}
	pthread_mutex_unlock(&s->lock);
	return w;
}

void ls_sampler_get_status(struct ls_sampler *s, struct ls_sampler_status *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->status;
	if (s->status.state == LS_SAMPLER_RUNNING && s->started) {
		struct timespec cpu;
		clockid_t clock;
		if (pthread_getcpuclockid(s->thread, &clock) == 0 && clock_gettime(clock, &cpu) == 0)
			out->sampler_cpu_ns = (uint64_t)cpu.tv_sec * 1000000000ull + (uint64_t)cpu.tv_nsec;
	}
	pthread_mutex_unlock(&s->lock);
}

/* Hand out what was interned since the last call; a counter only moves past an item the visitor
 * accepted, so an item a failed visit did not store is offered again next time. */
int ls_sampler_take_interned(struct ls_sampler *s, const struct ls_interned_visitor *v)
{
	int rc = 0;
	pthread_mutex_lock(&s->lock);
	uint32_t nstrings = ls_session_string_count(s->session);
	while (!rc && s->sent_strings < nstrings) {
		size_t len;
		const char *str = ls_session_string(s->session, s->sent_strings, &len);
		if (!(rc = v->string(v->ctx, s->sent_strings, str, len)))
			s->sent_strings++;
	}
	uint32_t nfunctions = ls_session_function_count(s->session);
	while (!rc && s->sent_functions < nfunctions) {
		if (!(rc = v->function(v->ctx, s->sent_functions, ls_session_function(s->session, s->sent_functions))))
			s->sent_functions++;
	}
	while (!rc && s->sent_frames < s->frames.len) {
		if (!(rc = v->frame(v->ctx, s->sent_frames, ls_frametab_get(&s->frames, s->sent_frames))))
			s->sent_frames++;
	}
	while (!rc && s->sent_stacks < s->stacks.len) {
		size_t n;
		const uint32_t *frames = ls_stacktab_get(&s->stacks, s->sent_stacks, &n);
		if (!(rc = v->stack(v->ctx, s->sent_stacks, frames, n)))
			s->sent_stacks++;
	}
	while (!rc && s->sent_threads < s->nthreads) {
		const struct recorded_thread *t = &s->threads[s->sent_threads];
		const char *name = ls_session_string(s->session, t->name_id, NULL);
		struct ls_interned_thread it = {s->sent_threads, t->native_id, t->thread_id, t->name_id, name ? name : ""};
		if (!(rc = v->thread(v->ctx, &it)))
			s->sent_threads++;
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}
