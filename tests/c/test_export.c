/* test_export.c - C tests of the export writers (export.h) on small hand-built profiles.
 *
 * Golden outputs for collapsed, callgrind and speedscope, a structural decoding of the pprof
 * protobuf (string table, samples, labels, locations), escaping of separators, quotes, control
 * characters and bytes that are not UTF-8, recursion counted once per sample, same-named
 * functions kept apart, an empty profile (every writer still writes a valid file), a profile with
 * a bad id (refused), and determinism (each writer twice gives the same bytes). The real tools'
 * view of the formats is tested from Python (tests/unit/test_exports.py). Runs under ASan and
 * UBSan too. Prints "N passed, N failed"; exits non-zero on failure.
 */
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "ls_error.h"
#include "testing.h"

/* --- building profiles ------------------------------------------------------------------------ */

static uint32_t str(struct ls_profile *p, const char *s)
{
	return (uint32_t)ls_strtab_intern(&p->strings, s, strlen(s));
}

static uint32_t fn(struct ls_profile *p, const char *name, const char *file, int32_t first_line)
{
	struct ls_function f = {str(p, name), str(p, file), first_line};
	return (uint32_t)ls_functab_intern(&p->functions, &f);
}

static uint32_t frame(struct ls_profile *p, uint32_t function, int32_t line)
{
	return (uint32_t)ls_frametab_intern(&p->frames, function, line);
}

static uint32_t stack(struct ls_profile *p, const uint32_t *leaf_first, size_t n)
{
	return (uint32_t)ls_stacktab_intern(&p->stacks, leaf_first, n);
}

static uint32_t thread(struct ls_profile *p, const char *name)
{
	struct ls_thread_desc t = {100 + p->nthreads, 7000 + p->nthreads, str(p, name)};
	return (uint32_t)ls_profile_add_thread(p, &t);
}

static void record(struct ls_profile *p, uint32_t t, uint32_t s, uint64_t samples, uint64_t wall, uint64_t cpu)
{
	struct ls_weights w = {samples, wall, cpu, samples, samples};
	CHECK_EQ_INT(ls_profile_add_record(p, t, s, &w), 0);
}

/* main (/app/a.py, first line 1) calls "f;g" (/app/100%.py, first line 10), which recurses.
 *   MainThread: main@5 -> f;g@12                 3 + 2 samples (two records)
 *   W:          main@5 -> f;g@12 -> f;g@13 (leaf) 4 samples
 *   MainThread: main@5 (leaf)                    1 sample
 *   MainThread: an empty stack                   9 samples (left out everywhere) */
static void small_profile(struct ls_profile *p)
{
	CHECK_EQ_INT(ls_profile_init(p), 0);
	uint32_t t_main = thread(p, "MainThread"), t_w = thread(p, "W");
	uint32_t f_main = fn(p, "main", "/app/a.py", 1), f_g = fn(p, "f;g", "/app/100%.py", 10);
	uint32_t main5 = frame(p, f_main, 5), g12 = frame(p, f_g, 12), g13 = frame(p, f_g, 13);
	uint32_t s0[] = {g12, main5}, s1[] = {g13, g12, main5}, s2[] = {main5};
	uint32_t a = stack(p, s0, 2), b = stack(p, s1, 3), c = stack(p, s2, 1), empty = stack(p, NULL, 0);
	record(p, t_main, a, 3, 30001400, 20000000);
	record(p, t_w, b, 4, 40000000, 39999500);
	record(p, t_main, a, 2, 20000000, 0);
	record(p, t_main, c, 1, 10000000, 1000);
	record(p, t_main, empty, 9, 90000000, 0);
	p->meta.pid = 4242;
	p->meta.period_ns = 10000000;
	p->meta.start_unix_ns = 1700000000000000000ull;
	p->meta.duration_ns = 2000000000;
	snprintf(p->meta.command, sizeof(p->meta.command), "python3 a.py");
}

/* Export with the named writer; the text (malloc'ed, NUL terminated) or NULL on an error code,
 * which goes to *rc. Each export is done twice and must give the same bytes. */
