/* ls.h - the engine's public interface: open a target, take samples of every thread's stack.
 *
 * A session is one target: a live process (ls_session_open_pid) or a recorded memory image
 * (ls_session_open_image). ls_session_sample() walks every interpreter, thread and frame once
 * and fills a struct ls_sample owned by the session, valid until the next call. Frames name
 * interned functions (ls_session_function) whose strings live in the session's string table
 * (ls_session_string); ids are stable for the session's lifetime.
 *
 * Nothing here pauses, writes to, or trusts the target: torn reads are retried per thread and
 * counted; a walk is bounded in depth, threads and bytes.
 */
#ifndef LS_H
#define LS_H

#include <stddef.h>
#include <stdint.h>

#include "functab.h"
#include "ls_error.h"
#include "proc.h"
#include "target.h"

#define LS_MAX_DEPTH 16384       /* frames per thread; deeper stacks are truncated */
#define LS_MAX_THREADS 16384     /* threads per interpreter */
#define LS_MAX_INTERPRETERS 256
#define LS_WALK_RETRIES 8        /* extra attempts for a thread whose stack changed under us (a
                                  * churning thread needs them: torn 1-2 % with 4, 0.1-0.5 % with 8) */
#define LS_WALK_RETRIES_HEAP 5   /* the same for <=3.10, whose heap frame chains tear more often */

enum ls_thread_flags {
	LS_THREAD_HOLDS_GIL = 1 << 0,
	LS_THREAD_ON_CPU = 1 << 1,       /* running or runnable ('R'; see proc_linux.c for how it is known) */
	LS_THREAD_TRUNCATED = 1 << 2,    /* frames hold only the innermost part of the stack */
	LS_THREAD_TORN = 1 << 3,         /* the stack could not be read consistently */
	LS_THREAD_HAS_CPU_TIME = 1 << 4, /* cpu_ns is valid */
	LS_THREAD_HAS_OS_INFO = 1 << 5,  /* the OS knew the thread: state and name are valid */
	LS_THREAD_TOP_MISSING = 1 << 6,  /* frames hold only the outer part of the stack, from its
	                                  * outermost frame up: the innermost ones moved while read */
};

struct ls_frame {
	uint32_t function_id;
	int32_t line; /* -1 when the instruction has no line */
};

struct ls_thread {
	uint64_t thread_id;  /* pthread id, as threading.get_ident() */
	int64_t native_id;   /* kernel tid, -1 when unknown */
	int64_t interp_id;
	uint32_t flags;      /* enum ls_thread_flags */
	uint64_t cpu_ns;
	char name[LS_THREAD_NAME_MAX];
	uint32_t first_frame, nframes; /* into ls_sample.frames, innermost first */
	uint64_t base_frame; /* the outermost frame's address when the walk was whole, else 0 */
};

struct ls_sample {
	struct ls_thread *threads;
	uint32_t nthreads;
	size_t cap_threads;
	struct ls_frame *frames;
	uint32_t nframes;
	size_t cap_frames;
	uint32_t torn_threads;   /* threads flagged LS_THREAD_TORN in this sample */
	uint32_t retried_threads;
};

#define LS_STATS_READ_RANGES 1 /* ls_session_stats has read_ranges and own_batches (for benchmarks
				* built against older engines too) */
struct ls_session_stats {
	uint64_t samples, read_calls, read_bytes, read_failures;
	uint64_t threads_walked, torn_threads, retried_threads;
	uint64_t retried_samples; /* whole samples read again (the thread list changed mid-read) */
	uint64_t code_hits, code_misses, code_stale;
	uint64_t code_epoch_hits;      /* code headers not read: the code epoch proved them (3.12, 3.13.0) */
	uint64_t batched_thread_lists; /* samples whose thread list came in one read */
	uint64_t read_ranges;          /* ranges the reads asked for (each takes the target's memory-map
					* lock): each range read, and the one a short read stopped at */
	uint64_t own_batches;          /* threads whose stack moves, read from their own batch (3.11+) */
	uint64_t code_age_hits;        /* code headers not read: long-lived, in a lean sample
					* (ls_session_set_code_check_every) */
};

struct ls_session;

/* Attach to a live process: find its interpreter and layout. On failure a negative code and, in
 * why, the specifics (which binary, which version). */
int ls_session_open_pid(int32_t pid, struct ls_session **out, char *why, size_t why_len);
/* Open a recorded image file, or image bytes (copied). */
int ls_session_open_image(const char *path, struct ls_session **out, char *why, size_t why_len);
int ls_session_open_image_bytes(const uint8_t *data, size_t len, struct ls_session **out, char *why,
				size_t why_len);
