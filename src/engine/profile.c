/* profile.c - an aggregated profile's tables (see profile.h). */
#include "profile.h"

#include <stdlib.h>
#include <string.h>

#include "ls_error.h"

int ls_profile_init(struct ls_profile *p)
{
	memset(p, 0, sizeof(*p));
	int rc = ls_strtab_init(&p->strings);
	if (!rc)
		rc = ls_functab_init(&p->functions);
	if (!rc)
		rc = ls_frametab_init(&p->frames);
	if (!rc)
		rc = ls_stacktab_init(&p->stacks);
	if (rc)
		ls_profile_release(p);
	return rc;
}

void ls_profile_release(struct ls_profile *p)
{
	ls_strtab_release(&p->strings);
	ls_functab_release(&p->functions);
	ls_frametab_release(&p->frames);
	ls_stacktab_release(&p->stacks);
	free(p->threads);
	free(p->records);
	memset(p, 0, sizeof(*p));
}

int64_t ls_profile_add_thread(struct ls_profile *p, const struct ls_thread_desc *t)
{
	if (p->nthreads == p->cap_threads) {
		uint32_t cap = p->cap_threads ? p->cap_threads * 2 : 16;
		struct ls_thread_desc *n = realloc(p->threads, cap * sizeof(*n));
		if (!n)
			return LS_ERR_NOMEM;
		p->threads = n;
		p->cap_threads = cap;
	}
	p->threads[p->nthreads] = *t;
	return p->nthreads++;
}

int ls_profile_add_record(struct ls_profile *p, uint32_t thread, uint32_t stack, const struct ls_weights *w)
{
	if (p->nrecords == p->cap_records) {
		size_t cap = p->cap_records ? p->cap_records * 2 : 256;
		struct ls_record *n = realloc(p->records, cap * sizeof(*n));
		if (!n)
			return LS_ERR_NOMEM;
		p->records = n;
		p->cap_records = cap;
	}
	p->records[p->nrecords++] = (struct ls_record){thread, stack, *w};
	return 0;
}
