/* walker.h - internal state shared by the thread walk (threads.c) and the frame walk (frames.c).
 *
 * A struct ls_walker holds what persists between samples (the code cache, the interned tables,
 * the pthread-to-tid offset) and scratch buffers reused by every sample so that steady-state
 * sampling allocates nothing.
 */
#ifndef LS_WALKER_H
#define LS_WALKER_H

#include <stdint.h>

#include "code.h"
#include "ls.h"

struct ls_chunk_copy {
	uint64_t remote;     /* address of the chunk in the target */
	uint64_t size;       /* bytes held */
	size_t local;        /* offset into ls_walker.chunk_bytes, unless ... */
	const uint8_t *held; /* ... the bytes are held elsewhere (the sample's batch): not copied */
	uint64_t fresh_from; /* the bytes from this offset on were read after the batch stopped serving */
};

#define LS_CHUNK_FIRST_READ (16u * 1024) /* CPython's data-stack chunks are at least 16 KiB */
#define LS_PREFETCH_THREADS 64          /* threads whose stack starts are read in one batch */
#define LS_SPEC_THREADS 1024            /* thread lists read speculatively in one batch */
#define LS_PAGE_SIZE 4096u
#define LS_PAGE_CACHE 256u              /* pages cached during one <=3.10 frame walk (frame_pages.c) */
#define LS_PAGE_HASH 1024u              /* slots of their index (a power of 2, >= 2 x LS_PAGE_CACHE) */
#define LS_REREAD_PAGES 128u            /* ... of which a retry reads again with the thread state */
_Static_assert(LS_REREAD_PAGES <= LS_PAGE_CACHE, "a retry's pages must fit the page cache");
_Static_assert((LS_PAGE_HASH & (LS_PAGE_HASH - 1)) == 0 && LS_PAGE_HASH >= 2 * LS_PAGE_CACHE, "the page index");
#define LS_SPEC_RANGES 320              /* ranges one sample predicts for the next one's first batch */
#define LS_SPEC_HASH 1024               /* slots of the index of spec_want by address (> 2 x ranges) */
#define LS_SPEC_BYTES (1024u * 1024)    /* ... and their bytes, at most */
_Static_assert((LS_SPEC_HASH & (LS_SPEC_HASH - 1)) == 0 && LS_SPEC_HASH >= 2 * LS_SPEC_RANGES, "the prediction's index");
#define LS_SPEC_KEEP 8                  /* samples a range stays predicted after walks stop reading it */
#define LS_CODE_MEMO 64                 /* code headers shared between the threads of one sample */
#define LS_BASE_MAP 1024                /* <=3.10: threads whose outermost frame is remembered */
#define LS_CODE_MEMO_NS 2000000ull      /* ... for at most 2 ms after the first was read */
#define LS_HEAD_EVERY_NS 10000000ull    /* the interpreter list's head, read at least this often */
#define LS_CODE_AGED_NS 1000000000ull   /* a code object resolved this long ago is long-lived (frames.c) */
#define LS_CODE_STRICT_NS 60000000000ull /* every sample proves code identity this long after a stale entry */

/* A thread's stack start, read in the sample's batch (see threads.c prefetch_stacks). */
struct ls_prefetch {
	uint64_t current_frame; /* 3.11/3.12: the word in the cframe */
	const uint8_t *chunk;   /* the used part of the newest data-stack chunk (in the batch, or read) */
	size_t chunk_len;       /* bytes of it to use (at most LS_CHUNK_FIRST_READ) */
	int cframe_ok, chunk_ok;
	int from_batch;         /* both came from the sample's first batch, or the chunk from the
				 * thread's own batch (see ls_walker_read) */
	int own;                /* the walk is served from own_ranges[own_lo, own_hi) (stackbatch.c) */
	size_t own_lo, own_hi;
	size_t shared_lo, shared_hi; /* ... and own_ranges[shared_lo, shared_hi), read for every thread */
};

