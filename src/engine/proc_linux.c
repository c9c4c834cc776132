/* proc_linux.c - the live back end of proc.h on Linux.
 *
 * Memory: process_vm_readv, one system call per read and one per batch of up to IOV_MAX ranges;
 * if the kernel lacks it (ENOSYS) or a seccomp policy forbids it (EPERM while /proc/PID/mem is
 * readable), /proc/PID/mem with pread. Threads: /proc/PID/task, and per thread schedstat (CPU
 * time), stat (state) and comm (name, read once).
 *
 * A thread's state costs a pread of stat (~4 us: the kernel formats the whole line), so it is read
 * only when schedstat cannot tell it. schedstat holds the time the thread ran, the time it waited
 * on a run queue and how many times it was scheduled; these change whenever the thread leaves or
 * gets a CPU (and at each scheduler tick while it runs), but not when a sleeping thread is woken
 * and waits to run. So, per query after a thread's first:
 *   - nothing changed and the previous state was read from stat: the state is still that one (a
 *     sleeper woken since then and still waiting for a CPU is missed until it runs);
 *   - the previous state was 'R', the thread was not scheduled anew nor waited since, and its CPU
 *     time grew by at least the wall time since the previous query: it stayed on its CPU, 'R'
 *     (inferred; wrong only if it blocked within the last scheduler tick, whose update the
 *     counter has not had yet);
 *   - else (it slept, ran a little, or an inferred 'R' saw no change since): stat is read.
 * The state is the thread's at the query, as stat gives it, not a share of the interval: the
 * state and the stack of one sample belong together.
 * stat is also read at a thread's first query, when schedstat is missing or all zero
 * (sched_info off), and at least once a second per thread.
 *
 * It never attaches with ptrace, never stops the target and never writes to it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ls_error.h"
#include "proc.h"
#include "strutil.h"

#define BATCH_MAX 1024 /* IOV_MAX on Linux */

/* Open /proc files of one task, kept across samples: a sample then costs one pread per file
 * instead of open + read + close. The name is read once, when the task is first seen. */
struct task_files {
	int32_t tid; /* 0 = empty slot */
	int stat_fd, schedstat_fd;
	char name[LS_THREAD_NAME_MAX];
	/* what the previous query saw (see the top of this file) */
	int queried;                /* 1 once a query succeeded */
	char state;                 /* the state it returned */
	int state_exact;            /* 1: read from stat; 0: inferred from schedstat */
	uint64_t ran_ns, waited_ns, runs; /* schedstat's three fields */
	uint64_t query_ns, stat_ns; /* monotonic times of that query and of the last stat read */
};

#define STAT_REFRESH_NS 1000000000ull /* read stat at least this often per thread */

/* The open files of the tasks, in an open-addressing table (linear probing, at most half full)
 * that grows with the thread count. Each task keeps two descriptors; the budget follows the
 * process's descriptor limit (its soft limit is raised towards the hard one when a target has more
 * threads than it allows), leaving FD_RESERVE for everything else. Past the budget - a target
 * that starts threads faster than they are seen to end - every file is closed and the table
 * starts over. */
#define TASK_SLOTS_MIN 64
#define TASKS_MAX 16384
#define FD_RESERVE 256

struct proc_live {
	struct ls_proc base;
	int mem_fd; /* /proc/PID/mem when process_vm_readv is not usable, else -1 */
	int use_mem_file;
	struct task_files *tasks;
	unsigned task_slots, ntasks; /* slots: 0 or a power of two */
};

static int process_is_gone(int32_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 1;
	char buf[512];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	const char *close = strrchr(buf, ')');
	return close && close[1] == ' ' && (close[2] == 'Z' || close[2] == 'X');
}

static int map_errno(struct proc_live *p, int err)
{
	switch (err) {
	case ESRCH:
		return LS_ERR_PROCESS_EXITED;
	case EPERM:
	case EACCES:
		return process_is_gone(p->base.pid) ? LS_ERR_PROCESS_EXITED : LS_ERR_PERMISSION;
	default:
		return LS_ERR_READ;
	}
}

static int read_mem_file(struct proc_live *p, uint64_t addr, void *dst, size_t len)
{
	if (addr > (uint64_t)INT64_MAX)
		return LS_ERR_READ;
	ssize_t n = pread(p->mem_fd, dst, len, (off_t)addr);
	if (n < 0)
		return errno == EIO || errno == EFAULT ? LS_ERR_READ : map_errno(p, errno);
	return (size_t)n == len ? 0 : LS_ERR_READ;
}

