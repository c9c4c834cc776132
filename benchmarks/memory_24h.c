/* memory_24h.c - does the recorder's memory stay flat over a day? (issue B)
 *
 * Pushes 24 hours' worth of 100 Hz samples (8,640,000 ticks) of 8 threads through the sampler's
 * aggregation path (ls_sampler_feed: frame and stack interning, windows, the ring) faster than
 * real time, while a consumer takes and frees every closed window and the newly interned items,
 * as the recorder does. Stacks come from 5,000 templates of depth 5-60 picked with a Zipf-like
 * skew (a few hot stacks, a long tail), over the function ids of a real recorded session. Prints
 * the process's RSS after the first simulated hour and every few hours: flat means bounded.
 *
 * Usage: memory_24h IMAGE [HOURS]    (IMAGE: a memory image, e.g. tests/data/images/cpython-3.11.img)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ls.h"
#include "sampler.h"

#define THREADS 8
#define TEMPLATES 5000
#define MAX_DEPTH 60

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kib;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int skip_string(void *c, uint32_t id, const char *s, size_t n) { (void)c; (void)id; (void)s; (void)n; return 0; }
static int skip_function(void *c, uint32_t id, const struct ls_function *f) { (void)c; (void)id; (void)f; return 0; }
static int skip_frame(void *c, uint32_t id, const struct ls_frame_key *f) { (void)c; (void)id; (void)f; return 0; }
static int skip_stack(void *c, uint32_t id, const uint32_t *f, size_t n) { (void)c; (void)id; (void)f; (void)n; return 0; }
static int skip_thread(void *c, const struct ls_interned_thread *t) { (void)c; (void)t; return 0; }

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s IMAGE [HOURS]\n", argv[0]);
		return 2;
	}
	double hours = argc > 2 ? atof(argv[2]) : 24.0;
	struct ls_session *session;
	char why[256];
	if (ls_session_open_image(argv[1], &session, why, sizeof(why)) != 0) {
		fprintf(stderr, "cannot open %s: %s\n", argv[1], why);
		return 1;
	}
	const struct ls_sample *real;
	if (ls_session_sample(session, &real) != 0) {
		fprintf(stderr, "cannot sample the image\n");
		return 1;
	}
	uint32_t nfunctions = ls_session_function_count(session);
	struct ls_sampler_config cfg = {.rate_hz = 100, .window_ns = 1000000000ull, .os_info = 0};
	struct ls_sampler *sampler;
	if (ls_sampler_new(session, &cfg, &sampler) != 0)
		return 1;

	/* stack templates: depth, then (function, line) pairs */
	static struct ls_frame templates[TEMPLATES][MAX_DEPTH];
	static uint32_t depths[TEMPLATES];
	for (int t = 0; t < TEMPLATES; t++) {
		depths[t] = 5 + (uint32_t)(next() % (MAX_DEPTH - 5));
		for (uint32_t d = 0; d < depths[t]; d++)
			templates[t][d] = (struct ls_frame){(uint32_t)(next() % nfunctions), (int32_t)(1 + next() % 400)};
	}
	struct ls_thread threads[THREADS];
	struct ls_frame frames[THREADS * MAX_DEPTH];
	struct ls_sample sample = {.threads = threads, .nthreads = THREADS, .frames = frames};
	struct ls_interned_visitor skip = {NULL, skip_string, skip_function, skip_frame, skip_stack, skip_thread};

	uint64_t ticks = (uint64_t)(hours * 3600 * 100), now = 1000000000ull, windows = 0;
	long first_hour_rss = 0;
	clock_t started = clock();
	printf("simulated_hours,windows,rss_kib\n");
	for (uint64_t k = 0; k < ticks; k++) {
		sample.nframes = 0;
		for (int i = 0; i < THREADS; i++) {
			/* skewed pick: the minimum of three draws favours low template numbers */
			uint64_t a = next() % TEMPLATES, b = next() % TEMPLATES, c = next() % TEMPLATES;
			uint64_t t = a < b ? (a < c ? a : c) : (b < c ? b : c);
			threads[i] = (struct ls_thread){.thread_id = 0x1000u + (uint64_t)i, .native_id = 100 + i,
							.flags = (next() & 1) ? LS_THREAD_ON_CPU : 0,
							.first_frame = sample.nframes, .nframes = depths[t]};
			memcpy(frames + sample.nframes, templates[t], depths[t] * sizeof(*frames));
			sample.nframes += depths[t];
		}
		now += 10000000ull;
		if (ls_sampler_feed(sampler, &sample, now) != 0) {
			fprintf(stderr, "feed failed at tick %llu\n", (unsigned long long)k);
			return 1;
		}
		if (k % 100 == 99) { /* the consumer, once a window */
			for (struct ls_window *w; (w = ls_sampler_take_window(sampler));) {
				ls_window_free(w);
				windows++;
			}
			ls_sampler_take_interned(sampler, &skip);
		}
		if (k % 360000 == 359999) { /* every simulated hour */
			long rss = rss_kib();
			if (!first_hour_rss)
				first_hour_rss = rss;
			if ((k + 1) / 360000 % 3 == 1 || k + 1 == ticks)
				printf("%.0f,%llu,%ld\n", (double)(k + 1) / 360000.0, (unsigned long long)windows, rss);
			fflush(stdout);
		}
	}
	long last = rss_kib();
	printf("# %llu ticks x %d threads in %.1f s of CPU; RSS after 1 h %ld KiB, at the end %ld KiB (%+ld KiB)\n",
	       (unsigned long long)ticks, THREADS, (double)(clock() - started) / CLOCKS_PER_SEC, first_hour_rss, last,
	       last - first_hour_rss);
	ls_sampler_free(sampler);
	ls_session_free(session);
	return 0;
}
