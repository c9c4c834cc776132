/* profile.c - an aggregated profile's tables (see profile.h). */
#include "profile.h"

#include <stdlib.h>
#include <string.h>

#include "array.h"
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
	if (ls_array_reserve((void **)&p->threads, &p->cap_threads, (size_t)p->nthreads + 1, sizeof(*p->threads)))
		return LS_ERR_NOMEM;
	p->threads[p->nthreads] = *t;
	return p->nthreads++;
}

int ls_profile_add_record(struct ls_profile *p, uint32_t thread, uint32_t stack, const struct ls_weights *w)
{
	if (ls_array_reserve((void **)&p->records, &p->cap_records, p->nrecords + 1, sizeof(*p->records)))
		return LS_ERR_NOMEM;
	p->records[p->nrecords++] = (struct ls_record){thread, stack, *w};
	return 0;
}