/* A range a walk read beyond the thread states (a stack start, a frame outside the data stack, a
 * code header): the next sample reads it again in its first batch (threads.c). */
struct ls_spec_range {
	uint64_t addr;
	size_t len;
	size_t local;   /* offset into ls_walker.spec_bytes (own_bytes for own_ranges) */
	int ok;         /* read in this sample's first batch */
	int age;        /* samples since a walk last read it */
	uint64_t owner; /* the thread state whose walk read it (0: none) */
	int kind;       /* LS_WANT_* */
	int kept;       /* not read in this sample (a lean one's code range): predicted again as it is */
};

/* What a range a walk read was (ls_spec_range.kind): a thread whose stack moves reads its stack
 * start in the first batch and the rest in its own batch (stackbatch.c), its chunks as the thread
 * state of that batch names them. A code header or name (LS_WANT_CODE) is left out of a lean
 * sample's batches (code_lean) and kept predicted for the next. */
enum { LS_WANT_OTHER, LS_WANT_CFRAME, LS_WANT_NEWEST, LS_WANT_CHUNK, LS_WANT_CODE /* a header or a name */ };

#define LS_OWN_RANGES 512                /* ranges of the own batches of one prefetch group */
#define LS_CHUNK_MAP 256                 /* data-stack chunks whose previous chunk is remembered */
#define LS_MOTION_MAP 1024               /* threads whose stack moves, by thread state (direct-mapped) */
#define LS_MOTION_HOLD 64                /* samples a thread stays moving after its stack moved */

struct addr_index; /* threads.c */

struct ls_raw_frame {
	uint64_t addr;    /* the frame itself */
	uint64_t code;    /* remote code object */
	uint64_t instr;   /* 3.11+: instruction pointer; <=3.10: f_lasti as read (int) */
	uint8_t is_generator;
	uint8_t after_skip;       /* a shim on the data stack lies between this one and the one above it */
	uint8_t fresh;            /* read after the batch stopped serving the walk (frames.c) */
};

