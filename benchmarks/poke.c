/* poke.c - a diagnostic contender for bench_overhead.py: read BYTES of the target's memory RATE
 * times a second and do nothing else, to tell what about a profiler's reads costs the target.
 * With a few bytes it only takes the target's memory-map lock (mmap_lock) as every
 * process_vm_readv does; with tens of KiB it also pins and copies pages, as a deep stack's sample
 * does; in RANGES ranges (4 KiB apart, BYTES in all) it takes the lock once per range, as a batch of
 * many ranges does. It reads from the start of the target's [heap] (memory the target does not
 * unmap), in one call, on absolute deadlines; it never stops on a failed read. WHERE `stack` reads
 * from the start of the target's root data-stack chunk instead (3.11+: the bottom frames of the
 * main thread, which a recursion writes again at every descent), to tell what reading memory the
 * target keeps writing costs it beyond the lock (cache lines it must take back). Built by
 * bench_overhead.py.
 *
 *   poke PID RATE BYTES [RANGES [heap|stack]]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/uio.h>
#include <time.h>

static unsigned long heap_start(int pid)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	FILE *f = fopen(path, "r");
	unsigned long start = 0;
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "[heap]") && sscanf(line, "%lx-", &start) == 1)
			break;
	if (f)
		fclose(f);
	return start;
}

/* The root data-stack chunk of a 3.11+ target: the page-aligned start, in an anonymous writable
 * mapping, of a chunk header {previous = NULL, size = 16 KiB, top < 2048 words}; 0 if none. */
static unsigned long root_chunk(int pid)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	FILE *f = fopen(path, "r");
	unsigned long found = 0, start, end;
	char perms[8];
	int name_at;
	while (f && !found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, perms, &name_at) != 3 || strncmp(perms, "rw", 2) ||
		    (line[name_at] != '\n' && line[name_at] != '\0'))
			continue;
		for (unsigned long page = start; page < end && !found; page += 4096) {
			unsigned long words[3];
			struct iovec local = {words, sizeof(words)}, remote = {(void *)page, sizeof(words)};
			if (process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)sizeof(words) && words[0] == 0 &&
			    words[1] == 16384 && words[2] > 0 && words[2] < 2048)
				found = page;
		}
	}
	if (f)
		fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	if (argc < 4 || argc > 6) {
		fprintf(stderr, "usage: %s PID RATE BYTES [RANGES [heap|stack]]\n", argv[0]);
		return 2;
	}
	int pid = atoi(argv[1]);
	long rate = atol(argv[2]);
	size_t bytes = (size_t)atol(argv[3]);
	size_t ranges = argc == 5 ? (size_t)atol(argv[4]) : 1;
	int stack = argc == 6 && !strcmp(argv[5], "stack");
	unsigned long addr = stack ? root_chunk(pid) : heap_start(pid);
	if (stack)
		fprintf(stderr, "poke: root data-stack chunk at %#lx\n", addr);
	char *buf = malloc(bytes ? bytes : 1);
	if (!addr || rate <= 0 || !buf || ranges < 1 || ranges > 1024 || (ranges > 1 && bytes / ranges > 4096)) {
		if (ranges > 1 && bytes / ranges > 4096)
			fprintf(stderr, "poke: at most 4096 bytes a range when there are several\n");
		fprintf(stderr, "poke: no %s in process %d, or bad arguments\n", stack ? "root data-stack chunk" : "[heap]", pid);
		return 1;
	}
	long period = 1000000000L / rate;
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		next.tv_nsec += period;
		while (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		struct iovec local[1024], remote[1024];
		for (size_t i = 0; i < ranges; i++) {
			size_t len = bytes / ranges;
			local[i] = (struct iovec){buf + i * len, len};
			remote[i] = (struct iovec){(void *)(addr + (ranges > 1 ? i * 4096 : 0)), len};
		}
		if (process_vm_readv(pid, local, ranges, remote, ranges, 0) < 0 && kill(pid, 0) != 0)
			return 0; /* the target is gone */
	}
}
