/* fake_process.h - a fake process for the walker's unit tests (test_walker.c, test_stackbatch.c):
 * its memory is a buffer of MEM_SIZE bytes at MEM_BASE that the test writes (put_u64), every range
 * a read asks for is logged in order (log_addr, nlog; ncalls counts the batched calls), and a range
 * outside the buffer cannot be read. fake_walker() gives a walker on a fresh, zeroed memory with
 * the 3.13 layout in `target`, which a test may change. Included by one test file each: every
 * definition here is static.
 */
#ifndef LS_FAKE_PROCESS_H
#define LS_FAKE_PROCESS_H

#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "ls_error.h"
#include "proc.h"
#include "target.h"
#include "walker.h"

#define MEM_BASE 0x10000000ull
#define MEM_SIZE (4u << 20)
#define LOG_MAX 256

static uint8_t *mem;
static uint64_t log_addr[LOG_MAX]; /* every range a read asked for, in order */
static size_t nlog, ncalls;

static int fake_read(struct ls_proc *p, uint64_t addr, void *dst, size_t len)
{
	(void)p;
	if (nlog < LOG_MAX)
		log_addr[nlog++] = addr;
	if (addr < MEM_BASE || len > MEM_SIZE || addr - MEM_BASE > MEM_SIZE - len)
		return LS_ERR_READ;
	memcpy(dst, mem + (addr - MEM_BASE), len);
	return 0;
}

static int fake_readv(struct ls_proc *p, const struct ls_remote_iov *iov, size_t n, int *status)
{
	ncalls++;
	for (size_t i = 0; i < n; i++)
		status[i] = fake_read(p, iov[i].addr, iov[i].dst, iov[i].len);
	return 0;
}

static int fake_threads(struct ls_proc *p, int32_t *tids, size_t cap)
{
	(void)p, (void)tids, (void)cap;
	return 0;
}

static int fake_thread_info(struct ls_proc *p, int32_t tid, struct ls_os_thread *out)
{
	(void)p, (void)tid, (void)out;
	return LS_ERR_READ;
}

static void fake_free(struct ls_proc *p)
{
	(void)p;
}

static const struct ls_proc_ops fake_ops = {fake_read, fake_readv, fake_threads, fake_thread_info, fake_free, NULL};
static struct ls_proc fake_proc = {&fake_ops, 1, {0}, NULL, 0};
static struct ls_target target;

static void put_u64(uint64_t addr, uint64_t value)
{
	memcpy(mem + (addr - MEM_BASE), &value, 8);
}

/* A walker on a fresh, zeroed fake memory, with the 3.13 layout (frames in data-stack chunks). */
static void fake_walker(struct ls_walker *w)
{
	free(mem);
	mem = calloc(1, MEM_SIZE);
	target.layout = *ls_layout_builtin(13);
	ls_walker_init(w);
	w->ctx.proc = &fake_proc;
	w->ctx.target = &target;
	nlog = ncalls = 0;
}

#endif
