/* export_pprof.c - pprof's profile.proto (github.com/google/pprof proto/profile.proto), uncompressed.
 *
 * A small hand-written protobuf encoder (varints, length-delimited fields, packed repeated
 * fields; no dependency). The profile has three sample types - samples/count, wall/nanoseconds,
 * cpu/nanoseconds - and the export's weight chooses the default one. One Sample per distinct
 * (thread, stack), location ids leaf first, with the string label thread=<thread name>. One
 * Function per function (name = the qualified name, " [file:first_line]" added when another
 * function has the same name, since pprof's default view groups by name alone; system_name = the
 * bare qualified name; filename; start_line), and one Location per (function, line) frame with a
 * single Line - or, when lines are off, one per function at its first line. Ids are the profile's
 * ids + 1 and only what samples use is written, in id order, so the output is deterministic.
 * period_type wall/nanoseconds, period, time_nanos and duration_nanos come from the profile's
 * meta, and the command line becomes a comment. The caller gzips the bytes (pprof reads both).
 * It writes no Mapping (pprof makes one up) and no addresses.
 */
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "export.h"
#include "export_common.h"
#include "ls_error.h"

/* profile.proto field numbers */
enum {
	PROFILE_SAMPLE_TYPE = 1,
	PROFILE_SAMPLE = 2,
	PROFILE_LOCATION = 4,
	PROFILE_FUNCTION = 5,
	PROFILE_STRING_TABLE = 6,
	PROFILE_TIME_NANOS = 9,
	PROFILE_DURATION_NANOS = 10,
	PROFILE_PERIOD_TYPE = 11,
	PROFILE_PERIOD = 12,
	PROFILE_COMMENT = 13,
	PROFILE_DEFAULT_SAMPLE_TYPE = 14,
	VALUE_TYPE_TYPE = 1,
	VALUE_TYPE_UNIT = 2,
	SAMPLE_LOCATION_ID = 1,
	SAMPLE_VALUE = 2,
	SAMPLE_LABEL = 3,
	LABEL_KEY = 1,
	LABEL_STR = 2,
	LOCATION_ID = 1,
	LOCATION_LINE = 4,
	LINE_FUNCTION_ID = 1,
	LINE_LINE = 2,
	FUNCTION_ID = 1,
	FUNCTION_NAME = 2,
	FUNCTION_SYSTEM_NAME = 3,
	FUNCTION_FILENAME = 4,
	FUNCTION_START_LINE = 5,
};

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

static int pb_varint(struct ls_buf *b, uint64_t v)
{
	uint8_t bytes[10];
	size_t n = 0;
	do {
		bytes[n] = (uint8_t)(v & 0x7F);
		v >>= 7;
		if (v)
			bytes[n] |= 0x80;
		n++;
	} while (v);
	return ls_buf_add(b, bytes, n);
}

/* A varint field; zero is the default and is left out, as protobuf encoders do. */
static int pb_uint(struct ls_buf *b, uint32_t field, uint64_t v)
{
	if (v == 0)
		return 0;
	int rc = pb_varint(b, (uint64_t)field << 3 | WIRE_VARINT);
	return rc ? rc : pb_varint(b, v);
}

static int pb_bytes(struct ls_buf *b, uint32_t field, const void *data, size_t len)
{
	int rc = pb_varint(b, (uint64_t)field << 3 | WIRE_LEN);
	if (!rc)
		rc = pb_varint(b, len);
	return rc ? rc : ls_buf_add(b, data, len);
}

/* A sub-message: `msg` holds its encoding; it is emptied for reuse. */
static int pb_message(struct ls_buf *b, uint32_t field, struct ls_buf *msg)
{
	int rc = pb_bytes(b, field, msg->data ? msg->data : "", msg->len);
	msg->len = 0;
	return rc;
}

/* int64 values saturate: profile.proto's values are signed. */
static uint64_t clamp63(uint64_t v)
{
	return v > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : v;
}

/* The output string table: index 0 is "", each profile string gets an index when first used. */
struct pb_strings {
	uint32_t *index_of; /* profile string id -> index, 0 = not yet (id 0 is "" = index 0) */
	struct ls_buf text; /* all entries back to back */
	size_t *offsets;    /* entry i is text[offsets[i] .. offsets[i + 1]) */
	uint32_t len;
	size_t cap;         /* of offsets, which holds len + 1 entries */
};

static int strings_add(struct pb_strings *t, const char *s, size_t len, uint32_t *index)
{
	int rc = ls_array_reserve((void **)&t->offsets, &t->cap, (size_t)t->len + 2, sizeof(*t->offsets));
	if (rc || (rc = ls_buf_add(&t->text, s, len)))
		return rc;
	if (t->len == 0)
		t->offsets[0] = 0;
	*index = t->len++;
	t->offsets[t->len] = t->text.len;
	return 0;
}

static int strings_id(struct pb_strings *t, const struct ls_profile *p, uint32_t id, uint32_t *index)
{
	if (id == 0 || t->index_of[id]) {
		*index = t->index_of[id];
		return 0;
	}
	size_t len;
	const char *s = ls_export_str(p, id, &len);
	int rc = strings_add(t, s, len, index);
	if (!rc)
		t->index_of[id] = *index;
	return rc;
}