void ls_session_free(struct ls_session *session);

/* Take one sample of every thread. On success *out is borrowed until the next call. A sample the
 * target tore as a whole (a thread started or ended mid-read) is read again, up to 3 times, before
 * LS_ERR_TORN is returned; stats count the retries as retried_samples.
 * Errors: LS_ERR_PROCESS_EXITED, LS_ERR_PERMISSION, LS_ERR_NOT_STARTED (no interpreter or no
 * thread yet), LS_ERR_READ (the runtime itself was unreadable), LS_ERR_TORN, LS_ERR_NOMEM. */
int ls_session_sample(struct ls_session *session, const struct ls_sample **out);

/* Whether samples query the OS for each thread's state, CPU time and name (default: yes). Without
 * it a sample costs only memory reads; LS_THREAD_HAS_OS_INFO is then never set. */
void ls_session_set_os_info(struct ls_session *session, int enabled);
/* For tests and the fuzzer: read every 3.11+ thread as one whose stack moves (from its own batch,
 * stackbatch.c) whatever its stack does. */
void ls_session_set_all_moving(struct ls_session *session, int enabled);
/* How often samples prove which code object each frame names (default 0: every sample). With
 * ns > 0 a sample takes a code object from the cache without reading it when the cache has known
 * it for over a second and last proved it less than ns ago, and reads any other; every ns a sample
 * reads every code header its walks predict in its batch. A code object found replaced makes every
 * sample prove identity for a minute (code_check.c). The recorder sets it: each proof costs a
 * 3.11 target a few ranges. */
void ls_session_set_code_check_every(struct ls_session *session, uint64_t ns);
/* The recorder's (sampler.c): at 1 kHz it spares a 3.11 target most of its code-header and name
 * ranges; at 100 Hz most samples still prove identity (they are 5 to 15 ms apart). */
#define LS_RECORDER_CODE_CHECK_NS 8000000ull

const struct ls_target *ls_session_target(const struct ls_session *session);
/* <=3.10: a process caught while starting may not have written its version string yet; this
 * looks again. 1 when the target's version is exact (always from 3.11), else 0. */
int ls_session_refresh_version(struct ls_session *session);
const struct ls_function *ls_session_function(const struct ls_session *session, uint32_t id);
const char *ls_session_string(const struct ls_session *session, uint32_t id, size_t *len);
/* How many strings and functions the session has interned (ids are 0 .. count-1). */
uint32_t ls_session_string_count(const struct ls_session *session);
uint32_t ls_session_function_count(const struct ls_session *session);
/* Intern a string of the caller's (a thread name, say) in the session's table: its id, or < 0. */
int64_t ls_session_intern_string(struct ls_session *session, const char *s, size_t len);

/* The function a recording puts at the root of a stack it holds only the innermost part of (a
 * thread flagged LS_THREAD_TRUNCATED: torn through every retry, or deeper than LS_MAX_DEPTH):
 * "<partial stack>" in file "<loopscope>", so that such samples stay apart from whole stacks in
 * every view and their share shows. Its id (interned on first use), or < 0. */
#define LS_PARTIAL_STACK_NAME "<partial stack>"
#define LS_PARTIAL_STACK_FILE "<loopscope>"
int64_t ls_session_partial_stack_function(struct ls_session *session);

/* The function a recording puts at the leaf of a stack it holds only the outer part of (a thread
 * flagged LS_THREAD_TOP_MISSING): "<top changed while read>" in file "<loopscope>", so that the
 * callers keep their place and the missing innermost frames show as what they are. Its id
 * (interned on first use), or < 0. */
#define LS_TOP_MISSING_NAME "<top changed while read>"
int64_t ls_session_top_missing_function(struct ls_session *session);

/* The name the program gave thread `index` of the last sample (threading.Thread.name; see
 * pythread.h), as UTF-8 in buf (cap bytes, LS_PY_THREAD_NAME_MAX is enough). 0, or a negative code
 * when it has none that can be read: not started by the threading module, a stack read in part,
 * or a CPython whose objects we do not know (3.14 names OS threads itself). A few reads. */
int ls_session_thread_python_name(struct ls_session *session, uint32_t index, char *buf, size_t cap);
void ls_session_get_stats(const struct ls_session *session, struct ls_session_stats *out);

/* Record every read from now on, and write what was read as an image (for tests). */
int ls_session_start_recording(struct ls_session *session);
int ls_session_save_image(const struct ls_session *session, const char *path);

#endif
