/* calltree.h - merging sampled stacks into the call tree a flame graph draws, with self and
 * inclusive weights per node and per key (function, or function and line), for one or more series
 * (the diff view compares two).
 *
 * The caller maps every frame to a key (its function, or the frame itself for line granularity)
 * and gives each key a rank: siblings are ordered by rank, so the caller decides the order (by
 * name). Nodes come out in depth-first order: node 0 is the root (parent UINT32_MAX, key
 * UINT32_MAX), and parent[i] < i for every other node.
 *
 * Per key, `key_total` counts a stack once even when the key occurs several times in it
 * (recursion); `key_self` is the weight of the stacks whose leaf has that key. Empty stacks, and
 * stacks whose weights are all 0, are left out. Every index is checked: a frame, key or stack out
 * of range is LS_ERR_INVALID_ARG, never a read out of bounds.
 */
#ifndef LS_CALLTREE_H
#define LS_CALLTREE_H

#include <stddef.h>
#include <stdint.h>

struct ls_calltree_input {
	size_t n_stacks;
	const uint32_t *stack_offsets; /* n_stacks + 1 offsets into stack_frames, increasing */
	const uint32_t *stack_frames;  /* frame ids, each stack leaf first */
	size_t n_frames;
	const uint32_t *frame_key;     /* n_frames keys */
	size_t n_keys;
	const uint32_t *key_rank;      /* n_keys ranks: siblings in increasing rank */
	size_t n_series;
	const uint64_t *weights;       /* n_series x n_stacks: weights[k * n_stacks + s] */
};

/* Owned arrays, freed by ls_calltree_release(). Per-series arrays are n_series rows. */
struct ls_calltree {
	size_t n_nodes, n_series, n_keys;
	uint32_t *parent;    /* n_nodes */
	uint32_t *key;       /* n_nodes */
	uint64_t *self;      /* n_series x n_nodes */
	uint64_t *total;     /* n_series x n_nodes */
	uint64_t *key_self;  /* n_series x n_keys */
	uint64_t *key_total; /* n_series x n_keys */
};

/* Build the tree into *out (which must be zeroed or released). Returns 0, LS_ERR_INVALID_ARG for an
 * index out of range, or LS_ERR_NOMEM; on error *out holds nothing. */
int ls_calltree_build(const struct ls_calltree_input *in, struct ls_calltree *out);

void ls_calltree_release(struct ls_calltree *tree);

#endif
