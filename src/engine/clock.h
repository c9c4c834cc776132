/* clock.h - a clock read in nanoseconds (CLOCK_MONOTONIC, CLOCK_REALTIME, a CPU clock). The file
 * that includes it defines _GNU_SOURCE (or _POSIX_C_SOURCE) first, for clock_gettime under C11. */
#ifndef LS_CLOCK_H
#define LS_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t ls_clock_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
