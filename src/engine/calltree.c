/* calltree.c - builds the call tree of a set of stacks (see calltree.h).
 *
 * One pass over the stacks walks each from its root frame to its leaf, finding or adding the child
 * (parent, key) in an open-addressing hash table, and adds the stack's weights to every node on
 * its path, to its leaf's self weight, and to each distinct key of the stack (a per-key stamp of
 * the last stack counted keeps recursion from counting twice). A second pass lists each node's
 * children, sorts them by key rank and numbers the nodes depth first.
 *
 * It does not know names, files or lines: the caller's keys and ranks carry all of that.
 */
#include "calltree.h"

#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "ls_error.h"

#define NO_NODE UINT32_MAX

struct child_table {
	uint64_t *keys;   /* (parent + 1) << 32 | key; 0 = empty slot */
	uint32_t *nodes;
	size_t cap, used;
};

static uint64_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static int table_grow(struct child_table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 1024;
	uint64_t *keys = calloc(cap, sizeof *keys);
	uint32_t *nodes = malloc(cap * sizeof *nodes);
	if (!keys || !nodes) {
		free(keys);
		free(nodes);
		return LS_ERR_NOMEM;
	}
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->keys[i])
			continue;
		size_t slot = hash64(t->keys[i]) & (cap - 1);
		while (keys[slot])
			slot = (slot + 1) & (cap - 1);
		keys[slot] = t->keys[i];
		nodes[slot] = t->nodes[i];
	}
	free(t->keys);
	free(t->nodes);
	t->keys = keys;
	t->nodes = nodes;
	t->cap = cap;
	return 0;
}

struct builder {
	size_t n_series;
	uint32_t *parent, *key;
	uint64_t *self, *total; /* node-major while building: [node * n_series + k] */
	size_t n_nodes, cap_nodes;
	struct child_table children;
};

static int builder_grow(struct builder *b)
{
	size_t cap = b->cap_nodes ? b->cap_nodes * 2 : 1024;
	size_t ns = b->n_series;
	if (ls_array_resize((void **)&b->parent, cap, sizeof *b->parent) < 0 ||
	    ls_array_resize((void **)&b->key, cap, sizeof *b->key) < 0 ||
	    ls_array_resize((void **)&b->self, cap * ns, sizeof *b->self) < 0 ||
	    ls_array_resize((void **)&b->total, cap * ns, sizeof *b->total) < 0)
		return LS_ERR_NOMEM;
	memset(b->self + b->cap_nodes * ns, 0, (cap - b->cap_nodes) * ns * sizeof *b->self);
	memset(b->total + b->cap_nodes * ns, 0, (cap - b->cap_nodes) * ns * sizeof *b->total);
	b->cap_nodes = cap;
	return 0;
}

/* A new node; NO_NODE when out of memory or out of node numbers. */
static uint32_t add_node(struct builder *b, uint32_t parent, uint32_t key)
{
	if (b->n_nodes >= UINT32_MAX - 1)
		return NO_NODE;
	if (b->n_nodes == b->cap_nodes && builder_grow(b) < 0)
		return NO_NODE;
	uint32_t node = (uint32_t)b->n_nodes++;
	b->parent[node] = parent;
	b->key[node] = key;
	return node;
}

/* The child of `parent` with `key`, added if new; NO_NODE when out of memory. */
static uint32_t child_of(struct builder *b, uint32_t parent, uint32_t key)
{
	uint64_t tag = ((uint64_t)parent + 1) << 32 | key;
	struct child_table *t = &b->children;
	if ((t->used + 1) * 2 > t->cap && table_grow(t) < 0)
		return NO_NODE;
	size_t slot = hash64(tag) & (t->cap - 1);
	while (t->keys[slot]) {
		if (t->keys[slot] == tag)
			return t->nodes[slot];
		slot = (slot + 1) & (t->cap - 1);
	}
	uint32_t node = add_node(b, parent, key);
	if (node == NO_NODE)
		return NO_NODE;
	t->keys[slot] = tag;
	t->nodes[slot] = node;
	t->used++;
	return node;
}