static int switch_to_mem_file(struct proc_live *p)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)p->base.pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return map_errno(p, errno);
	p->mem_fd = fd;
	p->use_mem_file = 1;
	return 0;
}

static int live_read(struct ls_proc *base, uint64_t addr, void *dst, size_t len)
{
	struct proc_live *p = (struct proc_live *)base;
	if (len == 0)
		return 0;
	if (p->use_mem_file)
		return read_mem_file(p, addr, dst, len);
	struct iovec local = {dst, len};
	struct iovec remote = {(void *)(uintptr_t)addr, len};
	ssize_t n = process_vm_readv(p->base.pid, &local, 1, &remote, 1, 0);
	base->stats.read_ranges += n >= 0 || errno == EFAULT;
	if (n == (ssize_t)len)
		return 0;
	if (n >= 0)
		return LS_ERR_READ; /* short: the range crosses an unmapped page */
	if (errno == EFAULT)
		return LS_ERR_READ;
	if (errno == ENOSYS || (errno == EPERM && !process_is_gone(p->base.pid))) {
		/* a seccomp policy or an old kernel: try the file, which has its own permission check */
		int rc = switch_to_mem_file(p);
		if (rc)
			return errno == ENOSYS ? rc : LS_ERR_PERMISSION;
		return read_mem_file(p, addr, dst, len);
	}
	return map_errno(p, errno);
}

/* One process_vm_readv per batch of ranges. The kernel stops at the first range it cannot read:
 * that range is marked failed, and then either the rest are read in the next call, or (stop, for
 * ls_proc_readv_prefix) nothing more is read and they stay failed. A range whose call fails for
 * another reason is read alone, to learn why (live_read may switch to /proc/PID/mem and read). */
static int live_readv_batches(struct ls_proc *base, const struct ls_remote_iov *iov, size_t n, int *status, int stop)
{
	struct proc_live *p = (struct proc_live *)base;
	struct iovec local[BATCH_MAX], remote[BATCH_MAX];
	for (size_t i = 0; i < n; i++)
		status[i] = LS_ERR_READ;
	size_t done = 0;
	while (done < n) {
		if (p->use_mem_file) {
			for (; done < n; done++)
				if ((status[done] = read_mem_file(p, iov[done].addr, iov[done].dst, iov[done].len)) != 0 && stop)
					return 0;
			return 0;
		}
		size_t batch = n - done < BATCH_MAX ? n - done : BATCH_MAX;
		for (size_t i = 0; i < batch; i++) {
			local[i] = (struct iovec){iov[done + i].dst, iov[done + i].len};
			remote[i] = (struct iovec){(void *)(uintptr_t)iov[done + i].addr, iov[done + i].len};
		}
		base->stats.read_calls++;
		ssize_t got = process_vm_readv(p->base.pid, local, batch, remote, batch, 0);
		if (got < 0) {
			int rc = LS_ERR_READ; /* EFAULT: the first range is unreadable */
			if (errno == EFAULT)
				base->stats.read_ranges++;
			else if ((rc = live_read(base, iov[done].addr, iov[done].dst, iov[done].len)) != 0 &&
				 !ls_error_is_recoverable(rc))
				return rc;
			status[done++] = rc;
			if (rc && stop)
				return 0;
			continue;
		}
		size_t left = (size_t)got;
		size_t i = 0;
		for (; i < batch && left >= iov[done + i].len; i++) {
			left -= iov[done + i].len;
			status[done + i] = 0;
		}
		base->stats.read_ranges += i + (i < batch); /* and the one partly read or not at all */
		if (i < batch && stop)
			return 0;
		done += i + (i < batch);
	}
	return 0;
}

static int live_readv(struct ls_proc *base, const struct ls_remote_iov *iov, size_t n, int *status)
{
	return live_readv_batches(base, iov, n, status, 0);
}

static int live_readv_prefix(struct ls_proc *base, const struct ls_remote_iov *iov, size_t n, int *status)
{
	return live_readv_batches(base, iov, n, status, 1);
}

static int live_list_threads(struct ls_proc *base, int32_t *tids, size_t cap)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)base->pid);
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? LS_ERR_PROCESS_EXITED : LS_ERR_IO;
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < cap) {
		char *end;
		long tid = strtol(e->d_name, &end, 10);
		if (*end || tid <= 0 || tid > INT32_MAX)
			continue;
		tids[n++] = (int32_t)tid;
	}
	closedir(d);
	return (int)n;
}

static int read_small_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return (int)n;
}