struct ls_walker {
	struct ls_code_context ctx;
	struct ls_code_cache code_cache;
	int32_t pthread_tid_offset; /* <=3.10: offset of the kernel tid in struct pthread; -1 unknown; -2 not found */
	int os_info;                /* 1: query the OS for each thread's state, CPU time and name */
	/* what the previous sample found, to read the next one in one batch (threads.c) */
	uint64_t spec_interp;       /* the only interpreter, 0 = no speculation */
	uint64_t spec_interp_id;    /* ... its id */
	size_t spec_count;          /* its thread states, in w->tstate_addrs */
	uint64_t spec_gil;          /* 3.12: the _gil_runtime_state the interpreter points to */
	uint64_t head_read_ns;      /* when the runtime's interpreter head was last read (threads.c) */
	uint64_t spec_hits;
	/* <=3.10: each thread's outermost frame (by thread state address, direct-mapped; a collision
	 * only forgets one), from its last whole walk (frames.c recheck_chain) */
	struct {
		uint64_t tstate, base;
	} base_map[LS_BASE_MAP];
	struct ls_prefetch prefetch[LS_PREFETCH_THREADS];
	/* the ranges this sample's first batch read for the walks (from what the previous sample's
	 * walks read), served by ls_walker_read while spec_serve is set; and what this sample's walks
	 * read, for the next one */
	struct ls_spec_range spec_ranges[LS_SPEC_RANGES];
	size_t nspec_ranges;        /* usable: 0 when this sample did not read speculatively */
	size_t nspec_pred;          /* predicted for this sample */
	struct ls_spec_range spec_want[LS_SPEC_RANGES];
	size_t nspec_want, spec_want_bytes;
	uint16_t spec_want_index[LS_SPEC_HASH]; /* open addressing: spec_want slot + 1, 0 = empty */
	size_t spec_cursor;         /* where ls_batch_find starts: walks read in the order they did last time */
	uint8_t *spec_bytes;        /* LS_SPEC_BYTES */
	int spec_serve;             /* 1 while reads may be served from spec_ranges (ls_walker_read) */
	int served_at_start;        /* spec_serve when the walk of the attempt began (frames.c) */
	/* the code epoch (frames.c read_code_headers): the target's count of code objects made so
	 * far, read last in this sample's first batch (after every frame in it; 0 = not read), and
	 * the previous sample's (read before any code header of this sample) */
	uint32_t code_epoch, code_epoch_prev;
	uint64_t code_epoch_hits;   /* code headers trusted by their epoch instead of read */
	/* proving code identity every few samples (code_check.c): 0 = every sample; else a sample at
	 * least code_check_every_ns after the last proving one proves it, and those between
	 * (code_lean) take long-lived code objects proven less than that ago from the cache unread,
	 * unless the last sample met a young one or a stale entry was found within LS_CODE_STRICT_NS */
	uint64_t code_check_every_ns;
	uint64_t code_aged_ns;      /* how long ago a long-lived one was first resolved: LS_CODE_AGED_NS */
	uint64_t code_checked_ns;   /* when the last proving sample began */
	uint64_t code_strict_until_ns;
	uint64_t code_stale_seen;   /* code_cache.stale when the last sample began */
	int code_lean;              /* this sample trusts long-lived code objects unread */
	int code_all_aged;          /* every code object the last sample met was long-lived */
	uint64_t code_age_hits;     /* code headers trusted for their age instead of read */
	uint64_t code_sample_ns;    /* when this sample began: what a header read in it proves dates from */
	/* the tags ls_batch_want gives a range: the thread being walked and what it reads */
	uint64_t want_owner;
	int want_kind;
	/* the own batches of the threads whose stack moves (stackbatch.c): their ranges, bytes
	 * (LS_SPEC_BYTES), and the part a walk is served from while own_serve is set */
	struct ls_spec_range own_ranges[LS_OWN_RANGES];
	size_t nown, own_bytes_used;
	uint8_t *own_bytes;
	int own_serve;
	size_t own_lo, own_hi, own_cursor;
	size_t own_shared_lo, own_shared_hi, own_shared_cursor; /* ... and the part read for every thread */
	int all_moving;             /* every thread counts as moving (ls_session_set_all_moving) */
	size_t merge_gap;           /* spans.c: ranges closer than this are one span (0: its default) */
	int own_share;              /* every thread of this sample moves: ranges several of them read go
				     * in the own batch of its first prefetch group, not in the first batch */
	uint64_t own_batches;       /* own batches read (threads, not calls) */
	/* each chunk's previous chunk and size as walks found them, direct-mapped by address */
	struct {
		uint64_t chunk, previous, size;
	} chunk_map[LS_CHUNK_MAP];
	/* threads whose stack moved lately: samples left in that state, by thread state */
	struct {
		uint64_t tstate, chunk; /* ... and its newest chunk when last walked */
		uint32_t hold;
	} motion[LS_MOTION_MAP];
	uint8_t *prefetch_bytes;    /* LS_PREFETCH_THREADS x LS_CHUNK_FIRST_READ, then as many thread states */
	uint8_t *retry_chunk;       /* a retry's newest chunk (LS_CHUNK_FIRST_READ), then its thread state */
	uint8_t *newest_chunk;      /* 3.11+: the newest chunk's copy when a walk read more of it (frames.c) */
	size_t newest_chunk_cap;
	int chunk_extensions;       /* ... how many times this attempt */
	int chunk_fills;            /* chunks copied from a frame down this attempt (frames.c copy_chunk_holding) */