static int check_input(const struct ls_calltree_input *in)
{
	if (in->n_series == 0 || in->n_series > 64 || in->n_stacks >= UINT32_MAX || in->n_keys >= UINT32_MAX)
		return LS_ERR_INVALID_ARG;
	if (in->stack_offsets[0] != 0)
		return LS_ERR_INVALID_ARG;
	for (size_t s = 0; s < in->n_stacks; s++)
		if (in->stack_offsets[s + 1] < in->stack_offsets[s])
			return LS_ERR_INVALID_ARG;
	size_t n_refs = in->stack_offsets[in->n_stacks];
	for (size_t i = 0; i < n_refs; i++)
		if (in->stack_frames[i] >= in->n_frames)
			return LS_ERR_INVALID_ARG;
	for (size_t f = 0; f < in->n_frames; f++)
		if (in->frame_key[f] >= in->n_keys)
			return LS_ERR_INVALID_ARG;
	return 0;
}

/* Pass 1: the nodes in order of discovery with their weights, and the per-key sums. */
static int merge_stacks(const struct ls_calltree_input *in, struct builder *b, uint64_t *key_self,
			uint64_t *key_total)
{
	size_t ns = in->n_series;
	uint32_t *stamp = calloc(in->n_keys ? in->n_keys : 1, sizeof *stamp);
	uint32_t *path = NULL;
	size_t path_cap = 0;
	int rc = LS_ERR_NOMEM;
	if (!stamp || add_node(b, NO_NODE, NO_NODE) == NO_NODE)
		goto fail;
	for (size_t s = 0; s < in->n_stacks; s++) {
		uint32_t first = in->stack_offsets[s], end = in->stack_offsets[s + 1];
		const uint64_t *w = in->weights;
		int any = 0;
		for (size_t k = 0; k < ns; k++)
			any |= w[k * in->n_stacks + s] != 0;
		if (!any || first == end)
			continue;
		size_t depth = end - first;
		if (ls_array_reserve((void **)&path, &path_cap, depth, sizeof *path) < 0)
			goto fail;
		uint32_t node = 0;
		for (size_t d = 0; d < depth; d++) {
			uint32_t frame = in->stack_frames[end - 1 - d]; /* root first */
			node = child_of(b, node, in->frame_key[frame]);
			if (node == NO_NODE)
				goto fail;
			path[d] = node;
		}
		uint32_t leaf_key = in->frame_key[in->stack_frames[first]];
		for (size_t k = 0; k < ns; k++) {
			uint64_t weight = w[k * in->n_stacks + s];
			b->total[k] += weight;
			for (size_t d = 0; d < depth; d++)
				b->total[(size_t)path[d] * ns + k] += weight;
			b->self[(size_t)path[depth - 1] * ns + k] += weight;
			key_self[k * in->n_keys + leaf_key] += weight;
		}
		for (size_t d = 0; d < depth; d++) {
			uint32_t key = b->key[path[d]];
			if (stamp[key] == s + 1)
				continue;
			stamp[key] = (uint32_t)(s + 1);
			for (size_t k = 0; k < ns; k++)
				key_total[k * in->n_keys + key] += w[k * in->n_stacks + s];
		}
	}
	rc = 0;
fail:
	free(stamp);
	free(path);
	return rc;
}

/* Pass 2: depth-first order, siblings by key rank: order[new] = old. A child is sorted as
 * rank << 32 | node, so equal ranks keep the order of discovery. */