static int pread_text(int fd, char *buf, size_t cap)
{
	ssize_t n = pread(fd, buf, cap - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return (int)n;
}

static void read_name(int32_t pid, int32_t tid, char *name)
{
	char path[96], buf[64];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid, (int)tid);
	int n = read_small_file(path, buf, sizeof(buf));
	name[0] = 0;
	if (n > 0) {
		if (buf[n - 1] == '\n')
			buf[--n] = 0;
		ls_copy_str(name, LS_THREAD_NAME_MAX, buf);
	}
}

static void close_task(struct task_files *t)
{
	if (t->stat_fd >= 0)
		close(t->stat_fd);
	if (t->schedstat_fd >= 0)
		close(t->schedstat_fd);
	t->tid = 0;
}

static void close_all_tasks(struct proc_live *p)
{
	for (unsigned i = 0; i < p->task_slots; i++)
		if (p->tasks[i].tid)
			close_task(&p->tasks[i]);
	p->ntasks = 0;
}

static unsigned slot_of(int32_t tid, unsigned slots)
{
	return ((unsigned)tid * 2654435761u) & (slots - 1);
}

/* How many tasks may keep files open: from the descriptor limit, raised if need be (and allowed). */
static unsigned task_budget(unsigned wanted)
{
	struct rlimit lim;
	if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
		return TASK_SLOTS_MIN / 2;
	rlim_t need = (rlim_t)wanted * 2 + FD_RESERVE;
	if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < need) {
		struct rlimit raised = lim;
		raised.rlim_cur = lim.rlim_max == RLIM_INFINITY || lim.rlim_max > need ? need : lim.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
			lim = raised;
	}
	rlim_t fds = lim.rlim_cur == RLIM_INFINITY ? (rlim_t)TASKS_MAX * 2 + FD_RESERVE : lim.rlim_cur;
	rlim_t tasks = fds > FD_RESERVE + 2 * (rlim_t)(TASK_SLOTS_MIN / 2) ? (fds - FD_RESERVE) / 2 : TASK_SLOTS_MIN / 2;
	return tasks > TASKS_MAX ? TASKS_MAX : (unsigned)tasks;
}

/* Double the table (or make the first one); 0 or LS_ERR_NOMEM. */
static int grow_tasks(struct proc_live *p)
{
	unsigned slots = p->task_slots ? p->task_slots * 2 : TASK_SLOTS_MIN;
	struct task_files *table = calloc(slots, sizeof(*table));
	if (!table)
		return LS_ERR_NOMEM;
	for (unsigned i = 0; i < p->task_slots; i++) {
		if (!p->tasks[i].tid)
			continue;
		unsigned j = slot_of(p->tasks[i].tid, slots);
		while (table[j].tid)
			j = (j + 1) & (slots - 1);
		table[j] = p->tasks[i];
	}
	free(p->tasks);
	p->tasks = table;
	p->task_slots = slots;
	return 0;
}

/* Close the files of the task in slot i and keep every other task reachable (backward-shift
 * deletion: the entries after it in its probe run move up into the gap). */
static void remove_task(struct proc_live *p, unsigned i)
{
	unsigned mask = p->task_slots - 1;
	close_task(&p->tasks[i]);
	p->ntasks--;
	for (unsigned j = (i + 1) & mask; p->tasks[j].tid; j = (j + 1) & mask) {
		unsigned home = slot_of(p->tasks[j].tid, p->task_slots);
		/* move j into the gap at i when its home does not lie in (i, j] (cyclically) */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			p->tasks[i] = p->tasks[j];
			p->tasks[j].tid = 0;
			i = j;
		}
	}
}

/* The open files of task tid, opening them if needed; NULL if the task is gone. */
static struct task_files *task_files_of(struct proc_live *p, int32_t tid)
{
	if (p->task_slots) {
		for (unsigned i = slot_of(tid, p->task_slots); p->tasks[i].tid; i = (i + 1) & (p->task_slots - 1))
			if (p->tasks[i].tid == tid)
				return &p->tasks[i];
	}
	if ((p->ntasks + 1) * 2 > p->task_slots) {
		if (p->task_slots / 2 >= TASKS_MAX || p->task_slots / 2 >= task_budget(p->task_slots)) {
			close_all_tasks(p); /* many short-lived threads: start over rather than keep files of dead ones */
		} else if (grow_tasks(p) != 0) {
			if (!p->task_slots)
				return NULL;
			close_all_tasks(p);
		}
	}
	char path[96];
	struct task_files t = {.tid = tid};
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)p->base.pid, (int)tid);
	t.stat_fd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)p->base.pid, (int)tid);
	t.schedstat_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (t.stat_fd < 0) {
		close_task(&t);
		return NULL;
	}
	read_name(p->base.pid, tid, t.name);
	unsigned i = slot_of(tid, p->task_slots);
	while (p->tasks[i].tid)
		i = (i + 1) & (p->task_slots - 1);
	p->tasks[i] = t;
	p->ntasks++;
	return &p->tasks[i];
}

