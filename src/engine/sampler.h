/* sampler.h - continuous sampling: a C thread that samples a session at a fixed rate and adds the
 * samples up into time windows.
 *
 * The thread wakes on absolute deadlines (start + k * period, plus a little jitter that is never
 * carried over, so there is no drift and no aliasing with periodic work in the target). Each tick
 * takes one sample of every thread and adds, per (thread, stack), the sample count, the wall time
 * since the previous tick, the CPU time the thread used since it was last seen, and whether it was
 * on a CPU and holding the GIL. When the sampler falls behind it skips the missed ticks and counts
 * them as late: it never queues work. Closed windows wait in a bounded ring for the consumer
 * (ls_sampler_take_window); if the consumer does not keep up the oldest are dropped and counted.
 *
 * Frames (function, line) and stacks are interned here; strings and functions live in the
 * session. Everything is guarded by one mutex: a tick holds it while it samples and aggregates,
 * the consumer while it takes windows or newly interned items. ls_sampler_step() is the tick
 * itself, for tests and for callers that drive sampling themselves.
 */
#ifndef LS_SAMPLER_H
#define LS_SAMPLER_H

#include <stddef.h>
#include <stdint.h>

#include "ls.h"
#include "stacktab.h"
#include "window.h"

struct ls_sampler_config {
	uint32_t rate_hz;        /* 1 .. 100000 */
	uint64_t window_ns;      /* length of a window */
	int main_thread_only;    /* record only the thread whose kernel id is the pid */
	int os_info;             /* read each thread's state and CPU time from /proc */
	uint32_t ring_windows;   /* closed windows kept for the consumer (0 = 256) */
	uint64_t duration_ns;    /* stop after this long (0 = until stopped or the target exits) */
};

enum ls_sampler_state {
	LS_SAMPLER_IDLE = 0,
	LS_SAMPLER_RUNNING = 1,
	LS_SAMPLER_STOPPED = 2,        /* stopped by ls_sampler_stop or its duration */
	LS_SAMPLER_TARGET_EXITED = 3,
	LS_SAMPLER_FAILED = 4,         /* a fatal error (permission lost, out of memory): see last_error */
};

struct ls_sampler_status {
	enum ls_sampler_state state;
	int last_error;
	uint64_t ticks, samples, late, failed, torn_threads;
	uint64_t windows_closed, windows_dropped;
	uint64_t elapsed_ns;           /* since the first tick */
	uint64_t sampler_cpu_ns;       /* CPU time of the sampling thread itself */
	uint64_t process_cpu_ns;       /* CPU time the target used since the start */
};

/* An item interned since the consumer last asked (see ls_sampler_take_interned). */
struct ls_interned_thread {
	uint32_t id;
	int64_t native_id;
	uint64_t thread_id;
	uint32_t name_id;
	const char *name; /* the string name_id names, borrowed for the visit */
};

struct ls_sampler;

/* Create a sampler over `session` (borrowed: it must outlive the sampler). Does not start it. */
int ls_sampler_new(struct ls_session *session, const struct ls_sampler_config *config, struct ls_sampler **out);
/* Stop (if running) and free. Windows not taken are lost. */
void ls_sampler_free(struct ls_sampler *sampler);

/* Start the sampling thread. 0, LS_ERR_INVALID_ARG (already started), LS_ERR_NOMEM. */
int ls_sampler_start(struct ls_sampler *sampler);
/* Ask the thread to stop, wait for it, and close the current window. Idempotent. */
void ls_sampler_stop(struct ls_sampler *sampler);
/* One tick at monotonic time now_ns (the thread calls it; tests may call it instead of starting). */
int ls_sampler_step(struct ls_sampler *sampler, uint64_t now_ns);
/* The second half of a tick: add a sample taken elsewhere at monotonic time now_ns (what a tick does
 * after ls_session_sample; benchmarks and tests feed synthetic samples through it). The sample's
 * function ids must be the session's. */
int ls_sampler_feed(struct ls_sampler *sampler, const struct ls_sample *sample, uint64_t now_ns);
/* Close the current window now (used by stop; tests may call it). */
void ls_sampler_flush(struct ls_sampler *sampler);

/* The oldest closed window not yet taken (the caller owns it: ls_window_free), or NULL. */
struct ls_window *ls_sampler_take_window(struct ls_sampler *sampler);
void ls_sampler_get_status(struct ls_sampler *sampler, struct ls_sampler_status *out);

/* Items interned since the previous call, handed to `visit` under the sampler's lock, in id order:
 * strings, functions, frames, stacks, threads. The callbacks must not call back into the sampler. */
struct ls_interned_visitor {
	void *ctx;
	int (*string)(void *ctx, uint32_t id, const char *s, size_t len);
	int (*function)(void *ctx, uint32_t id, const struct ls_function *fn);
	int (*frame)(void *ctx, uint32_t id, const struct ls_frame_key *frame);
	int (*stack)(void *ctx, uint32_t id, const uint32_t *frames, size_t n);
	int (*thread)(void *ctx, const struct ls_interned_thread *thread);
};
int ls_sampler_take_interned(struct ls_sampler *sampler, const struct ls_interned_visitor *visitor);

#endif