static char *export(const struct ls_profile *p, const char *name, enum ls_export_weight weight, int lines, size_t *len,
		    int *rc)
{
	const struct ls_exporter *e = ls_exporter_find(name);
	CHECK(e != NULL);
	if (!e)
		return NULL;
	struct ls_export_options o = {weight, lines};
	struct ls_buf first = {0}, second = {0};
	*rc = e->write(p, &o, &first);
	int rc2 = e->write(p, &o, &second);
	CHECK_EQ_INT(*rc, rc2);
	if (*rc) {
		ls_buf_release(&first);
		ls_buf_release(&second);
		return NULL;
	}
	CHECK(first.data != NULL);
	CHECK(first.len == second.len && memcmp(first.data, second.data, first.len) == 0);
	ls_buf_release(&second);
	*len = first.len;
	return first.data;
}

static char *export_ok(const struct ls_profile *p, const char *name, enum ls_export_weight weight, int lines, size_t *len)
{
	int rc = 0;
	size_t n = 0;
	char *text = export(p, name, weight, lines, &n, &rc);
	CHECK_EQ_INT(rc, 0);
	if (len)
		*len = n;
	return text;
}

#define CHECK_STR(got, want)                                                                        \
	do {                                                                                        \
		const char *testing_g_ = (got), *testing_w_ = (want);                               \
		int testing_same_ = testing_g_ && strcmp(testing_g_, testing_w_) == 0;              \
		CHECK(testing_same_);                                                               \
		if (!testing_same_)                                                                 \
			fprintf(stderr, "--- got:\n%s\n--- want:\n%s\n", testing_g_ ? testing_g_ : "(null)", \
				testing_w_);                                                        \
	} while (0)

#define CHECK_CONTAINS(text, part)                                                           \
	do {                                                                                 \
		const char *testing_t_ = (text);                                             \
		int testing_in_ = testing_t_ && strstr(testing_t_, (part)) != NULL;          \
		CHECK(testing_in_);                                                          \
		if (!testing_in_)                                                            \
			fprintf(stderr, "    missing: %s\n", (part));                        \
	} while (0)

/* --- collapsed -------------------------------------------------------------------------------- */

static void test_export__collapsed_golden(void)
{
	struct ls_profile p;
	small_profile(&p);
	char *text = export_ok(&p, "collapsed", LS_WEIGHT_SAMPLES, 1, NULL);
	CHECK_STR(text, "MainThread;main (/app/a.py:5) 1\n"
			"MainThread;main (/app/a.py:5);f%3Bg (/app/100%25.py:12) 5\n"
			"W;main (/app/a.py:5);f%3Bg (/app/100%25.py:12);f%3Bg (/app/100%25.py:13) 4\n");
	free(text);
	text = export_ok(&p, "collapsed", LS_WEIGHT_CPU, 0, NULL);
	CHECK_STR(text, "MainThread;main (/app/a.py) 1000\n"
			"MainThread;main (/app/a.py);f%3Bg (/app/100%25.py) 20000000\n"
			"W;main (/app/a.py);f%3Bg (/app/100%25.py);f%3Bg (/app/100%25.py) 39999500\n");
	free(text);
	text = export_ok(&p, "collapsed", LS_WEIGHT_WALL, 1, NULL);
	CHECK_CONTAINS(text, "MainThread;main (/app/a.py:5);f%3Bg (/app/100%25.py:12) 50001400\n");
	free(text);
	ls_profile_release(&p);
}

static void test_export__collapsed_escapes_and_guards_the_count(void)
{
	struct ls_profile p;
	CHECK_EQ_INT(ls_profile_init(&p), 0);
	uint32_t t = thread(&p, "T\n1");
	uint32_t f1 = fn(&p, "a%b\r", "", -1), f2 = fn(&p, "leaf 42", "", -1);
	uint32_t frames[] = {frame(&p, f2, -1), frame(&p, f1, -1)};
	record(&p, t, stack(&p, frames, 2), 7, 0, 0);
	char *text = export_ok(&p, "collapsed", LS_WEIGHT_SAMPLES, 1, NULL);
	/* the blank before "42" would make flamegraph.pl read 42 as the count */
	CHECK_STR(text, "T%0A1;a%25b%0D;leaf%2042 7\n");
	free(text);
	ls_profile_release(&p);
}

/* --- callgrind -------------------------------------------------------------------------------- */

