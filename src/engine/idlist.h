/* idlist.h - lists of integer ids as the dashboard moves them: the stored form of a stack
 * ("[12,7,3]", the profile file's stacks table) parsed into flat arrays, ids renumbered densely,
 * and integer arrays written as JSON.
 *
 * The text comes from a profile file, which may be damaged: every parse is bounded by the text's
 * length and refuses anything but "[" digits "," ... "]" (spaces allowed) with values < 2^32.
 */
#ifndef LS_IDLIST_H
#define LS_IDLIST_H

#include <stddef.h>
#include <stdint.h>

/* Parse one list "[a,b,...]" of len bytes, appending its values to out[*n..cap). Returns 0,
 * LS_ERR_INVALID_ARG for malformed text, or LS_ERR_NOMEM when the values would pass cap (the
 * caller grows out and parses again). *n is only advanced on success. */
int ls_idlist_parse(const char *text, size_t len, uint32_t *out, size_t cap, size_t *n);

/* Renumber ids densely in increasing order of their values: distinct[0..*n_distinct) gets the
 * sorted distinct values of ids[0..n), and renumbered[i] the position of ids[i] in it. distinct
 * and renumbered hold n entries each. Linear time when the values are small next to n (a table by
 * value), else a sort. Returns 0 or LS_ERR_NOMEM. */
int ls_idlist_renumber(const uint32_t *ids, size_t n, uint32_t *distinct, size_t *n_distinct,
		       uint32_t *renumbered);

/* out[i] = table[index[i]], or fallback where index[i] is negative. LS_ERR_INVALID_ARG when an
 * index is past the table. */
int ls_idlist_gather(const int32_t *index, size_t n, const int32_t *table, size_t table_len, int32_t fallback,
		     int32_t *out);

/* The JSON text of an array of n integers ("[1,-2,3]"): signed when is_signed, of width 4 or 8
 * bytes. out needs ls_idlist_json_size(n) bytes; returns the length written (no NUL). */
size_t ls_idlist_json_size(size_t n);
size_t ls_idlist_json(const void *values, size_t n, int width, int is_signed, char *out);

#endif
