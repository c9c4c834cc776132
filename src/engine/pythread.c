/* pythread.c - a threading.Thread's name from its _bootstrap frame (see pythread.h). The object
 * model below was measured on 3.8.18, 3.9.18, 3.10.13, 3.11.7 (and Debian's 3.11.2), 3.12.1 and
 * 3.13.0 x86_64 release builds (tests/integration/test_thread_names.py checks every one). */
#include "pythread.h"

#include <string.h>

#include "fields.h"
#include "ls_error.h"
#include "pyobj.h"

enum attrs_kind {
	ATTRS_DICTOFFSET = 1, /* 3.8-3.10: a dict at self + tp_dictoffset */
	ATTRS_MANAGED_311,    /* 3.11: dict at self - 24, else values at self - 32 */
	ATTRS_MANAGED_312,    /* 3.12: self - 24 holds the dict, or the values pointer minus one (bit 0 set) */
	ATTRS_INLINE_313,     /* 3.13: values inline at self + tp_basicsize while valid, else the dict at self - 24 */
};

struct object_model {
	int32_t frame_localsplus;  /* a frame's first local */
	enum attrs_kind attrs;
	int classic_keys;          /* 3.8-3.10 PyDictKeysObject, else the 3.11+ one */
	int32_t ht_cached_keys;    /* PyHeapTypeObject.ht_cached_keys (3.11+) */
	int32_t values_start;      /* where values[] begins in PyDictValues (3.13: after 8 bytes) */
};

/* PyTypeObject, PyDictObject: the same offsets in every supported version */
#define TP_BASICSIZE 32
#define TP_FLAGS 168
#define TP_DICTOFFSET 288
#define TYPE_READ_MAX 1024
#define FLAG_INLINE_VALUES (1ul << 2)
#define FLAG_MANAGED_DICT (1ul << 4)
#define FLAG_HEAPTYPE (1ul << 9)
#define DICT_KEYS 32
#define DICT_VALUES 40
#define MAX_ENTRIES 256 /* a Thread has about a dozen attributes */

static const struct object_model *model_of(const struct ls_layout *l)
{
	static const struct object_model models[] = {
		[8] = {360, ATTRS_DICTOFFSET, 1, -1, 0},
		[9] = {360, ATTRS_DICTOFFSET, 1, -1, 0},
		[10] = {352, ATTRS_DICTOFFSET, 1, -1, 0},
		[11] = {72, ATTRS_MANAGED_311, 0, 872, 0},
		[12] = {72, ATTRS_MANAGED_312, 0, 880, 0},
		[13] = {72, ATTRS_INLINE_313, 0, 880, 8},
	};
	if (l->free_threaded || l->minor < 8 || l->minor > 13)
		return NULL;
	return &models[l->minor];
}

int ls_pythread_supported(const struct ls_layout *layout)
{
	return model_of(layout) != NULL;
}

static int read_u64(struct ls_proc *proc, uint64_t addr, uint64_t *out)
{
	if (!addr || addr % 8)
		return LS_ERR_READ;
	return ls_proc_read_u64(proc, addr, out);
}

/* The index of the entry whose key is the str "_name" among the n entries at `entries` (each
 * `size` bytes, the key at key_off), or -1; *value gets the entry's own value pointer. */
static int find_name_entry(struct ls_proc *proc, const struct ls_layout *l, uint64_t entries, size_t n,
			   size_t size, size_t key_off, uint64_t *value)
{
	uint8_t buf[MAX_ENTRIES * 24];
	if (n == 0 || n > MAX_ENTRIES || ls_proc_read(proc, entries, buf, n * size) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		uint64_t key = ls_get_u64(buf, i * size + key_off);
		char text[LS_STR_MAX_UTF8];
		size_t len;
		if (!key || key % 8 || ls_pystr_read(proc, l, key, text, sizeof(text), &len) != 0)
			continue; /* a deleted entry, or not a str */
		if (len == 5 && memcmp(text, "_name", 5) == 0) {
			*value = ls_get_u64(buf, i * size + key_off + 8);
			return (int)i;
		}
	}
	return -1;
}

/* The `_name` entry of a keys object: its index and (for a combined table) its value. */
static int keys_lookup(struct ls_proc *proc, const struct ls_layout *l, const struct object_model *m, uint64_t keys,
		       uint64_t *value)
{
	uint8_t h[40];
	if (!keys || keys % 8 || ls_proc_read(proc, keys, h, sizeof(h)) != 0)
		return -1;
	if (m->classic_keys) {
		uint64_t size = ls_get_u64(h, 8), n = ls_get_u64(h, 32);
		if (size < 8 || size > (1u << 20) || (size & (size - 1)) || n > size)
			return -1;
		uint64_t index_bytes = size <= 0xff ? 1 : size <= 0xffff ? 2 : 4;
		return find_name_entry(proc, l, keys + 40 + size * index_bytes, (size_t)n, 24, 8, value);
	}
	unsigned log2_size = h[8], log2_index_bytes = h[9], kind = h[10];
	uint64_t n = ls_get_u64(h, 24);
	if (log2_size < 3 || log2_size > 20 || log2_index_bytes < log2_size || log2_index_bytes > log2_size + 3 ||
	    kind > 2 || n > (1ull << log2_size))
		return -1;
	size_t size = kind == 0 ? 24 : 16; /* general keys keep the hash too */
	return find_name_entry(proc, l, keys + 32 + (1ull << log2_index_bytes), (size_t)n, size, size - 16, value);
}