static void test_export__callgrind_golden(void)
{
	struct ls_profile p;
	small_profile(&p);
	char *text = export_ok(&p, "callgrind", LS_WEIGHT_SAMPLES, 1, NULL);
	/* the recursive call f;g -> f;g adds no call: both stacks enter f;g from main line 5 once, so
	 * f;g's inclusive cost (its incoming calls) is 9 samples, one per sample; times are
	 * microseconds rounded once per stack (30001.4 + 20000 us -> 50001, 39999.5 us -> 40000) */
	CHECK_STR(text, "# callgrind format\n"
			"version: 1\n"
			"creator: loopscope 0.1.0\n"
			"pid: 4242\n"
			"cmd: python3 a.py\n"
			"desc: Sampling period: 10000000 ns\n"
			"positions: line\n"
			"event: samples : Samples\n"
			"event: wall_us : Wall-clock time (microseconds)\n"
			"event: cpu_us : CPU time (microseconds)\n"
			"events: samples wall_us cpu_us\n"
			"\n"
			"fl=(5) /app/a.py\n"
			"fn=(1) main\n"
			"5 1 10000 1\n"
			"cfl=(7) /app/100%.py\n"
			"cfn=(2) f;g\n"
			"calls=9 10\n"
			"5 9 90001 60000\n"
			"\n"
			"fl=(7)\n"
			"fn=(2)\n"
			"12 5 50001 20000\n"
			"13 4 40000 40000\n"
			"\n"
			"totals: 10 100001 60001\n");
	free(text);
	ls_profile_release(&p);
}

static void test_export__callgrind_merges_equal_calls_without_lines(void)
{
	struct ls_profile p;
	small_profile(&p);
	char *text = export_ok(&p, "callgrind", LS_WEIGHT_SAMPLES, 0, NULL);
	/* without lines both stacks' calls are (main:1 -> f;g): one call of 9 samples; self on first lines */
	CHECK_CONTAINS(text, "fn=(1) main\n1 1 10000 1\ncfl=(7) /app/100%.py\ncfn=(2) f;g\ncalls=9 10\n1 9 90001 60000\n");
	CHECK_CONTAINS(text, "fn=(2)\n10 9 90001 60000\n");
	CHECK_CONTAINS(text, "totals: 10 100001 60001\n");
	free(text);
	ls_profile_release(&p);
}

static void test_export__callgrind_names(void)
{
	struct ls_profile p;
	CHECK_EQ_INT(ls_profile_init(&p), 0);
	uint32_t t = thread(&p, "T");
	uint32_t top = fn(&p, "", "", -1); /* no name, no file */
	uint32_t h1 = fn(&p, "helper", "/a/utils.py", 3), h2 = fn(&p, "helper", "/b/utils.py", 3);
	uint32_t nl = fn(&p, "bad\nname", "/c.py", 0);
	uint32_t s1[] = {frame(&p, h1, 4), frame(&p, top, -1)}, s2[] = {frame(&p, h2, 4), frame(&p, top, -1)};
	uint32_t s3[] = {frame(&p, nl, 1), frame(&p, top, -1)};
	record(&p, t, stack(&p, s1, 2), 1, 0, 0);
	record(&p, t, stack(&p, s2, 2), 1, 0, 0);
	record(&p, t, stack(&p, s3, 2), 0, 0, 0); /* no cost at all: not written */
	char *text = export_ok(&p, "callgrind", LS_WEIGHT_SAMPLES, 1, NULL);
	CHECK_CONTAINS(text, "fl=(1) ???\nfn=(1) ???\ncfl=(4) /a/utils.py\ncfn=(2) helper [/a/utils.py:3]\ncalls=1 3\n0 1 0 0\n");
	CHECK_CONTAINS(text, "cfl=(5) /b/utils.py\ncfn=(3) helper [/b/utils.py:3]\n");
	CHECK(strstr(text, "bad") == NULL);
	CHECK(strstr(text, "calls=0") == NULL);
	free(text);
	ls_profile_release(&p);
}

/* --- speedscope ------------------------------------------------------------------------------- */