	/* scratch, reused */
	uint8_t *pages;             /* LS_PAGE_CACHE pages of the current <=3.10 walk */
	uint64_t page_addrs[LS_PAGE_CACHE]; /* 0: an empty slot */
	const uint8_t *page_at[LS_PAGE_CACHE]; /* each one's bytes: in pages, or in the sample's batch */
	size_t npages, page_next;
	uint16_t page_index[LS_PAGE_HASH]; /* open addressing by page: slot + 1, 0 = empty */
	size_t page_index_used;
	size_t nraw;                /* <=3.10: frames the last chain put in raw (their pages are re-read) */
	uint64_t *tstate_addrs;     /* the thread states of the interpreter being walked */
	uint8_t *tstate_bytes;      /* ... read whole, ts_size each */
	size_t tstate_cap;
	struct ls_remote_iov *merge_iov; /* spans.c ls_walker_readv_spans */
	int *merge_status;
	size_t *merge_order;
	struct addr_index *merge_sort;
	struct ls_remote_iov *merge_issue; /* the spans in the order they are read */
	int *merge_status_issued;
	size_t merge_cap;
	uint8_t *merge_bytes;
	size_t merge_bytes_cap;
	uint8_t *chunk_bytes;
	size_t chunk_cap;
	struct ls_chunk_copy *chunks;
	size_t nchunks, chunks_cap;
	struct ls_raw_frame *raw;
	size_t raw_cap;
	uint64_t *visited;          /* open-addressing set of frame addresses, LS_VISITED_SLOTS */
	uint32_t *visited_used;     /* the slots set in this walk, LS_MAX_DEPTH */
	uint64_t *code_addrs;       /* unique code addresses of one thread */
	uint8_t *code_raw;          /* their headers, co_size each */
	struct ls_code_header *code_headers;
	int *code_status;
	uint8_t *code_trusted;      /* header taken from the cache, not read: 1 by the code epoch, 2 for its age */
	uint8_t *code_from_batch;   /* 1: every frame that names it came from the batch (not fresh) */
	uint8_t *name_probe;        /* the first bytes of each one's shown name, LS_STR_PROBE each */
	uint32_t *code_memo;        /* each one's slot in memo_* below, or LS_CODE_MEMO if none */
	size_t code_cap;
	/* code headers this sample has read, served to its other threads (frames.c) for
	 * LS_CODE_MEMO_NS after the first of them was read: a sample of 1,000 threads that run the
	 * same functions reads each code object once, not once per thread */
	uint64_t memo_addrs[LS_CODE_MEMO];
	uint64_t memo_print[LS_CODE_MEMO]; /* their names' fingerprints once known, else 0 */
	uint8_t *memo_raw;          /* LS_CODE_MEMO x co_size */
	size_t nmemo;
	uint64_t memo_since_ns;     /* monotonic time of the oldest entry */
	uint64_t *recheck;          /* <=3.10 chain re-check (frames.c) */
	struct ls_remote_iov *recheck_iov;
	int *recheck_status;
	size_t recheck_cap, recheck_iov_cap, recheck_status_cap;
	size_t recheck_stride;      /* u64 words a frame in recheck, after its top word */
};

#define LS_VISITED_SLOTS (LS_MAX_DEPTH * 2)
#define LS_CHUNK_BYTES_MAX (64u << 20) /* bound on data-stack bytes copied per thread */

int ls_walker_init(struct ls_walker *w);
void ls_walker_release(struct ls_walker *w);

/* At a sample's start (code_check.c): whether it proves the identity of every code object on its
 * stacks or is lean (w->code_lean), from the time now and what the samples before found. */
void ls_code_check_plan(struct ls_walker *w, uint64_t now);

/* Where a thread's Python stack starts, read from its thread state. */
struct ls_stack_start {
	uint64_t top_frame;  /* innermost frame (0 = no Python frame) */
	uint64_t datastack;  /* 3.11+: the newest data-stack chunk, 0 if none */
	const uint8_t *first_chunk; /* its used part, already read (first_chunk_len bytes), or NULL */
	size_t first_chunk_len;
	uint64_t datastack_top;      /* 3.11+: the first free slot in the newest chunk, 0 if unknown */
	uint64_t top_frame_at; /* <=3.10: where the thread state keeps top_frame, to re-check the chain */
	uint64_t known_base;   /* <=3.10: the thread's outermost frame as its last whole walk found it, or 0 */
};

