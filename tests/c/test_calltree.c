/* test_calltree.c - C tests of the call-tree builder (calltree.h): a hand-checked tree with
 * recursion and sibling order by rank, two series, stacks left out (empty, zero weight), malformed
 * input refused, and random inputs checked for the tree's invariants (parent before child, every
 * total = self + children's totals, the root = every stack's weight). Runs under ASan and UBSan.
 */
#include <stdlib.h>
#include <string.h>

#include "calltree.h"
#include "ls_error.h"
#include "testing.h"

static void test_calltree__hand_checked(void)
{
	/* frames: 0 a:1, 1 a:2 (recursion), 2 b, 3 c; keys = functions a=0 b=1 c=2; ranks c < b < a */
	uint32_t frame_key[] = {0, 0, 1, 2};
	uint32_t key_rank[] = {2, 1, 0};
	/* stacks, leaf first: s0 = a -> a -> b (b leaf), s1 = a, s2 = a -> c, s3 empty, s4 = c (weight 0) */
	uint32_t frames[] = {2, 1, 0, 0, 3, 0, 3};
	uint32_t offsets[] = {0, 3, 4, 6, 6, 7};
	uint64_t weights[] = {10, 5, 7, 100, 0, /* series 1 */ 1, 0, 0, 0, 0};
	struct ls_calltree_input in = {5, offsets, frames, 4, frame_key, 3, key_rank, 2, weights};
	struct ls_calltree t = {0};
	CHECK_EQ_INT(ls_calltree_build(&in, &t), 0);
	/* root, a, then a's children by rank: c before a; then b under the inner a */
	CHECK_EQ_INT(t.n_nodes, 5);
	uint32_t want_key[] = {UINT32_MAX, 0, 2, 0, 1};
	uint32_t want_parent[] = {UINT32_MAX, 0, 1, 1, 3};
	uint64_t want_total0[] = {22, 22, 7, 10, 10};
	uint64_t want_self0[] = {0, 5, 7, 0, 10};
	uint64_t want_total1[] = {1, 1, 0, 1, 1};
	for (size_t i = 0; i < 5 && t.n_nodes == 5; i++) {
		CHECK_EQ_INT(t.key[i], want_key[i]);
		CHECK_EQ_INT(t.parent[i], want_parent[i]);
		CHECK_EQ_INT(t.total[i], want_total0[i]);
		CHECK_EQ_INT(t.self[i], want_self0[i]);
		CHECK_EQ_INT(t.total[5 + i], want_total1[i]);
	}
	/* per key: a counted once per stack although s0 holds it twice */
	CHECK_EQ_INT(t.key_total[0], 22);
	CHECK_EQ_INT(t.key_self[0], 5);
	CHECK_EQ_INT(t.key_total[1], 10);
	CHECK_EQ_INT(t.key_self[1], 10);
	CHECK_EQ_INT(t.key_total[2], 7);
	CHECK_EQ_INT(t.key_total[3 + 0], 1);
	ls_calltree_release(&t);
}

static void test_calltree__malformed_input(void)
{
	uint32_t frame_key[] = {0};
	uint32_t key_rank[] = {0};
	uint32_t frames[] = {1};
	uint32_t offsets[] = {0, 1};
	uint64_t weights[] = {1};
	struct ls_calltree t = {0};
	struct ls_calltree_input in = {1, offsets, frames, 1, frame_key, 1, key_rank, 1, weights};
	CHECK_EQ_INT(ls_calltree_build(&in, &t), LS_ERR_INVALID_ARG); /* frame 1 of 1 */
	CHECK(t.parent == NULL);
	frames[0] = 0;
	frame_key[0] = 1;
	CHECK_EQ_INT(ls_calltree_build(&in, &t), LS_ERR_INVALID_ARG); /* key 1 of 1 */
	frame_key[0] = 0;
	in.n_series = 0;
	CHECK_EQ_INT(ls_calltree_build(&in, &t), LS_ERR_INVALID_ARG);
	in.n_series = 1;
	uint32_t bad_offsets[] = {1, 1};
	in.stack_offsets = bad_offsets;
	CHECK_EQ_INT(ls_calltree_build(&in, &t), LS_ERR_INVALID_ARG);
	in.stack_offsets = offsets;
	CHECK_EQ_INT(ls_calltree_build(&in, &t), 0);
	CHECK_EQ_INT(t.n_nodes, 2);
	ls_calltree_release(&t);
}