static void test_export__speedscope_golden(void)
{
	struct ls_profile p;
	small_profile(&p);
	char *text = export_ok(&p, "speedscope", LS_WEIGHT_SAMPLES, 1, NULL);
	CHECK_STR(text, "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\n"
			"\"exporter\":\"loopscope@0.1.0\",\"name\":\"python3 a.py\",\"activeProfileIndex\":0,\n"
			"\"shared\":{\"frames\":[\n"
			"{\"name\":\"main\",\"file\":\"/app/a.py\",\"line\":5},\n"
			"{\"name\":\"f;g\",\"file\":\"/app/100%.py\",\"line\":12},\n"
			"{\"name\":\"f;g\",\"file\":\"/app/100%.py\",\"line\":13}]},\n"
			"\"profiles\":[{\"type\":\"sampled\",\"name\":\"MainThread\",\"unit\":\"nanoseconds\",\"startValue\":0,"
			"\"endValue\":60001400,\n"
			"\"samples\":[\n[0,1],\n[0]],\n"
			"\"weights\":[50001400,10000000]},\n"
			"{\"type\":\"sampled\",\"name\":\"W\",\"unit\":\"nanoseconds\",\"startValue\":0,\"endValue\":40000000,\n"
			"\"samples\":[\n[0,1,2]],\n"
			"\"weights\":[40000000]}]}\n");
	free(text);
	/* cpu: the zero-weight sample goes; functions only: one frame per function, at its first line */
	text = export_ok(&p, "speedscope", LS_WEIGHT_CPU, 0, NULL);
	CHECK_CONTAINS(text, "{\"name\":\"main\",\"file\":\"/app/a.py\",\"line\":1},\n"
			     "{\"name\":\"f;g\",\"file\":\"/app/100%.py\",\"line\":10}]},");
	CHECK_CONTAINS(text, "\"endValue\":20001000,\n\"samples\":[\n[0,1],\n[0]],\n\"weights\":[20000000,1000]}");
	CHECK_CONTAINS(text, "\"samples\":[\n[0,1,1]],\n\"weights\":[39999500]}");
	free(text);
	ls_profile_release(&p);
}

static void test_export__speedscope_escapes_json(void)
{
	struct ls_profile p;
	CHECK_EQ_INT(ls_profile_init(&p), 0);
	uint32_t t = thread(&p, "tab\there");
	/* quote, backslash, newline, a control character, DEL, valid 2-, 3- and 4-byte UTF-8, then
	 * bytes that are not UTF-8: a lone continuation, an overlong '/', a surrogate, a cut sequence */
	uint32_t f = fn(&p, "q\"b\\n\n\x01\x7f\xc3\xa9\xe5\x90\x8d\xf0\x9f\x98\x80|\x80|\xc0\xaf|\xed\xa0\x80|\xe5\x90", "/x.py", 1);
	uint32_t frames[] = {frame(&p, f, 2)};
	record(&p, t, stack(&p, frames, 1), 1, 5, 5);
	char *text = export_ok(&p, "speedscope", LS_WEIGHT_WALL, 1, NULL);
	CHECK_CONTAINS(text, "{\"name\":\"q\\\"b\\\\n\\n\\u0001\x7f\xc3\xa9\xe5\x90\x8d\xf0\x9f\x98\x80|\\ufffd|\\ufffd\\ufffd|"
			     "\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd\",\"file\":\"/x.py\",\"line\":2}");
	CHECK_CONTAINS(text, "\"name\":\"tab\\there\"");
	free(text);
	ls_profile_release(&p);
}

/* --- pprof: a small protobuf reader ------------------------------------------------------------ */

struct pb {
	const uint8_t *p, *end;
	int bad;
};

static uint64_t pb_varint(struct pb *r)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (r->p >= r->end) {
			r->bad = 1;
			return 0;
		}
		uint8_t b = *r->p++;
		v |= (uint64_t)(b & 0x7F) << shift;
		if (!(b & 0x80))
			return v;
	}
	r->bad = 1;
	return 0;
}

/* The next field: 1 and its number, wire type and (for length-delimited) sub-reader, 0 at the end. */
static int pb_next(struct pb *r, uint32_t *field, uint64_t *value, struct pb *sub)
{
	if (r->bad || r->p >= r->end)
		return 0;
	uint64_t key = pb_varint(r);
	*field = (uint32_t)(key >> 3);
	if ((key & 7) == 0) {
		*value = pb_varint(r);
		sub->p = sub->end = NULL;
	} else if ((key & 7) == 2) {
		uint64_t len = pb_varint(r);
		if (len > (uint64_t)(r->end - r->p)) {
			r->bad = 1;
			return 0;
		}
		sub->p = r->p;
		sub->end = r->p + len;
		sub->bad = 0;
		r->p += len;
		*value = len;
	} else {
		r->bad = 1;
		return 0;
	}
	return !r->bad;
}