/* Walk one thread's frames into sample->frames (innermost first), appending; sets *nframes and
 * may set LS_THREAD_TRUNCATED in *flags; *base_frame gets the outermost frame's address when the
 * walk was whole (0 otherwise). Returns 0, LS_ERR_TORN / LS_ERR_READ (the caller
 * re-reads the thread state and retries; on the last attempt pass keep_partial = 1 to keep the
 * frames read before the fault), or a fatal code. */
int ls_frames_walk(struct ls_walker *w, const struct ls_stack_start *start, int keep_partial,
		   struct ls_sample *sample, uint32_t *nframes, uint32_t *flags, uint64_t *base_frame);

/* A walk's read of len bytes at addr: served from this sample's first batch when it holds them and
 * spec_serve is set, else read; either way remembered (predict bytes from addr, >= len) for the
 * next sample's first batch. Serving is on during a thread's first attempt whose stack start came
 * from the batch, and a read the batch misses turns it off for the rest of the attempt: bytes are
 * never older than the bytes that pointed to them. */
int ls_walker_read(struct ls_walker *w, uint64_t addr, void *dst, size_t len, size_t predict);
/* The same for n ranges: those the batch holds are copied, the others read in one call. */
int ls_walker_readv(struct ls_walker *w, const struct ls_remote_iov *iov, size_t n, int *status);
/* A read that is never served from the batch, nor predicted (the rest of a chunk, read after
 * part of it): it turns serving off for the rest of the attempt, since what the walk reads next
 * may be pointed to by these bytes, which are newer than the batch. */
int ls_walker_read_fresh(struct ls_walker *w, uint64_t addr, void *dst, size_t len);

/* The batch itself (batch.c), for threads.c: remember a range for the next sample's prediction;
 * make this sample's prediction from what the last one read (returns how many ranges); find this
 * sample's copy of [addr, addr + len) (NULL if none, or while spec_serve is off), with in *held
 * (when not NULL) how many bytes from addr the range it came from holds. */
void ls_batch_want(struct ls_walker *w, uint64_t addr, size_t len);
size_t ls_batch_next(struct ls_walker *w);
const uint8_t *ls_batch_find(struct ls_walker *w, uint64_t addr, size_t len, size_t *held);
/* The batch's copy of [addr, addr + len) even after serving stopped, or NULL: for what only bytes
 * of the batch point to (frames.c: the code headers of frames read from the batch). NULL when the
 * walk's attempt did not start served. */
const uint8_t *ls_batch_held(struct ls_walker *w, uint64_t addr, size_t len);
/* Keep a predicted range that this sample does not read (a code header or name a lean sample
 * trusts) in the next sample's prediction as it is, after what the walks read (ls_batch_next). */
void ls_batch_keep(struct ls_spec_range *r);

/* One read of n ranges (spans.c): the first `head` are read first and the last `tail` last, each
 * alone; the others are read in between, those lying close together as one span, each span where
 * its first range stands in iov. A span that fails is read again range by range, so every range
 * gets the status a read of its own would have had (the tail ranges then get LS_ERR_READ: they
 * are no longer read after everything else). With stop_at_fault the read stops at the first range
 * or span that fails, which with all after it gets LS_ERR_READ (ls_proc_readv_prefix). Ranges
 * closer than 1 KiB are one span, or than w->merge_gap when that is set. */
int ls_walker_readv_spans(struct ls_walker *w, const struct ls_remote_iov *iov, size_t n, size_t head, size_t tail,
			  int stop_at_fault, int *status);

