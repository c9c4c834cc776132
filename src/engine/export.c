/* export.c - the table of export formats (see export.h); each format is its own export_<name>.c. */
#include "export.h"

#include <string.h>

extern const struct ls_exporter ls_export_collapsed;
extern const struct ls_exporter ls_export_callgrind;
extern const struct ls_exporter ls_export_pprof;
extern const struct ls_exporter ls_export_speedscope;

const struct ls_exporter *const ls_exporters[] = {
	&ls_export_collapsed,
	&ls_export_callgrind,
	&ls_export_pprof,
	&ls_export_speedscope,
	NULL,
};

const struct ls_exporter *ls_exporter_find(const char *name)
{
	for (size_t i = 0; ls_exporters[i]; i++)
		if (strcmp(ls_exporters[i]->name, name) == 0)
			return ls_exporters[i];
	return NULL;
}