struct pprof_summary {
	char strings[64][64];
	int nstrings, nsamples, nlocations, nfunctions, nsample_types, bad;
	uint64_t values[3];         /* summed over samples */
	uint64_t period, time_nanos, duration, default_type;
	int labels_ok;              /* every sample has key "thread" with a thread name */
	uint64_t max_location_id;   /* greatest id a sample uses */
	uint64_t location_ids[64];  /* defined locations */
	uint64_t location_fn[64], location_line[64];
	uint64_t function_name[64]; /* by function id (string index) */
	uint64_t first_sample_locations[8];
	int first_sample_depth;
};

static void pprof_read(const char *data, size_t len, struct pprof_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->labels_ok = 1;
	struct pb r = {(const uint8_t *)data, (const uint8_t *)data + len, 0}, sub, sub2, packed;
	uint32_t field, f2;
	uint64_t v, v2;
	uint64_t label_values[64];
	int nlabels = 0;
	while (pb_next(&r, &field, &v, &sub)) {
		switch (field) {
		case 1:
			s->nsample_types++;
			break;
		case 2: { /* Sample */
			int value_i = 0, depth = 0, has_label = 0;
			while (pb_next(&sub, &f2, &v2, &sub2)) {
				if (f2 == 1) {
					packed = sub2;
					while (packed.p < packed.end) {
						uint64_t id = pb_varint(&packed);
						if (id > s->max_location_id)
							s->max_location_id = id;
						if (s->nsamples == 0 && depth < 8)
							s->first_sample_locations[depth] = id;
						depth++;
					}
				} else if (f2 == 2) {
					packed = sub2;
					while (packed.p < packed.end && value_i < 3)
						s->values[value_i++] += pb_varint(&packed);
				} else if (f2 == 3) {
					struct pb label = sub2, dummy;
					uint32_t f3;
					uint64_t v3, key = 0, strv = 0;
					while (pb_next(&label, &f3, &v3, &dummy)) {
						if (f3 == 1)
							key = v3;
						else if (f3 == 2)
							strv = v3;
					}
					has_label = 1;
					if (nlabels < 64)
						label_values[nlabels++] = key << 32 | strv;
				}
			}
			if (s->nsamples == 0)
				s->first_sample_depth = depth;
			if (!has_label || value_i != 3)
				s->labels_ok = 0;
			s->nsamples++;
			break;
		}
		case 4: { /* Location */
			uint64_t id = 0, fn_id = 0, line = 0;
			while (pb_next(&sub, &f2, &v2, &sub2)) {
				if (f2 == 1)
					id = v2;
				else if (f2 == 4) {
					struct pb ln = sub2, dummy;
					uint32_t f3;
					uint64_t v3;
					while (pb_next(&ln, &f3, &v3, &dummy))
						if (f3 == 1)
							fn_id = v3;
						else if (f3 == 2)
							line = v3;
				}
			}
			if (s->nlocations < 64) {
				s->location_ids[s->nlocations] = id;
				s->location_fn[s->nlocations] = fn_id;
				s->location_line[s->nlocations] = line;
			}
			s->nlocations++;
			break;
		}
		case 5: { /* Function */
			uint64_t id = 0, name = 0;
			while (pb_next(&sub, &f2, &v2, &sub2))
				if (f2 == 1)
					id = v2;
				else if (f2 == 2)
					name = v2;
			if (id < 64)
				s->function_name[id] = name;
			s->nfunctions++;
			break;
		}
		case 6:
			if (s->nstrings < 64) {
				size_t n = v < 63 ? (size_t)v : 63;
				memcpy(s->strings[s->nstrings], sub.p, n);
				s->strings[s->nstrings][n] = 0;
			}
			s->nstrings++;
			break;
		case 9:
			s->time_nanos = v;
			break;
		case 10:
			s->duration = v;
			break;
		case 12:
			s->period = v;
			break;
		case 14:
			s->default_type = v;
			break;
		default:
			break;
		}
	}
	s->bad = r.bad;
	for (int i = 0; i < nlabels; i++) {
		uint64_t key = label_values[i] >> 32, strv = label_values[i] & 0xFFFFFFFF;
		if (key >= (uint64_t)s->nstrings || strv >= (uint64_t)s->nstrings || strcmp(s->strings[key], "thread") != 0 ||
		    (strcmp(s->strings[strv], "MainThread") != 0 && strcmp(s->strings[strv], "W") != 0))
			s->labels_ok = 0;
	}
}