/* The `_name` value of a dict object. */
static int dict_lookup(struct ls_proc *proc, const struct ls_layout *l, const struct object_model *m, uint64_t dict,
		       uint64_t *value)
{
	uint8_t d[48];
	if (!dict || dict % 8 || ls_proc_read(proc, dict, d, sizeof(d)) != 0)
		return LS_ERR_READ;
	uint64_t values = ls_get_u64(d, DICT_VALUES);
	int i = keys_lookup(proc, l, m, ls_get_u64(d, DICT_KEYS), value);
	if (i < 0)
		return LS_ERR_NOT_STARTED;
	if (values) /* a split table: the keys are shared, the values are the instance's */
		return read_u64(proc, values + (uint64_t)m->values_start + 8 * (uint64_t)i, value);
	return 0;
}

/* The `_name` value kept in a values array whose keys are the class's cached keys. */
static int values_lookup(struct ls_proc *proc, const struct ls_layout *l, const struct object_model *m,
			 const uint8_t *type, uint64_t values, uint64_t *value)
{
	uint64_t unused;
	int i = keys_lookup(proc, l, m, ls_get_u64(type, (size_t)m->ht_cached_keys), &unused);
	if (i < 0)
		return LS_ERR_NOT_STARTED;
	return read_u64(proc, values + (uint64_t)m->values_start + 8 * (uint64_t)i, value);
}

static int attribute_value(struct ls_proc *proc, const struct ls_layout *l, const struct object_model *m,
			   uint64_t self, uint64_t *value)
{
	uint64_t type_addr, word;
	uint8_t type[TYPE_READ_MAX];
	size_t type_len = m->ht_cached_keys > 0 ? (size_t)m->ht_cached_keys + 8 : TP_DICTOFFSET + 8;
	int rc = read_u64(proc, self + (uint64_t)l->ob_type, &type_addr);
	if (rc || (rc = (type_addr && type_addr % 8 == 0) ? ls_proc_read(proc, type_addr, type, type_len) : LS_ERR_READ))
		return rc;
	uint64_t flags = ls_get_u64(type, TP_FLAGS);
	int64_t basicsize = (int64_t)ls_get_u64(type, TP_BASICSIZE), dictoffset = (int64_t)ls_get_u64(type, TP_DICTOFFSET);
	if (!(flags & FLAG_HEAPTYPE) || basicsize < 16 || basicsize > 4096)
		return LS_ERR_NOT_STARTED; /* not an instance of a Python class */
	switch (m->attrs) {
	case ATTRS_DICTOFFSET:
		if (dictoffset <= 0 || dictoffset > 4096 || (rc = read_u64(proc, self + (uint64_t)dictoffset, &word)))
			return rc ? rc : LS_ERR_NOT_STARTED;
		return dict_lookup(proc, l, m, word, value);
	case ATTRS_MANAGED_311:
		if (!(flags & FLAG_MANAGED_DICT) || (rc = read_u64(proc, self - 24, &word)))
			return rc ? rc : LS_ERR_NOT_STARTED;
		if (word)
			return dict_lookup(proc, l, m, word, value);
		if ((rc = read_u64(proc, self - 32, &word)))
			return rc;
		return word ? values_lookup(proc, l, m, type, word, value) : LS_ERR_NOT_STARTED;
	case ATTRS_MANAGED_312:
		if (!(flags & FLAG_MANAGED_DICT) || (rc = read_u64(proc, self - 24, &word)))
			return rc ? rc : LS_ERR_NOT_STARTED;
		if (word & 1) /* the values pointer, stored minus one */
			return values_lookup(proc, l, m, type, word + 1, value);
		return word ? dict_lookup(proc, l, m, word, value) : LS_ERR_NOT_STARTED;
	case ATTRS_INLINE_313:
		if (flags & FLAG_INLINE_VALUES) {
			uint8_t header[8]; /* capacity, size, embedded, valid */
			uint64_t values = self + (uint64_t)basicsize;
			if ((rc = ls_proc_read(proc, values, header, sizeof(header))))
				return rc;
			if (header[3])
				return values_lookup(proc, l, m, type, values, value);
		}
		if (!(flags & FLAG_MANAGED_DICT) || (rc = read_u64(proc, self - 24, &word)))
			return rc ? rc : LS_ERR_NOT_STARTED;
		return word ? dict_lookup(proc, l, m, word, value) : LS_ERR_NOT_STARTED;
	}
	return LS_ERR_UNSUPPORTED_VERSION;
}

/* Cut a UTF-8 string to fit cap bytes (NUL included) at a character boundary. */
static void cut_utf8(char *text, size_t len, size_t cap)
{
	if (len < cap)
		return;
	size_t end = cap - 1;
	while (end > 0 && ((unsigned char)text[end] & 0xC0) == 0x80)
		end--;
	text[end] = 0;
}

int ls_pythread_name(struct ls_proc *proc, const struct ls_layout *layout, uint64_t frame_addr, char *buf,
		     size_t cap)
{
	const struct object_model *m = model_of(layout);
	if (!m || cap < 8)
		return LS_ERR_UNSUPPORTED_VERSION;
	buf[0] = 0;
	uint64_t self, value = 0;
	int rc = read_u64(proc, frame_addr + (uint64_t)m->frame_localsplus, &self);
	if (rc)
		return rc;
	if (!self || self % 8)
		return LS_ERR_NOT_STARTED;
	if ((rc = attribute_value(proc, layout, m, self, &value)))
		return rc;
	if (!value || value % 8)
		return LS_ERR_NOT_STARTED;
	char text[LS_STR_MAX_UTF8];
	size_t len;
	if ((rc = ls_pystr_read(proc, layout, value, text, sizeof(text), &len)))
		return rc;
	cut_utf8(text, len, cap);
	memcpy(buf, text, strlen(text) + 1);
	return 0;
}
