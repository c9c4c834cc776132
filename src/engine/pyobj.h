/* pyobj.h - read CPython str and bytes objects out of the target.
 *
 * Strings: compact ASCII and compact non-ASCII str objects (the only kinds code objects hold),
 * transcoded from Latin-1 / UCS-2 / UCS-4 to UTF-8 ourselves (the object's cached utf8 may be
 * NULL). Bytes: the payload of a bytes object. Both are bounded and checked: a length or kind that
 * makes no sense is LS_ERR_BAD_STRING, an unreadable address LS_ERR_READ.
 */
#ifndef LS_PYOBJ_H
#define LS_PYOBJ_H

#include <stddef.h>
#include <stdint.h>

#include "layout.h"
#include "proc.h"

#define LS_STR_MAX_CHARS 4096                      /* names and paths longer than this are refused */
#define LS_STR_MAX_UTF8 (LS_STR_MAX_CHARS * 4 + 1)

/* Read the str at addr as UTF-8 into buf (cap >= LS_STR_MAX_UTF8), NUL terminated; *len gets the
 * byte length. 0, LS_ERR_READ, LS_ERR_BAD_STRING. */
int ls_pystr_read(struct ls_proc *proc, const struct ls_layout *layout, uint64_t addr, char *buf, size_t cap,
		  size_t *len);

/* A str's identity by content, from the first bytes of the object (a probe): its length, cached
 * hash, state word and as much of its text as the probe holds. Two str objects that were at one
 * address at different times have the same fingerprint only if they agree in all of that. */
#define LS_STR_PROBE 96
/* How many bytes to probe at addr: LS_STR_PROBE, less when that would cross into the next page
 * (which may be unmapped), never less than the str header (the object itself spans it). */
size_t ls_pystr_probe_len(const struct ls_layout *layout, uint64_t addr);
/* The fingerprint of the probe (n bytes from the object's start), never 0; 0 when the probe does
 * not hold a str header. */
uint64_t ls_pystr_fingerprint(const struct ls_layout *layout, const uint8_t *probe, size_t n);

/* Read the payload of the bytes object at addr into a new malloc'd buffer (*out, *len), at most
 * max_len bytes. 0, LS_ERR_READ, LS_ERR_BAD_STRING (longer than max_len), LS_ERR_NOMEM. */
int ls_pybytes_read(struct ls_proc *proc, const struct ls_layout *layout, uint64_t addr, size_t max_len,
		    uint8_t **out, size_t *len);

/* Transcode `n` code points of `kind` (1, 2, 4) to UTF-8. Returns the bytes written (cap must be
 * >= n*4+1); lone surrogates and invalid code points become U+FFFD. */
size_t ls_ucs_to_utf8(const uint8_t *src, size_t n, int kind, char *dst, size_t cap);

#endif