static int pprof_has_string(const struct pprof_summary *s, const char *want)
{
	for (int i = 0; i < s->nstrings && i < 64; i++)
		if (strcmp(s->strings[i], want) == 0)
			return 1;
	return 0;
}

static void test_export__pprof_structure(void)
{
	struct ls_profile p;
	small_profile(&p);
	size_t len;
	char *data = export_ok(&p, "pprof", LS_WEIGHT_WALL, 1, &len);
	struct pprof_summary s;
	pprof_read(data, len, &s);
	CHECK(!s.bad);
	CHECK(s.nstrings > 0 && s.strings[0][0] == 0); /* string_table[0] = "" */
	CHECK_EQ_INT(s.nsample_types, 3);
	CHECK_EQ_INT(s.nsamples, 3); /* distinct non-empty (thread, stack) */
	CHECK_EQ_INT(s.values[0], 10);
	CHECK_EQ_INT(s.values[1], 100001400);
	CHECK_EQ_INT(s.values[2], 60000500);
	CHECK(s.labels_ok);
	CHECK_EQ_INT(s.nlocations, 3); /* one per (function, line) */
	CHECK_EQ_INT(s.nfunctions, 2);
	CHECK_EQ_INT(s.max_location_id, 3);
	CHECK_EQ_INT(s.period, 10000000);
	CHECK_EQ_INT(s.time_nanos, 1700000000000000000ull);
	CHECK_EQ_INT(s.duration, 2000000000);
	CHECK(s.default_type < (uint64_t)s.nstrings && strcmp(s.strings[s.default_type], "wall") == 0);
	/* the first sample (MainThread, main -> f;g@12) is leaf first: location of f;g@12, then main@5 */
	CHECK_EQ_INT(s.first_sample_depth, 2);
	CHECK_EQ_INT(s.first_sample_locations[0], 2);
	CHECK_EQ_INT(s.first_sample_locations[1], 1);
	CHECK_EQ_INT(s.location_line[1], 12);
	CHECK_EQ_INT(s.location_fn[1], 2);
	CHECK(pprof_has_string(&s, "f;g") && pprof_has_string(&s, "/app/100%.py") && pprof_has_string(&s, "python3 a.py"));
	CHECK(s.function_name[2] < (uint64_t)s.nstrings && strcmp(s.strings[s.function_name[2]], "f;g") == 0);
	free(data);
	/* functions only: one location per function, at its first line */
	data = export_ok(&p, "pprof", LS_WEIGHT_SAMPLES, 0, &len);
	pprof_read(data, len, &s);
	CHECK(!s.bad);
	CHECK_EQ_INT(s.nlocations, 2);
	CHECK_EQ_INT(s.location_line[0], 1);
	CHECK_EQ_INT(s.location_line[1], 10);
	CHECK(strcmp(s.strings[s.default_type], "samples") == 0);
	free(data);
	ls_profile_release(&p);
}

static void test_export__pprof_qualifies_same_names(void)
{
	struct ls_profile p;
	CHECK_EQ_INT(ls_profile_init(&p), 0);
	uint32_t t = thread(&p, "MainThread");
	uint32_t h1 = fn(&p, "helper", "/a/utils.py", 3), h2 = fn(&p, "helper", "/b/utils.py", 3);
	uint32_t s1[] = {frame(&p, h1, 4)}, s2[] = {frame(&p, h2, 4)};
	record(&p, t, stack(&p, s1, 1), 1, 1, 1);
	record(&p, t, stack(&p, s2, 1), 1, 1, 1);
	size_t len;
	char *data = export_ok(&p, "pprof", LS_WEIGHT_SAMPLES, 1, &len);
	struct pprof_summary s;
	pprof_read(data, len, &s);
	CHECK(!s.bad);
	CHECK(pprof_has_string(&s, "helper [/a/utils.py:3]") && pprof_has_string(&s, "helper [/b/utils.py:3]"));
	CHECK(pprof_has_string(&s, "helper")); /* system_name */
	free(data);
	ls_profile_release(&p);
}

/* --- every writer ------------------------------------------------------------------------------ */

