/* code_check.c - proving code identity every few samples, as a recording does (walker.h
 * code_check_every_ns; ls_session_set_code_check_every).
 *
 * A sample proves a code object's identity by reading its header (and on <= 3.11 a probe of its
 * shown name) and comparing it with the cache (frames.c); the entry then records when
 * (proven_ns). With an interval set, a lean sample takes a code object from the cache unread when
 * its entry is long-lived (resolved code_aged_ns ago, the same object at every read since) and
 * was proven less than the interval ago; any other it reads, which proves it anew. The samples
 * that prove identity (ls_code_check_plan) read every code header and name their walks predict in
 * their batches; lean samples leave those out (ls_batch_keep), and read afresh only what they may
 * not take unread.
 *
 * So a code object freed and replaced by another at its address is misnamed for at most the
 * interval after the replacement, and only if it had lived code_aged_ns (not the code a program
 * keeps making and dropping), unless by the next read another object as like the first as its
 * header and name's text is back at the address. Each stale entry a read finds makes every sample
 * prove identity for the next LS_CODE_STRICT_NS.
 */
#include "walker.h"

void ls_code_check_plan(struct ls_walker *w, uint64_t now)
{
	w->code_sample_ns = now;
	if (w->code_cache.stale != w->code_stale_seen) {
		w->code_stale_seen = w->code_cache.stale;
		w->code_strict_until_ns = now + LS_CODE_STRICT_NS;
	}
	int prove = !w->code_check_every_ns || !w->code_all_aged || now < w->code_strict_until_ns ||
		    now - w->code_checked_ns >= w->code_check_every_ns;
	w->code_lean = !prove;
	if (prove)
		w->code_checked_ns = now;
	w->code_all_aged = 1; /* until this sample meets a young code object (frames.c) */
}