static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int depth_first(const struct builder *b, const uint32_t *key_rank, uint32_t *order)
{
	size_t n = b->n_nodes;
	uint32_t *first_child = calloc(n + 1, sizeof *first_child);
	uint64_t *children = malloc((n ? n : 1) * sizeof *children);
	uint32_t *fill = malloc((n + 1) * sizeof *fill);
	uint32_t *stack = malloc((n ? n : 1) * sizeof *stack);
	int rc = LS_ERR_NOMEM;
	if (!first_child || !children || !fill || !stack)
		goto fail;
	/* children of p are children[first_child[p] .. first_child[p + 1]) */
	for (size_t i = 1; i < n; i++)
		first_child[b->parent[i] + 1]++;
	for (size_t p = 0; p < n; p++)
		first_child[p + 1] += first_child[p];
	memcpy(fill, first_child, (n + 1) * sizeof *fill);
	for (size_t i = 1; i < n; i++)
		children[fill[b->parent[i]]++] = (uint64_t)key_rank[b->key[i]] << 32 | i;
	for (size_t p = 0; p < n; p++) {
		size_t count = first_child[p + 1] - first_child[p];
		if (count > 1)
			qsort(children + first_child[p], count, sizeof *children, compare_u64);
	}
	size_t top = 0, out = 0;
	stack[top++] = 0;
	while (top) {
		uint32_t node = stack[--top];
		order[out++] = node;
		for (uint32_t c = first_child[node + 1]; c > first_child[node]; c--)
			stack[top++] = (uint32_t)children[c - 1];
	}
	rc = 0;
fail:
	free(first_child);
	free(children);
	free(fill);
	free(stack);
	return rc;
}

int ls_calltree_build(const struct ls_calltree_input *in, struct ls_calltree *out)
{
	struct builder b = {.n_series = in->n_series};
	uint32_t *order = NULL, *new_index = NULL;
	size_t ns = in->n_series, nk = in->n_keys ? in->n_keys : 1;
	int rc = check_input(in);
	memset(out, 0, sizeof *out);
	if (rc < 0)
		return rc;
	rc = LS_ERR_NOMEM;
	out->key_self = calloc(ns * nk, sizeof *out->key_self);
	out->key_total = calloc(ns * nk, sizeof *out->key_total);
	if (!out->key_self || !out->key_total)
		goto fail;
	if ((rc = merge_stacks(in, &b, out->key_self, out->key_total)) < 0)
		goto fail;
	rc = LS_ERR_NOMEM;
	size_t n = b.n_nodes;
	order = malloc(n * sizeof *order);
	new_index = malloc(n * sizeof *new_index);
	out->parent = malloc(n * sizeof *out->parent);
	out->key = malloc(n * sizeof *out->key);
	out->self = malloc(ns * n * sizeof *out->self);
	out->total = malloc(ns * n * sizeof *out->total);
	if (!order || !new_index || !out->parent || !out->key || !out->self || !out->total)
		goto fail;
	if ((rc = depth_first(&b, in->key_rank, order)) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++)
		new_index[order[i]] = (uint32_t)i;
	for (size_t i = 0; i < n; i++) {
		uint32_t old = order[i];
		out->parent[i] = i ? new_index[b.parent[old]] : NO_NODE;
		out->key[i] = b.key[old];
		for (size_t k = 0; k < ns; k++) {
			out->self[k * n + i] = b.self[(size_t)old * ns + k];
			out->total[k * n + i] = b.total[(size_t)old * ns + k];
		}
	}
	out->n_nodes = n;
	out->n_series = ns;
	out->n_keys = in->n_keys;
	rc = 0;
fail:
	free(order);
	free(new_index);
	free(b.parent);
	free(b.key);
	free(b.self);
	free(b.total);
	free(b.children.keys);
	free(b.children.nodes);
	if (rc < 0)
		ls_calltree_release(out);
	return rc;
}

void ls_calltree_release(struct ls_calltree *tree)
{
	free(tree->parent);
	free(tree->key);
	free(tree->self);
	free(tree->total);
	free(tree->key_self);
	free(tree->key_total);
	memset(tree, 0, sizeof *tree);
}