/* schedstat's fields: time on a CPU (ns), time waiting on a run queue (ns), times scheduled. */
static int parse_schedstat(const char *buf, uint64_t out[3])
{
	const char *p = buf;
	for (int i = 0; i < 3; i++) {
		char *end;
		out[i] = strtoull(p, &end, 10);
		if (end == p)
			return i; /* how many fields parsed */
		p = end;
	}
	return 3;
}

/* The state from stat: field 3, after the last ')' (comm may contain spaces and parentheses). */
static int read_state(struct task_files *t, char *state)
{
	char buf[1024];
	if (pread_text(t->stat_fd, buf, sizeof(buf)) < 0)
		return LS_ERR_IO;
	const char *close_paren = strrchr(buf, ')');
	*state = close_paren && close_paren[1] == ' ' && close_paren[2] ? close_paren[2] : 0;
	return 0;
}

static int live_thread_info(struct ls_proc *base, int32_t tid, struct ls_os_thread *out)
{
	struct proc_live *p = (struct proc_live *)base;
	char buf[256];
	memset(out, 0, sizeof(*out));
	struct task_files *t = task_files_of(p, tid);
	if (!t)
		return LS_ERR_IO;
	uint64_t now = ls_clock_ns(CLOCK_MONOTONIC), sched[3] = {0, 0, 0};
	int nsched = 0;
	if (t->schedstat_fd >= 0 && pread_text(t->schedstat_fd, buf, sizeof(buf)) > 0)
		nsched = parse_schedstat(buf, sched); /* if it failed, stat below tells whether the task is gone */
	int full = nsched == 3 && (sched[0] | sched[1] | sched[2]) != 0;
	int need_stat = !full || !t->queried || now - t->stat_ns >= STAT_REFRESH_NS;
	char state = t->state;
	int exact = t->state_exact;
	if (!need_stat) {
		int same = sched[0] == t->ran_ns && sched[1] == t->waited_ns && sched[2] == t->runs;
		int stayed_on = t->state == 'R' && sched[2] == t->runs && sched[1] == t->waited_ns &&
				sched[0] > t->ran_ns && sched[0] - t->ran_ns >= now - t->query_ns;
		if (same && exact)
			; /* nothing happened that schedstat sees: the state stands */
		else if (stayed_on)
			state = 'R', exact = 0;
		else
			need_stat = 1;
	}
	if (need_stat) {
		if (read_state(t, &state) != 0)
			goto gone;
		exact = 1;
		t->stat_ns = now;
	}
	t->queried = 1;
	t->state = state;
	t->state_exact = exact;
	t->ran_ns = sched[0];
	t->waited_ns = sched[1];
	t->runs = sched[2];
	t->query_ns = now;
	out->state = state;
	if (nsched > 0) {
		out->cpu_ns = sched[0];
		out->has_cpu_time = 1;
	}
	memcpy(out->name, t->name, sizeof(out->name));
	return 0;
gone:
	remove_task(p, (unsigned)(t - p->tasks)); /* the task exited; its tid may come back as another thread */
	return LS_ERR_IO;
}

static void live_free(struct ls_proc *base)
{
	struct proc_live *p = (struct proc_live *)base;
	if (p->mem_fd >= 0)
		close(p->mem_fd);
	close_all_tasks(p);
	free(p->tasks);
	free(p);
}

static const struct ls_proc_ops live_ops = {
	.read = live_read,
	.readv = live_readv,
	.list_threads = live_list_threads,
	.thread_info = live_thread_info,
	.free = live_free,
	.readv_prefix = live_readv_prefix,
};

int ls_proc_open_live(int32_t pid, struct ls_proc **out)
{
	if (pid <= 0)
		return LS_ERR_NO_PROCESS;
	if (kill(pid, 0) != 0 && errno == ESRCH)
		return LS_ERR_NO_PROCESS;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	if (access(path, F_OK) != 0)
		return LS_ERR_NO_PROCESS;
	struct proc_live *p = calloc(1, sizeof(*p));
	if (!p)
		return LS_ERR_NOMEM;
	p->base.ops = &live_ops;
	p->base.pid = pid;
	p->mem_fd = -1;
	*out = &p->base;
	return 0;
}
