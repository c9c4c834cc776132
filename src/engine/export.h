/* export.h - one small interface for every export format.
 *
 * An exporter writes a whole ls_profile into a buffer. Formats: collapsed stacks (flamegraph.pl),
 * callgrind (KCachegrind, callgrind_annotate), pprof profile.proto (uncompressed: the caller
 * gzips it), speedscope JSON. pstats is written by the Python shell (it is a marshal of a dict).
 * Each format lives in its own export_<format>.c and is listed in export.c's table.
 */
#ifndef LS_EXPORT_H
#define LS_EXPORT_H

#include "buf.h"
#include "profile.h"

enum ls_export_weight {
	LS_WEIGHT_SAMPLES = 0, /* sample counts */
	LS_WEIGHT_WALL = 1,    /* wall-clock nanoseconds */
	LS_WEIGHT_CPU = 2,     /* CPU nanoseconds */
};

struct ls_export_options {
	enum ls_export_weight weight; /* for formats with a single value (collapsed, speedscope) */
	int lines;                    /* 1: frames are (function, line); 0: functions only */
};

struct ls_exporter {
	const char *name; /* "collapsed", "callgrind", "pprof", "speedscope" */
	int (*write)(const struct ls_profile *p, const struct ls_export_options *o, struct ls_buf *out);
};

/* The exporter called `name`, or NULL. */
const struct ls_exporter *ls_exporter_find(const char *name);
/* NULL-terminated list of all exporters. */
extern const struct ls_exporter *const ls_exporters[];

#endif
