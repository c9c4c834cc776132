/* engine_loop.c - the engine alone, without the Python binding: open a session on PID, take WARMUP
 * samples (so code objects are cached), then time N samples with the calling thread's CPU clock.
 * Prints one JSON object. Built by bench_sample.py from the engine's sources (never installed).
 *
 *   engine_loop PID WARMUP N
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "ls.h"

static uint64_t now_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s PID WARMUP N\n", argv[0]);
		return 2;
	}
	int pid = atoi(argv[1]);
	long warmup = atol(argv[2]), n = atol(argv[3]);
	struct ls_session *s = NULL;
	char why[512];
	int rc = ls_session_open_pid(pid, &s, why, sizeof(why));
	if (rc) {
		fprintf(stderr, "open %d: %s (%s)\n", pid, ls_error_message(rc), why);
		return 1;
	}
	const struct ls_sample *sample = NULL;
	long errors = 0;
	for (long i = 0; i < warmup; i++)
		errors += ls_session_sample(s, &sample) != 0;
	struct ls_session_stats before, after;
	ls_session_get_stats(s, &before);
	uint64_t cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID), wall0 = now_ns(CLOCK_MONOTONIC);
	uint64_t frames = 0;
	for (long i = 0; i < n; i++) {
		if (ls_session_sample(s, &sample) == 0)
			frames += sample->nframes;
		else
			errors++;
	}
	uint64_t cpu1 = now_ns(CLOCK_THREAD_CPUTIME_ID), wall1 = now_ns(CLOCK_MONOTONIC);
	ls_session_get_stats(s, &after);
	printf("{\"samples\": %llu, \"cpu_ns\": %llu, \"wall_ns\": %llu, \"frames\": %llu, \"errors\": %ld, "
	       "\"read_calls\": %llu, \"read_bytes\": %llu, \"threads_walked\": %llu, \"torn_threads\": %llu, "
	       "\"retried_threads\": %llu, \"code_misses\": %llu}\n",
	       (unsigned long long)(after.samples - before.samples), (unsigned long long)(cpu1 - cpu0),
	       (unsigned long long)(wall1 - wall0), (unsigned long long)frames, errors,
	       (unsigned long long)(after.read_calls - before.read_calls),
	       (unsigned long long)(after.read_bytes - before.read_bytes),
	       (unsigned long long)(after.threads_walked - before.threads_walked),
	       (unsigned long long)(after.torn_threads - before.torn_threads),
	       (unsigned long long)(after.retried_threads - before.retried_threads),
	       (unsigned long long)(after.code_misses - before.code_misses));
	ls_session_free(s);
	return 0;
}
