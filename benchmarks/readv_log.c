/* readv_log.c - an LD_PRELOAD library that logs every process_vm_readv of the program it is loaded
 * into, without slowing it the way strace does (strace stops the reader at every call, which
 * changes how often the target's stack moves between two calls). One line per call, to the file
 * READV_LOG names (default readv.log):
 *
 *   C RESULT START_NS END_NS ADDR:LEN ...
 *
 * RESULT is the call's return value (bytes, or -1), START_NS and END_NS CLOCK_MONOTONIC around
 * it, then the remote ranges the kernel got to: those it copied and the one it stopped at. Used
 * with engine_loop (bench_sample.py builds it) and summarised by readv_kinds.py:
 *
 *   cc -O2 -shared -fPIC benchmarks/readv_log.c -o /tmp/readv_log.so
 *   READV_LOG=/tmp/readv.log LD_PRELOAD=/tmp/readv_log.so engine_loop PID 200 3000 1000
 *   python3 benchmarks/readv_kinds.py /tmp/readv.log
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static FILE *out;

static unsigned long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (unsigned long long)t.tv_sec * 1000000000ull + (unsigned long long)t.tv_nsec;
}

ssize_t process_vm_readv(pid_t pid, const struct iovec *local, unsigned long nlocal, const struct iovec *remote,
			 unsigned long nremote, unsigned long flags)
{
	unsigned long long t0 = now_ns();
	ssize_t n = syscall(SYS_process_vm_readv, pid, local, nlocal, remote, nremote, flags);
	unsigned long long t1 = now_ns();
	if (!out) {
		const char *path = getenv("READV_LOG");
		out = fopen(path ? path : "readv.log", "w");
		if (!out)
			return n;
	}
	fprintf(out, "C %zd %llu %llu", n, t0, t1);
	size_t copied = 0;
	for (unsigned long i = 0; i < nremote; i++) {
		fprintf(out, " %lx:%zu", (unsigned long)remote[i].iov_base, remote[i].iov_len);
		copied += remote[i].iov_len;
		if (n < 0 || copied > (size_t)n)
			break; /* it failed at its first range, or stopped within this one */
		if (copied == (size_t)n && i + 1 < nremote) {
			fprintf(out, " %lx:%zu", (unsigned long)remote[i + 1].iov_base, remote[i + 1].iov_len);
			break; /* it stopped at the start of the next one */
		}
	}
	fputc('\n', out);
	return n;
}
