/* recheck.c - the <= 3.10 chain's re-check (see walker.h ls_frames_recheck): after a walk, read
 * every frame's links and state again in one batch and decide what of the chain is the thread's
 * stack now: all of it, the part below the frames that returned meanwhile, or (torn) the outer
 * part that is still in place.
 */
#include <string.h>

#include "array.h"
#include "ls_error.h"
#include "walker.h"

/* The re-check reads, for each frame, one range from f_back through the byte that says whether
 * the frame is on a stack (fr_state), at least f_back and f_code: recheck_words u64 words a frame. */
static size_t recheck_words(const struct ls_layout *l)
{
	int32_t end = l->fr_state >= 0 && l->fr_state + 1 > l->fr_back + 16 ? l->fr_state + 1 : l->fr_back + 16;
	return (size_t)(end - l->fr_back + 7) / 8;
}

static uint64_t recheck_back(const struct ls_walker *w, size_t i)
{
	return w->recheck[1 + i * w->recheck_stride];
}

static uint64_t recheck_code(const struct ls_walker *w, size_t i)
{
	return w->recheck[1 + i * w->recheck_stride + 1];
}

/* Whether frame i was on a stack when re-checked: 3.8/3.9 f_executing is 1 from the frame's entry
 * into the eval loop until it leaves it; 3.10 f_state is FRAME_EXECUTING (0) or FRAME_UNWINDING
 * (2, an exception passing through it). A frame that returned keeps its f_back and f_code (it may
 * wait as its code object's spare frame), so only this byte tells it from a live one. */
static int recheck_on_stack(const struct ls_walker *w, size_t i)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	if (l->fr_state < 0)
		return 0;
	const uint8_t *fields = (const uint8_t *)&w->recheck[1 + i * w->recheck_stride];
	int8_t state = (int8_t)fields[l->fr_state - l->fr_back];
	return l->minor <= 9 ? state == 1 : state == 0 || state == 2;
}

/* Whether frame i of the count walked still holds as the walk read it: re-read, its code object
 * and its caller link unchanged (the outermost's link NULL unless the chain was cut short). */
static int recheck_frame_holds(const struct ls_walker *w, size_t i, size_t count, int truncated)
{
	uint64_t want_back = i + 1 < count ? w->raw[i + 1].addr : 0;
	return !w->recheck_status[i + 1] && recheck_code(w, i) == w->raw[i].code &&
	       (recheck_back(w, i) == want_back || (truncated && i + 1 == count));
}

/* Whether the chain of count frames ends at the thread's own outermost frame, as its last whole
 * walk found it (a chain cut short does not). */
static int ends_at_known_base(const struct ls_walker *w, const struct ls_stack_start *start, size_t count,
			      int truncated)
{
	return !truncated && count > 0 && start->known_base && w->raw[count - 1].addr == start->known_base;
}

/* <=3.10 frames are heap objects that the target recycles as soon as a call returns: a frame freed
 * while we walked could have been reused by another thread, and following its f_back would splice
 * that thread's stack onto ours. So the chain is read again, all in one batch: the thread's
 * current top frame, and each frame's f_back, f_code and state. f_back is a strong reference, so
 * if every link and code object still holds and the current top is one of our frames F_j, then
 * F_j..F_n is exactly the thread's stack now: frames above F_j returned during the walk and are
 * dropped, and F_j's instruction offset is read again. When the thread went deeper instead (its
 * current top is not among our frames), the chain is kept whole if every link still holds, every
 * frame is still on a stack (a frame that returned keeps its links), and it ends at the thread's
 * own outermost frame (known from an earlier whole walk): then every frame of it leads to this
 * thread's base, so none is another thread's, and it is the stack the thread had when the walk
 * began (F_0 was its top then). *n receives the frames kept (the first *dropped of w->raw are
 * gone). Any other outcome is LS_ERR_TORN, and then *held tells where the chain's outer part
 * starts that the re-check found in place: F_held..F_n, ending at the thread's own outermost
 * frame, every link and code object as the walk read them and every frame on a stack (the same
 * proof a chain kept whole has, for its outer part; count when there is none). The frames above it
 * moved while read.
 */
static size_t held_outer_part(const struct ls_walker *w, const struct ls_stack_start *start, size_t count,
			       int truncated)
{
	if (!ends_at_known_base(w, start, count, truncated))
		return count;
	size_t held = count;
	/* up from the base while each frame holds and runs (one that returned is no caller now) */
	while (held > 0 && recheck_frame_holds(w, held - 1, count, 0) && recheck_on_stack(w, held - 1))
		held--;
	return held;
}

int ls_frames_recheck(struct ls_walker *w, const struct ls_stack_start *start, size_t *n, size_t *dropped,
		      size_t *held, int truncated)
{
	const struct ls_layout *l = &w->ctx.target->layout;
	size_t count = *n;
	*dropped = 0;
	*held = count;
	if (l->frame_kind != LS_FRAME_OBJECT || count == 0 || !start->top_frame_at)
		return 0;
	if (l->fr_code != l->fr_back + 8)
		return LS_ERR_UNSUPPORTED_VERSION; /* both are read in one range */
	size_t stride = recheck_words(l);
	if (ls_array_reserve((void **)&w->recheck, &w->recheck_cap, stride * count + 1, sizeof(*w->recheck)) ||
	    ls_array_reserve((void **)&w->recheck_iov, &w->recheck_iov_cap, count + 1, sizeof(*w->recheck_iov)) ||
	    ls_array_reserve((void **)&w->recheck_status, &w->recheck_status_cap, count + 1, sizeof(*w->recheck_status)))
		return LS_ERR_NOMEM;
	w->recheck_stride = stride;
	uint64_t *top = &w->recheck[0];
	w->recheck_iov[0] = (struct ls_remote_iov){start->top_frame_at, top, 8};
	for (size_t i = 0; i < count; i++)
		w->recheck_iov[i + 1] = (struct ls_remote_iov){w->raw[i].addr + (uint64_t)l->fr_back,
							       &w->recheck[1 + i * stride], stride * 8};
	/* the top first, then the frames' fields merged into spans (frames of one thread often lie
	 * side by side: one range each would cost more than the copying) */
	int rc = ls_walker_readv_spans(w, w->recheck_iov, count + 1, 1, 0, 0, w->recheck_status);
	if (rc)
		return rc;
	size_t j = count;
	for (size_t i = 0; i < count; i++) {
		if (w->raw[i].addr == *top) {
			j = i;
			break;
		}
	}
	if (w->recheck_status[0])
		goto torn;
	if (j == count) { /* the thread is now somewhere our chain does not reach */
		if (!ends_at_known_base(w, start, count, truncated))
			goto torn;
		for (size_t i = 0; i < count; i++)
			if (!recheck_on_stack(w, i))
				goto torn;
		j = 0; /* deeper than our top, if every link holds: checked below */
	}
	for (size_t i = j; i < count; i++)
		if (!recheck_frame_holds(w, i, count, truncated))
			goto torn;
	if (j > 0) {
		int32_t lasti;
		rc = ls_proc_read(w->ctx.proc, w->raw[j].addr + (uint64_t)l->fr_lasti, &lasti, sizeof(lasti));
		if (rc)
			return ls_error_is_recoverable(rc) ? LS_ERR_TORN : rc;
		w->raw[j].instr = (uint64_t)(int64_t)lasti;
		memmove(w->raw, w->raw + j, (count - j) * sizeof(*w->raw));
	}
	*dropped = j;
	*n = count - j;
	return 0;
torn:
	*held = held_outer_part(w, start, count, truncated);
	return LS_ERR_TORN;
}