struct pprof_writer {
	const struct ls_profile *p;
	int lines;
	struct pb_strings strings;
	struct ls_buf msg, sub; /* scratch for messages and their sub-messages */
	uint64_t *ids;          /* packed location ids of one sample */
	size_t ids_cap;
	uint8_t *ambiguous;
};

/* A ValueType {type, unit} of string indexes. */
static int value_type(struct pprof_writer *w, struct ls_buf *out, uint32_t field, uint32_t type, uint32_t unit)
{
	int rc = pb_uint(&w->msg, VALUE_TYPE_TYPE, type);
	if (rc || (rc = pb_uint(&w->msg, VALUE_TYPE_UNIT, unit)))
		return rc;
	return pb_message(out, field, &w->msg);
}

static int packed(struct ls_buf *b, uint32_t field, const uint64_t *v, size_t n, struct ls_buf *scratch)
{
	for (size_t i = 0; i < n; i++) {
		int rc = pb_varint(scratch, v[i]);
		if (rc)
			return rc;
	}
	return pb_message(b, field, scratch);
}

static int write_sample(struct pprof_writer *w, struct ls_buf *out, const struct ls_export_row *row, uint32_t thread_key)
{
	const struct ls_profile *p = w->p;
	size_t depth;
	const uint32_t *frames = ls_stacktab_get(&p->stacks, row->stack, &depth);
	int rc = ls_array_reserve((void **)&w->ids, &w->ids_cap, depth, sizeof(*w->ids));
	if (rc)
		return rc;
	for (size_t k = 0; k < depth; k++)
		w->ids[k] = (uint64_t)(w->lines ? frames[k] : p->frames.items[frames[k]].function_id) + 1;
	uint64_t values[3] = {clamp63(row->w.samples), clamp63(row->w.wall_ns), clamp63(row->w.cpu_ns)};
	uint32_t thread_name;
	if ((rc = strings_id(&w->strings, p, p->threads[row->thread].name_id, &thread_name)) || (rc = packed(&w->msg, SAMPLE_LOCATION_ID, w->ids, depth, &w->sub)) ||
	    (rc = packed(&w->msg, SAMPLE_VALUE, values, 3, &w->sub)))
		return rc;
	/* label thread=<name>: an empty name still gets its (empty) value written */
	if ((rc = pb_uint(&w->sub, LABEL_KEY, thread_key)) || (rc = pb_varint(&w->sub, (uint64_t)LABEL_STR << 3)) ||
	    (rc = pb_varint(&w->sub, thread_name)) || (rc = pb_message(&w->msg, SAMPLE_LABEL, &w->sub)))
		return rc;
	return pb_message(out, PROFILE_SAMPLE, &w->msg);
}

static int write_location(struct pprof_writer *w, struct ls_buf *out, uint64_t id, uint32_t function_id, int32_t line)
{
	int rc = pb_uint(&w->sub, LINE_FUNCTION_ID, (uint64_t)function_id + 1);
	if (rc || (line > 0 && (rc = pb_uint(&w->sub, LINE_LINE, (uint64_t)line))) || (rc = pb_uint(&w->msg, LOCATION_ID, id)) ||
	    (rc = pb_message(&w->msg, LOCATION_LINE, &w->sub)))
		return rc;
	return pb_message(out, PROFILE_LOCATION, &w->msg);
}

static int write_function(struct pprof_writer *w, struct ls_buf *out, uint32_t f)
{
	const struct ls_profile *p = w->p;
	const struct ls_function *fn = &p->functions.items[f];
	uint32_t name = 0, system_name = 0, file = 0;
	int rc;
	if (w->ambiguous[f]) {
		if ((rc = ls_export_display_name(&w->sub, p, f, 1)) ||
		    (rc = strings_add(&w->strings, w->sub.data, w->sub.len, &name)))
			return rc;
		w->sub.len = 0;
	}
	if ((rc = strings_id(&w->strings, p, fn->name_id, &system_name)) ||
	    (rc = strings_id(&w->strings, p, fn->file_id, &file)))
		return rc;
	if (!w->ambiguous[f])
		name = system_name;
	if ((rc = pb_uint(&w->msg, FUNCTION_ID, (uint64_t)f + 1)) || (rc = pb_uint(&w->msg, FUNCTION_NAME, name)) ||
	    (rc = pb_uint(&w->msg, FUNCTION_SYSTEM_NAME, system_name)) || (rc = pb_uint(&w->msg, FUNCTION_FILENAME, file)) ||
	    (fn->first_line > 0 && (rc = pb_uint(&w->msg, FUNCTION_START_LINE, (uint64_t)fn->first_line))))
		return rc;
	return pb_message(out, PROFILE_FUNCTION, &w->msg);
}

/* The whole profile, once the writer's tables are allocated: sample types, samples, locations,
 * functions, the profile's scalars and the string table last (all indexes are known by then). */
