/* procstat.c - process and host metrics read from /proc (see procstat.h).
 *
 * /proc/PID/stat fields 14 and 15 (utime, stime) are in clock ticks; the text after the last ')'
 * is parsed because the command name may hold spaces and parentheses.
 */
#define _GNU_SOURCE
#include "procstat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ls_error.h"

int ls_procstat_process_cpu_ns(int32_t pid, uint64_t *out)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return LS_ERR_IO;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	const char *p = strrchr(buf, ')');
	if (!p)
		return LS_ERR_IO;
	p += 2; /* field 3, the state */
	for (int field = 3; field < 14 && *p; field++) {
		p = strchr(p, ' ');
		if (!p)
			return LS_ERR_IO;
		p++;
	}
	char *end;
	unsigned long long utime = strtoull(p, &end, 10);
	if (end == p)
		return LS_ERR_IO;
	unsigned long long stime = strtoull(end, &end, 10);
	long ticks = sysconf(_SC_CLK_TCK);
	if (ticks <= 0)
		ticks = 100;
	*out = (utime + stime) * (1000000000ull / (unsigned long long)ticks);
	return 0;
}