static void test_export__empty_profile(void)
{
	struct ls_profile p;
	CHECK_EQ_INT(ls_profile_init(&p), 0);
	size_t len;
	char *text = export_ok(&p, "collapsed", LS_WEIGHT_SAMPLES, 1, &len);
	CHECK(text && len == 0 && text[0] == 0);
	free(text);
	text = export_ok(&p, "callgrind", LS_WEIGHT_SAMPLES, 1, NULL);
	CHECK_CONTAINS(text, "events: samples wall_us cpu_us\n\ntotals: 0 0 0\n");
	CHECK(text && strstr(text, "fn=") == NULL);
	free(text);
	text = export_ok(&p, "speedscope", LS_WEIGHT_SAMPLES, 1, NULL);
	CHECK_CONTAINS(text, "\"shared\":{\"frames\":[]},\n\"profiles\":[{\"type\":\"sampled\",\"name\":\"(no samples)\"");
	CHECK_CONTAINS(text, "\"samples\":[],\"weights\":[]}]}\n");
	free(text);
	text = export_ok(&p, "pprof", LS_WEIGHT_SAMPLES, 1, &len);
	struct pprof_summary s;
	pprof_read(text, len, &s);
	CHECK(!s.bad && s.nstrings > 0 && s.strings[0][0] == 0 && s.nsample_types == 3 && s.nsamples == 0);
	free(text);
	ls_profile_release(&p);
}

static void test_export__bad_ids_are_refused(void)
{
	struct ls_profile p;
	small_profile(&p);
	p.records[0].thread = 99;
	for (size_t i = 0; ls_exporters[i]; i++) {
		int rc = 0;
		size_t len;
		char *text = export(&p, ls_exporters[i]->name, LS_WEIGHT_SAMPLES, 1, &len, &rc);
		CHECK_EQ_INT(rc, LS_ERR_INVALID_ARG);
		free(text);
	}
	p.records[0].thread = 0;
	p.functions.items[0].file_id = 12345;
	for (size_t i = 0; ls_exporters[i]; i++) {
		int rc = 0;
		size_t len;
		free(export(&p, ls_exporters[i]->name, LS_WEIGHT_SAMPLES, 1, &len, &rc));
		CHECK_EQ_INT(rc, LS_ERR_INVALID_ARG);
	}
	ls_profile_release(&p);
	CHECK(ls_exporter_find("svg") == NULL);
}

static void test_export__deep_and_wide(void)
{
	/* 2000-deep recursion in many stacks: every writer copes, the recursion adds no call */
	struct ls_profile p;
	CHECK_EQ_INT(ls_profile_init(&p), 0);
	uint32_t t = thread(&p, "T");
	uint32_t root = fn(&p, "root", "/r.py", 1), rec = fn(&p, "rec", "/r.py", 10);
	static uint32_t frames[2001];
	for (int leaf_line = 11; leaf_line < 111; leaf_line++) {
		frames[0] = frame(&p, rec, leaf_line);
		for (int k = 1; k < 2000; k++)
			frames[k] = frame(&p, rec, 12);
		frames[2000] = frame(&p, root, 2);
		record(&p, t, stack(&p, frames, 2001), 1, 1000, 1000);
	}
	for (size_t i = 0; ls_exporters[i]; i++) {
		size_t len;
		char *text = export_ok(&p, ls_exporters[i]->name, LS_WEIGHT_SAMPLES, 1, &len);
		CHECK(text && len > 0);
		if (text && strcmp(ls_exporters[i]->name, "callgrind") == 0) {
			CHECK_CONTAINS(text, "calls=100 10\n2 100 100 100\n");
			CHECK(strstr(text, "cfn=(2)\ncalls") == NULL); /* no rec -> rec call */
			CHECK_CONTAINS(text, "totals: 100 100 100\n");
		}
		free(text);
	}
	ls_profile_release(&p);
}

int main(void)
{
	RUN_TEST(test_export__collapsed_golden);
	RUN_TEST(test_export__collapsed_escapes_and_guards_the_count);
	RUN_TEST(test_export__callgrind_golden);
	RUN_TEST(test_export__callgrind_merges_equal_calls_without_lines);
	RUN_TEST(test_export__callgrind_names);
	RUN_TEST(test_export__speedscope_golden);
	RUN_TEST(test_export__speedscope_escapes_json);
	RUN_TEST(test_export__pprof_structure);
	RUN_TEST(test_export__pprof_qualifies_same_names);
	RUN_TEST(test_export__empty_profile);
	RUN_TEST(test_export__bad_ids_are_refused);
	RUN_TEST(test_export__deep_and_wide);
	int rc = testing_done();
	printf("%d passed, %d failed\n", testing_checks - testing_failures, testing_failures);
	return rc;
}
