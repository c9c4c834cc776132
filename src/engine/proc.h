/* proc.h - reading another process: one small interface, several back ends.
 *
 * A struct ls_proc reads memory and per-thread OS facts of one target. Back ends:
 *   proc_linux.c  a live process: process_vm_readv (falling back to /proc/PID/mem), /proc/PID/task
 *   proc_image.c  a recorded memory image (a file), for deterministic tests and fuzzing
 * Everything above this layer (discovery aside) sees only this interface, so a walk over a saved
 * image is the same code as a walk over a live process.
 *
 * A proc may carry a recorder: every successful memory read and thread query is then also copied
 * into it, and ls_image_save() writes what was read as an image that replays the same walk.
 *
 * Reads never write to or pause the target. A short read is a failure (LS_ERR_READ): the caller
 * treats the address as torn or bogus. LS_ERR_PROCESS_EXITED means the target is gone.
 */
#ifndef LS_PROC_H
#define LS_PROC_H

#include <stddef.h>
#include <stdint.h>

#define LS_THREAD_NAME_MAX 16 /* the kernel's TASK_COMM_LEN */

/* OS facts about one thread (kernel task) at the time of the query. */
struct ls_os_thread {
	char state;                     /* field 3 of /proc/PID/task/TID/stat: 'R', 'S', 'D', ... or 0;
					 * live, read only when schedstat cannot tell (proc_linux.c) */
	int has_cpu_time;
	uint64_t cpu_ns;                /* on-CPU time so far (schedstat field 1) */
	char name[LS_THREAD_NAME_MAX];  /* comm, NUL terminated, may be empty */
};

/* One remote range for a batched read. */
struct ls_remote_iov {
	uint64_t addr;
	void *dst;
	size_t len;
};

struct ls_proc_stats {
	uint64_t read_calls;   /* memory-reading system calls made (or image look-ups) */
	uint64_t read_bytes;
	uint64_t read_failures;
	uint64_t read_ranges;  /* ranges the kernel took a lock of the target's memory map for:
				* each range read, and the one a short read stopped at */
};

struct ls_proc;
struct ls_image_recorder;

struct ls_proc_ops {
	/* Read len bytes at addr into dst. 0, LS_ERR_READ or LS_ERR_PROCESS_EXITED/PERMISSION. */
	int (*read)(struct ls_proc *proc, uint64_t addr, void *dst, size_t len);
	/* Read n ranges; status[i] receives 0 or the error of range i. Returns 0 unless the process
	 * is gone or unreadable altogether (then a negative code and status is unspecified). */
	int (*readv)(struct ls_proc *proc, const struct ls_remote_iov *iov, size_t n, int *status);
	/* The kernel thread ids of the process, up to cap; returns the count or a negative code. */
	int (*list_threads)(struct ls_proc *proc, int32_t *tids, size_t cap);
	/* OS facts of one thread; 0 or a negative code (the thread may have exited). */
	int (*thread_info)(struct ls_proc *proc, int32_t tid, struct ls_os_thread *out);
	void (*free)(struct ls_proc *proc);
	/* Optional: read n ranges in one go and stop at the first that cannot be read (it and those
	 * after it get LS_ERR_READ, unread); returns as readv. NULL: readv, then the same statuses. */
	int (*readv_prefix)(struct ls_proc *proc, const struct ls_remote_iov *iov, size_t n, int *status);
};

struct ls_proc {
	const struct ls_proc_ops *ops;
	int32_t pid;
	struct ls_proc_stats stats;
	struct ls_image_recorder *recorder; /* owned when not NULL */
	int frozen;                         /* a recorded image: one moment, nothing in it moves */
};

/* Open a live process. Returns 0 and *out, or LS_ERR_NO_PROCESS / LS_ERR_PERMISSION /
 * LS_ERR_PROCESS_EXITED / LS_ERR_NOMEM. Does not read memory yet. */
int ls_proc_open_live(int32_t pid, struct ls_proc **out);

/* Open a recorded image (see proc_image.c for the format); *facts receives the target facts
 * stored in it. Returns 0, LS_ERR_IO or LS_ERR_BAD_IMAGE. */
struct ls_target_facts;
int ls_proc_open_image(const char *path, struct ls_proc **out, struct ls_target_facts *facts);
/* The same from bytes in memory (the fuzzer's entry); the bytes are copied. */
int ls_proc_open_image_bytes(const uint8_t *data, size_t len, struct ls_proc **out,
			     struct ls_target_facts *facts);

/* Write what a recording proc has read so far, with the target's facts, as an image file.
 * Returns 0, LS_ERR_INVALID_ARG (not recording), LS_ERR_IO or LS_ERR_NOMEM. */
int ls_image_save(const struct ls_proc *proc, const struct ls_target_facts *facts, const char *path);

void ls_proc_free(struct ls_proc *proc);

/* The calls everyone uses: they count, and feed the recorder. */
int ls_proc_read(struct ls_proc *proc, uint64_t addr, void *dst, size_t len);
int ls_proc_readv(struct ls_proc *proc, const struct ls_remote_iov *iov, size_t n, int *status);
/* ls_proc_readv that stops at the first range it cannot read: that one and the rest get
 * LS_ERR_READ. For ranges that are of no use once one of them is gone (a moving stack's chunks). */
int ls_proc_readv_prefix(struct ls_proc *proc, const struct ls_remote_iov *iov, size_t n, int *status);
int ls_proc_list_threads(struct ls_proc *proc, int32_t *tids, size_t cap);
int ls_proc_thread_info(struct ls_proc *proc, int32_t tid, struct ls_os_thread *out);

/* Helpers over ls_proc_read for little-endian scalars. */
int ls_proc_read_u64(struct ls_proc *proc, uint64_t addr, uint64_t *out);

/* Start recording everything read from now on (for ls_image_save). */
int ls_proc_start_recording(struct ls_proc *proc);

#endif
