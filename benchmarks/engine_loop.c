/* engine_loop.c - the engine alone, without the Python binding: open a session on PID, take WARMUP
 * samples (so code objects are cached), then time N samples with the calling thread's CPU clock.
 * Prints one JSON object. Built by bench_sample.py from the engine's sources (never installed).
 * The timed loop is bracketed by two getpid system calls, markers for strace (see bench_sample.py).
 *
 *   engine_loop PID WARMUP N [INTERVAL_US]
 *                                        INTERVAL_US > 0: one sample every INTERVAL_US on a fixed
 *                                        schedule (clock_nanosleep), as a profiler samples, so each
 *                                        sample meets cold caches, and proves code identity as
 *                                        the recorder does (LS_RECORDER_CODE_CHECK_NS); PID 0: the
 *                                        same loop sleeping only, the baseline to subtract
 *   engine_loop --costs PID ADDR TID N   the cost of the system calls a sample is made of: one
 *                                        process_vm_readv of 8 B .. 32 KiB at ADDR (readable memory
 *                                        of PID), and a pread of /proc/PID/task/TID/stat and schedstat
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/syscall.h>
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

/* Sleep until the next point of a fixed schedule, interval_ns apart. */
static void pace(struct timespec *next, long interval_ns)
{
	next->tv_nsec += interval_ns;
	while (next->tv_nsec >= 1000000000L) {
		next->tv_nsec -= 1000000000L;
		next->tv_sec++;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL) != 0)
		;
}

static int costs(int pid, unsigned long long addr, int tid, long n)
{
	static char buf[65536];
	size_t sizes[] = {8, 400, 4096, 16384, 32768};
	printf("{");
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct iovec local = {buf, sizes[k]}, remote = {(void *)(uintptr_t)addr, sizes[k]};
		uint64_t t0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
		for (long i = 0; i < n; i++)
			if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)sizes[k])
				return fprintf(stderr, "process_vm_readv of %zu B failed\n", sizes[k]), 1;
		printf("\"process_vm_readv %zu B\": %.3f, ", sizes[k], (now_ns(CLOCK_THREAD_CPUTIME_ID) - t0) / 1000.0 / n);
	}
	/* 8 ranges of 8 bytes in one call: the cost of batching */
	struct iovec local[8], remote[8];
	for (int i = 0; i < 8; i++) {
		local[i] = (struct iovec){buf + 64 * i, 8};
		remote[i] = (struct iovec){(void *)(uintptr_t)(addr + 512 * (unsigned)i), 8};
	}
	uint64_t t0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	for (long i = 0; i < n; i++)
		if (process_vm_readv(pid, local, 8, remote, 8, 0) != 64)
			return fprintf(stderr, "batched process_vm_readv failed\n"), 1;
	printf("\"process_vm_readv 8 x 8 B\": %.3f, ", (now_ns(CLOCK_THREAD_CPUTIME_ID) - t0) / 1000.0 / n);
	const char *files[] = {"stat", "schedstat"};
	for (int k = 0; k < 2; k++) {
		char path[96];
		snprintf(path, sizeof(path), "/proc/%d/task/%d/%s", pid, tid, files[k]);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return fprintf(stderr, "open %s failed\n", path), 1;
		t0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
		for (long i = 0; i < n; i++)
			if (pread(fd, buf, 1023, 0) <= 0)
				return fprintf(stderr, "pread %s failed\n", path), 1;
		printf("\"pread %s\": %.3f%s", files[k], (now_ns(CLOCK_THREAD_CPUTIME_ID) - t0) / 1000.0 / n,
		       k ? "" : ", ");
		close(fd);
	}
	printf("}\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "--costs") == 0)
		return costs(atoi(argv[2]), strtoull(argv[3], NULL, 0), atoi(argv[4]), atol(argv[5]));
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: %s PID WARMUP N [INTERVAL_US]\n", argv[0]);
		return 2;
	}
	int pid = atoi(argv[1]);
	long warmup = atol(argv[2]), n = atol(argv[3]);
	long interval_ns = argc == 5 ? atol(argv[4]) * 1000 : 0;
	if (pid == 0 && interval_ns > 0) {
		uint64_t cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
		struct timespec next;
		clock_gettime(CLOCK_MONOTONIC, &next);
		for (long i = 0; i < n; i++)
			pace(&next, interval_ns);
		printf("{\"samples\": %ld, \"cpu_ns\": %llu}\n", n,
		       (unsigned long long)(now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0));
		return 0;
	}
	struct ls_session *s = NULL;
	char why[512];
	int rc = ls_session_open_pid(pid, &s, why, sizeof(why));
	if (rc) {
		fprintf(stderr, "open %d: %s (%s)\n", pid, ls_error_message(rc), why);
		return 1;
	}
#ifdef LS_RECORDER_CODE_CHECK_NS /* not in engines before it, which --baseline may build */
	if (interval_ns > 0)
		ls_session_set_code_check_every(s, LS_RECORDER_CODE_CHECK_NS); /* paced: as the recorder samples */
#endif
	const struct ls_sample *sample = NULL;
	long errors = 0;
	for (long i = 0; i < warmup; i++)
		errors += ls_session_sample(s, &sample) != 0;
	struct ls_session_stats before, after;
	ls_session_get_stats(s, &before);
	syscall(SYS_getpid); /* marker: the timed samples start */
	uint64_t cpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID), wall0 = now_ns(CLOCK_MONOTONIC);
	uint64_t frames = 0;
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long i = 0; i < n; i++) {
		if (interval_ns > 0)
			pace(&next, interval_ns);
		if (ls_session_sample(s, &sample) == 0)
			frames += sample->nframes;
		else
			errors++;
	}
	uint64_t cpu1 = now_ns(CLOCK_THREAD_CPUTIME_ID), wall1 = now_ns(CLOCK_MONOTONIC);
	syscall(SYS_getpid); /* marker: the timed samples end */
	ls_session_get_stats(s, &after);
	unsigned long long ranges = 0, own = 0;
#ifdef LS_STATS_READ_RANGES /* not in engines before it, which --baseline may build */
	ranges = (unsigned long long)(after.read_ranges - before.read_ranges);
	own = (unsigned long long)(after.own_batches - before.own_batches);
#endif
	printf("{\"samples\": %llu, \"cpu_ns\": %llu, \"wall_ns\": %llu, \"frames\": %llu, \"errors\": %ld, "
	       "\"read_calls\": %llu, \"read_bytes\": %llu, \"threads_walked\": %llu, \"torn_threads\": %llu, "
	       "\"retried_threads\": %llu, \"code_misses\": %llu, \"read_ranges\": %llu, \"own_batches\": %llu}\n",
	       (unsigned long long)(after.samples - before.samples), (unsigned long long)(cpu1 - cpu0),
	       (unsigned long long)(wall1 - wall0), (unsigned long long)frames, errors,
	       (unsigned long long)(after.read_calls - before.read_calls),
	       (unsigned long long)(after.read_bytes - before.read_bytes),
	       (unsigned long long)(after.threads_walked - before.threads_walked),
	       (unsigned long long)(after.torn_threads - before.torn_threads),
	       (unsigned long long)(after.retried_threads - before.retried_threads),
	       (unsigned long long)(after.code_misses - before.code_misses), ranges, own);
	ls_session_free(s);
	return 0;
}