/* The own batch (stackbatch.c) of a thread whose stack moves: its stack start comes from the first
 * batch (its thread state and cframe word, of one moment) and the rest, read after it in one more
 * call, from this batch: its chunks as that thread state names them (the newest up to its top,
 * then each one's previous as walks found it), then what its last walk read beyond them (frames
 * outside the chunks, code headers, names: a lean sample leaves these two out), then the code epoch. A first batch that predicts a
 * moving stack's chunks from the sample before reads chunks that are gone or beside the point,
 * and the walk then reads the rest one call at a time; each range costs the target a take of its
 * memory-map lock, which a target that maps and unmaps chunks holds often.
 *
 * ls_motion_moving: whether a thread state's stack moves from chunk to chunk: its newest chunk
 * changed between two of its last LS_MOTION_HOLD samples (a stack that moves within its chunk is
 * served by the first batch, which predicts the chunk's longest use); ls_motion_note tells the
 * newest chunk a sample's thread state named. ls_chunk_map_note: a chunk, its previous one and its size, as a walk copied it.
 * ls_chunk_map_holding: the start of a chunk the map knows that holds [addr, addr + len) past its
 * header, or 0 (a guess: the chunk may be gone since, and another mapped there).
 * ls_stack_batch_read: the own batches of n threads in one call, appended to own_ranges (pf[i]->own
 * set for those read; the others keep the first batch's path); each pf gets its newest chunk's
 * bytes and the part of own_ranges its walk is served from. The code epoch (3.12, 3.13.0) is read
 * last and becomes w->code_epoch. */
int ls_motion_moving(const struct ls_walker *w, uint64_t tstate);
void ls_motion_note(struct ls_walker *w, uint64_t tstate, uint64_t chunk);
void ls_chunk_map_note(struct ls_walker *w, uint64_t chunk, uint64_t previous, uint64_t size);
uint64_t ls_chunk_map_holding(const struct ls_walker *w, uint64_t addr, size_t len);
int ls_stack_batch_read(struct ls_walker *w, const uint64_t *tstates, uint8_t *const *ts, struct ls_prefetch *const *pf,
			size_t n);

/* <=3.10 (recheck.c): after a walk of the chain w->raw[0..*n) (innermost first) from start, read
 * the thread's top and every frame's f_back, f_code and state again in one call. 0: the chain (or
 * its part below frames that returned meanwhile: *dropped of them, gone from w->raw) is the
 * thread's stack; *n is what is kept. LS_ERR_TORN: it is not, and *held is where the outer part
 * starts that is still in place (*n when none). truncated: the walk stopped before the end. */
int ls_frames_recheck(struct ls_walker *w, const struct ls_stack_start *start, size_t *n, size_t *dropped,
		      size_t *held, int truncated);

/* <=3.10 (frame_pages.c): empty the page cache (a new walk attempt), and the bytes of the frame at
 * addr from its page: cached, else the sample's batch, else read. LS_ERR_READ when [addr, addr +
 * size) crosses a page or the page cannot be read (the caller reads the frame alone). */
void ls_frame_pages_clear(struct ls_walker *w);
int ls_frame_pages_bytes(struct ls_walker *w, uint64_t addr, size_t size, const uint8_t **out);

/* Before a thread's next attempt: read its thread state (ts_size bytes into ts) again, and on
 * <=3.10 the pages the last attempt read frames from, in one call, the thread state first (a
 * frame is never read before what points to it). A thread whose stack moves all the time is
 * then walked from one moment rather than from reads spread over the walk. Pages that cannot be
 * read are dropped from the page cache. */
int ls_frames_reread_start(struct ls_walker *w, uint64_t tstate, uint8_t *ts, size_t ts_size);

/* The sample's first-batch copy of [addr, addr + len) for a walk that needs it, remembered for the
 * next sample as ls_walker_read does; NULL when the batch does not hold it (or may not serve):
 * the caller reads it itself, and the batch serves no more of this attempt. */
const uint8_t *ls_walker_batch_bytes(struct ls_walker *w, uint64_t addr, size_t len);

/* Where the target counts the code objects it made (3.12, 3.13.0 with one interpreter), or 0
 * (threads.c). */
uint64_t ls_code_epoch_addr(const struct ls_walker *w);

/* Walk every interpreter and thread into sample (cleared first). */
int ls_threads_walk(struct ls_walker *w, struct ls_sample *sample);

#endif