static int write_body(struct pprof_writer *w, const struct ls_export_row *rows, size_t nrows, uint8_t *used_frame,
		      uint8_t *used_fn, enum ls_export_weight weight, struct ls_buf *out)
{
	const struct ls_profile *p = w->p;
	static const char *const fixed[] = {"", "samples", "count", "wall", "nanoseconds", "cpu", "thread"};
	enum { EMPTY, SAMPLES, COUNT, WALL, NANOSECONDS, CPU, THREAD, NFIXED };
	uint32_t fx[NFIXED];
	int rc = 0;
	for (size_t i = 0; !rc && i < NFIXED; i++) /* string_table[0] = "", then the fixed strings */
		rc = strings_add(&w->strings, fixed[i], strlen(fixed[i]), &fx[i]);
	if (rc || (rc = value_type(w, out, PROFILE_SAMPLE_TYPE, fx[SAMPLES], fx[COUNT])) ||
	    (rc = value_type(w, out, PROFILE_SAMPLE_TYPE, fx[WALL], fx[NANOSECONDS])) ||
	    (rc = value_type(w, out, PROFILE_SAMPLE_TYPE, fx[CPU], fx[NANOSECONDS])))
		return rc;

	for (size_t r = 0; r < nrows; r++) {
		const struct ls_weights *x = &rows[r].w;
		if (!x->samples && !x->wall_ns && !x->cpu_ns)
			continue;
		if ((rc = write_sample(w, out, &rows[r], fx[THREAD])))
			return rc;
		size_t depth;
		const uint32_t *frames = ls_stacktab_get(&p->stacks, rows[r].stack, &depth);
		for (size_t k = 0; k < depth; k++) {
			used_frame[frames[k]] = 1;
			used_fn[p->frames.items[frames[k]].function_id] = 1;
		}
	}
	if (w->lines) {
		for (uint32_t id = 0; id < p->frames.len; id++)
			if (used_frame[id] && (rc = write_location(w, out, (uint64_t)id + 1, p->frames.items[id].function_id,
								   p->frames.items[id].line)))
				return rc;
	} else {
		for (uint32_t f = 0; f < p->functions.len; f++)
			if (used_fn[f] && (rc = write_location(w, out, (uint64_t)f + 1, f, p->functions.items[f].first_line)))
				return rc;
	}
	for (uint32_t f = 0; f < p->functions.len; f++)
		if (used_fn[f] && (rc = write_function(w, out, f)))
			return rc;

	uint32_t comment = 0;
	uint32_t default_type = weight == LS_WEIGHT_WALL ? fx[WALL] : weight == LS_WEIGHT_CPU ? fx[CPU] : fx[SAMPLES];
	if ((p->meta.command[0] && (rc = strings_add(&w->strings, p->meta.command, strlen(p->meta.command), &comment))) ||
	    (rc = value_type(w, out, PROFILE_PERIOD_TYPE, fx[WALL], fx[NANOSECONDS])) ||
	    (rc = pb_uint(out, PROFILE_PERIOD, clamp63(p->meta.period_ns))) ||
	    (rc = pb_uint(out, PROFILE_TIME_NANOS, clamp63(p->meta.start_unix_ns))) ||
	    (rc = pb_uint(out, PROFILE_DURATION_NANOS, clamp63(p->meta.duration_ns))) ||
	    (comment && (rc = pb_uint(out, PROFILE_COMMENT, comment))) ||
	    (rc = pb_uint(out, PROFILE_DEFAULT_SAMPLE_TYPE, default_type)))
		return rc;
	for (uint32_t i = 0; !rc && i < w->strings.len; i++)
		rc = pb_bytes(out, PROFILE_STRING_TABLE, w->strings.text.data + w->strings.offsets[i],
			      w->strings.offsets[i + 1] - w->strings.offsets[i]);
	return rc;
}

static int write_pprof(const struct ls_profile *p, const struct ls_export_options *o, struct ls_buf *out)
{
	struct pprof_writer w = {.p = p, .lines = o->lines};
	struct ls_export_row *rows = NULL;
	uint8_t *used_frame = NULL, *used_fn = NULL;
	size_t nrows = 0;
	int rc = ls_export_check(p);
	if (rc || (rc = ls_export_rows_collect(p, 0, &rows, &nrows)) || (rc = ls_export_ambiguous_names(p, &w.ambiguous)))
		goto fail;
	w.strings.index_of = calloc(p->strings.len ? p->strings.len : 1, sizeof(*w.strings.index_of));
	used_frame = calloc(p->frames.len ? p->frames.len : 1, 1);
	used_fn = calloc(p->functions.len ? p->functions.len : 1, 1);
	if (!w.strings.index_of || !used_frame || !used_fn)
		rc = LS_ERR_NOMEM;
	else
		rc = write_body(&w, rows, nrows, used_frame, used_fn, o->weight, out);
fail:
	free(rows);
	free(used_frame);
	free(used_fn);
	free(w.ambiguous);
	free(w.ids);
	free(w.strings.index_of);
	free(w.strings.offsets);
	ls_buf_release(&w.strings.text);
	ls_buf_release(&w.msg);
	ls_buf_release(&w.sub);
	return rc;
}

const struct ls_exporter ls_export_pprof = {"pprof", write_pprof};
