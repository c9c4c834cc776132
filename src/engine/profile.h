/* profile.h - an aggregated profile: the interned tables and weighted (thread, stack) records.
 *
 * This is what exporters read (export.h) and what a recording's windows add up to. Records refer to
 * threads and stacks by id; stacks are leaf first (stacktab.h). A profile owns all its tables.
 * Records are not merged automatically: ls_profile_add_record() appends; exporters must treat
 * several records of the same (thread, stack) as one sum.
 */
#ifndef LS_PROFILE_H
#define LS_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "functab.h"
#include "stacktab.h"
#include "strtab.h"

struct ls_thread_desc {
	int64_t native_id;   /* kernel tid, -1 unknown */
	uint64_t thread_id;  /* Python's thread identifier */
	uint32_t name_id;    /* display name (string id): OS name, or "Thread <tid>" */
};

struct ls_weights {
	uint64_t samples;    /* number of samples */
	uint64_t wall_ns;    /* wall-clock time the samples stand for */
	uint64_t cpu_ns;     /* CPU time the thread used over those samples */
	uint64_t on_cpu;     /* samples where the thread was on a CPU */
	uint64_t gil;        /* samples where the thread held the GIL */
};

struct ls_record {
	uint32_t thread, stack;
	struct ls_weights w;
};

struct ls_profile_meta {
	int32_t pid;
	uint32_t hexversion;
	uint64_t period_ns;      /* the sampling interval (1e9 / rate) */
	uint64_t start_unix_ns;  /* wall-clock start of the profiled range */
	uint64_t duration_ns;
	char command[1024];      /* the profiled command line, for headers ("" if unknown) */
};

struct ls_profile {
	struct ls_strtab strings;
	struct ls_functab functions;
	struct ls_frametab frames;
	struct ls_stacktab stacks;
	struct ls_thread_desc *threads;
	uint32_t nthreads;
	size_t cap_threads;
	struct ls_record *records;
	size_t nrecords, cap_records;
	struct ls_profile_meta meta;
};

int ls_profile_init(struct ls_profile *p);
void ls_profile_release(struct ls_profile *p);
/* Append a thread; returns its id (>= 0) or LS_ERR_NOMEM. */
int64_t ls_profile_add_thread(struct ls_profile *p, const struct ls_thread_desc *t);
int ls_profile_add_record(struct ls_profile *p, uint32_t thread, uint32_t stack, const struct ls_weights *w);

#endif