static void test_calltree__random_invariants(void)
{
	srand(12345);
	for (int round = 0; round < 200; round++) {
		size_t n_stacks = (size_t)(rand() % 300), n_frames = 1 + (size_t)(rand() % 50), n_keys = 1 + (size_t)(rand() % 20);
		size_t ns = 1 + (size_t)(rand() % 3);
		uint32_t *offsets = malloc((n_stacks + 1) * sizeof *offsets);
		uint32_t *frames = malloc((n_stacks * 40 + 1) * sizeof *frames);
		uint32_t *frame_key = malloc(n_frames * sizeof *frame_key);
		uint32_t *key_rank = malloc(n_keys * sizeof *key_rank);
		uint64_t *weights = malloc((ns * n_stacks + 1) * sizeof *weights);
		offsets[0] = 0;
		for (size_t s = 0; s < n_stacks; s++) {
			size_t depth = (size_t)(rand() % 40);
			for (size_t d = 0; d < depth; d++)
				frames[offsets[s] + d] = (uint32_t)(rand() % (int)n_frames);
			offsets[s + 1] = offsets[s] + (uint32_t)depth;
		}
		for (size_t f = 0; f < n_frames; f++)
			frame_key[f] = (uint32_t)(rand() % (int)n_keys);
		for (size_t k = 0; k < n_keys; k++)
			key_rank[k] = (uint32_t)(rand() % 5);
		uint64_t expected_root[3] = {0, 0, 0};
		for (size_t k = 0; k < ns; k++)
			for (size_t s = 0; s < n_stacks; s++) {
				weights[k * n_stacks + s] = (uint64_t)(rand() % 4);
				if (offsets[s + 1] > offsets[s])
					expected_root[k] += weights[k * n_stacks + s];
			}
		struct ls_calltree_input in = {n_stacks, offsets, frames, n_frames, frame_key, n_keys, key_rank, ns, weights};
		struct ls_calltree t = {0};
		CHECK_EQ_INT(ls_calltree_build(&in, &t), 0);
		uint64_t *children = calloc(ns * t.n_nodes + 1, sizeof *children);
		for (size_t i = 1; i < t.n_nodes; i++) {
			CHECK(t.parent[i] < i);
			for (size_t k = 0; k < ns; k++)
				children[k * t.n_nodes + t.parent[i]] += t.total[k * t.n_nodes + i];
			/* siblings in rank order: the previous node with the same parent ranks no higher */
			for (size_t j = i - 1; j > 0; j--)
				if (t.parent[j] == t.parent[i]) {
					CHECK(key_rank[t.key[j]] <= key_rank[t.key[i]]);
					break;
				}
		}
		for (size_t k = 0; k < ns; k++) {
			CHECK_EQ_INT(t.total[k * t.n_nodes], expected_root[k]);
			for (size_t i = 0; i < t.n_nodes; i++)
				CHECK_EQ_INT(t.total[k * t.n_nodes + i], t.self[k * t.n_nodes + i] + children[k * t.n_nodes + i]);
		}
		free(children);
		ls_calltree_release(&t);
		free(offsets);
		free(frames);
		free(frame_key);
		free(key_rank);
		free(weights);
	}
}

int main(void)
{
	RUN_TEST(test_calltree__hand_checked);
	RUN_TEST(test_calltree__malformed_input);
	RUN_TEST(test_calltree__random_invariants);
	return testing_done();
}
