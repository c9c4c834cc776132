/* code.h - code objects: the fields we validate, and a cache of decoded code objects.
 *
 * A sample reads the header of every code object on the stack (one batched read per thread,
 * shared with the sample's other threads for at most 2 ms: frames.c; a lean sample of a recording
 * takes the long-lived ones from the cache unread: walker.h code_check_every_ns);
 * ls_code_resolve() then either finds a cache entry for that address whose validator (type,
 * filename, name, qualname and line-table pointers, first line, size) equals the fresh header, or
 * decodes the object again (strings, line table) and replaces the entry. A code object that was
 * freed and whose address was reused for another one therefore never yields the old name: its
 * validator differs, or - if every pointer is the same - it names the same live objects. (A
 * recording takes a long-lived object unread for up to code_check_every_ns after its last proof,
 * and may misname it that long after a replacement: code_check.c.)
 */
#ifndef LS_CODE_H
#define LS_CODE_H

#include <stdint.h>

#include "functab.h"
#include "layout.h"
#include "linetable.h"
#include "proc.h"
#include "strtab.h"
#include "target.h"

#define LS_CODE_MAX_SIZE 512 /* sizeof(PyCodeObject) is about 200 bytes on every version */
#define LS_CODE_UNREAD UINT32_MAX /* ls_code_resolve's epoch for a header taken from the cache unread */

struct ls_code_header {
	uint64_t type, filename, name, qualname, linetable;
	int32_t first_line;
	int32_t first_traceable; /* -1 when the version has none */
	int64_t code_units;      /* ob_size on 3.11+ (code units); -1 before */
	uint32_t version;        /* 3.12+: co_version, unique per code object while non-zero; 0 = none */
	uint32_t frame_words;    /* 3.11+: words its frames take on the data stack; 0 = unknown */
	int32_t flags;           /* co_flags, or -1 when unknown */
	/* where version cannot tell two code objects apart: the fingerprint of the name shown
	 * (ls_pystr_fingerprint), set by the caller after a probe; 0 until then */
	uint64_t name_print;
};

/* Whether the header's identity needs its name's fingerprint: the version has no co_version, or
 * its count wrapped to 0. Every field of a new code object can be where a freed one's was (the
 * allocator reuses blocks in the order they were freed), so addresses alone prove nothing. */
int ls_code_header_needs_name_print(const struct ls_layout *layout, const struct ls_code_header *h);
/* The str the profile shows for the code object: its qualified name where the version has one. */
uint64_t ls_code_header_shown_name(const struct ls_code_header *h);

struct ls_code_entry {
	uint64_t addr; /* 0 = empty slot */
	uint64_t since_ns;  /* monotonic time this object was first resolved here (a new one at addr starts again) */
	uint64_t proven_ns; /* ... and last proven the same (a header read and compared, or the code epoch) */
	struct ls_code_header header;
	uint32_t epoch; /* the target's code epoch when the header was last read, 0 = none (frames.c) */
	uint32_t function_id;
	struct ls_line_ranges lines;
};

struct ls_code_cache {
	struct ls_code_entry *slots;
	uint32_t nslots, used;
	uint64_t hits, misses, stale;
};

/* Everything a resolution needs besides the cache: where to read and where to intern. */
struct ls_code_context {
	struct ls_proc *proc;
	const struct ls_target *target;
	struct ls_strtab *strings;
	struct ls_functab *functions;
};

int ls_code_cache_init(struct ls_code_cache *cache);
void ls_code_cache_release(struct ls_code_cache *cache);

/* Extract the header fields from `raw` (layout->co_size bytes of the object). Returns 0, or
 * LS_ERR_TORN if it is not a code object (type mismatch, absurd sizes). */
int ls_code_header_parse(const struct ls_code_context *ctx, const uint8_t *raw, struct ls_code_header *out);

/* The cache entry for the code object at addr with the freshly read header `h`; decodes and
 * inserts on a miss (since_ns = now_ns), and stamps the entry with `epoch` (a code epoch read
 * before h was) and proven_ns = now_ns (a time no later than h's read); with LS_CODE_UNREAD (h was
 * taken from the cache: no proof) it leaves both as they are. *out is borrowed, valid until the next resolve. 0, LS_ERR_READ,
 * LS_ERR_BAD_STRING, LS_ERR_BAD_LINETABLE, LS_ERR_NOMEM. */
int ls_code_resolve(struct ls_code_cache *cache, const struct ls_code_context *ctx, uint64_t addr,
		    const struct ls_code_header *h, uint32_t epoch, uint64_t now_ns, const struct ls_code_entry **out);

/* The entry for addr if its header was read under this very code epoch (non-zero), else NULL. */
const struct ls_code_entry *ls_code_cache_epoch_entry(struct ls_code_cache *cache, uint64_t addr, uint32_t epoch);
/* The entry for addr if the object there was first resolved at least min_age_ns before now_ns and
 * has been the same object at every read since, else NULL (code_check.c: a long-lived code object,
 * which a lean sample takes unread while its last proof, proven_ns, is recent). */
const struct ls_code_entry *ls_code_cache_aged_entry(struct ls_code_cache *cache, uint64_t addr, uint64_t now_ns,
						     uint64_t min_age_ns);

#endif
