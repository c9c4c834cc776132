/* window.c - a time window's aggregation of weighted samples (see window.h). */
#include "window.h"

#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "ls_error.h"

static size_t slot_of(uint32_t thread, uint32_t stack, size_t nslots)
{
	uint64_t h = ((uint64_t)thread << 32 | stack) * 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 32) & (nslots - 1);
}

struct ls_window *ls_window_new(uint64_t index, uint64_t start_unix_ns)
{
	struct ls_window *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->index = index;
	w->start_unix_ns = start_unix_ns;
	w->nslots = 64;
	w->slots = calloc(w->nslots, sizeof(*w->slots));
	if (!w->slots) {
		free(w);
		return NULL;
	}
	return w;
}

void ls_window_free(struct ls_window *w)
{
	if (!w)
		return;
	free(w->records);
	free(w->slots);
	free(w);
}

static int rehash(struct ls_window *w)
{
	size_t nslots = w->nslots * 2;
	uint32_t *slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return LS_ERR_NOMEM;
	for (size_t r = 0; r < w->nrecords; r++) {
		size_t i = slot_of(w->records[r].thread, w->records[r].stack, nslots);
		while (slots[i])
			i = (i + 1) & (nslots - 1);
		slots[i] = (uint32_t)r + 1;
	}
	free(w->slots);
	w->slots = slots;
	w->nslots = nslots;
	return 0;
}

int ls_window_add(struct ls_window *w, uint32_t thread, uint32_t stack, const struct ls_weights *add)
{
	size_t mask = w->nslots - 1, i = slot_of(thread, stack, w->nslots);
	for (; w->slots[i]; i = (i + 1) & mask) {
		struct ls_record *r = &w->records[w->slots[i] - 1];
		if (r->thread == thread && r->stack == stack) {
			r->w.samples += add->samples;
			r->w.wall_ns += add->wall_ns;
			r->w.cpu_ns += add->cpu_ns;
			r->w.on_cpu += add->on_cpu;
			r->w.gil += add->gil;
			return 0;
		}
	}
	if (ls_array_reserve((void **)&w->records, &w->cap_records, w->nrecords + 1, sizeof(*w->records)))
		return LS_ERR_NOMEM;
	w->records[w->nrecords] = (struct ls_record){thread, stack, *add};
	w->slots[i] = (uint32_t)++w->nrecords;
	if (w->nrecords * 2 > w->nslots)
		return rehash(w);
	return 0;
}
