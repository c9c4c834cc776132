/* procstat.h - process and host metrics from /proc (Linux). */
#ifndef LS_PROCSTAT_H
#define LS_PROCSTAT_H

#include <stdint.h>

/* CPU time (user + system) the whole process has used, in ns. 0 or LS_ERR_IO. */
int ls_procstat_process_cpu_ns(int32_t pid, uint64_t *out);

#endif
