/* window.h - one time window of samples, aggregated per (thread, stack).
 *
 * A window adds up every sample taken between its start and its end: per (thread id, stack id) the
 * weights of struct ls_weights. It is an open-addressing hash over a dense record array, so adding
 * a sample costs one probe and a closed window is its record array as it stands.
 */
#ifndef LS_WINDOW_H
#define LS_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"

struct ls_window {
	uint64_t index;
	uint64_t start_unix_ns, end_unix_ns;
	uint64_t samples;        /* samples taken (ticks whose sample succeeded) */
	uint64_t late;           /* ticks skipped because the sampler fell behind */
	uint64_t failed;         /* ticks whose sample failed (unreadable runtime); ticks = samples + failed */
	uint64_t torn_threads;   /* thread samples that could not be read consistently */
	uint64_t process_cpu_ns; /* CPU the whole target used during the window */
	struct ls_record *records;
	size_t nrecords, cap_records;
	uint32_t *slots;         /* record index + 1, 0 = empty */
	size_t nslots;
};

/* A new empty window (heap allocated), or NULL. */
struct ls_window *ls_window_new(uint64_t index, uint64_t start_unix_ns);
void ls_window_free(struct ls_window *w);
/* Add weights to (thread, stack). 0 or LS_ERR_NOMEM. */
int ls_window_add(struct ls_window *w, uint32_t thread, uint32_t stack, const struct ls_weights *add);

#endif
