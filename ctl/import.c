/* import: a placeholder until the importer is merged (import.h).  It
 * refuses every file, so that `xsagentctl import` says so rather than
 * writing nothing. */
#include <errno.h>
#include <stdio.h>

#include "import.h"

int import_xlcfg(const char *cfg_path, FILE *out, char *err, size_t errlen)
{
	(void)cfg_path;
	(void)out;
	snprintf(err, errlen, "import: not built yet");
	return -ENOSYS;
}
