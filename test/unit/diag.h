/* Unit-test helper: does any diagnostic line contain s?  On a miss it
 * prints them all as TAP comments, so a failed check shows what was said. */
#ifndef XSAGENT_TEST_DIAG_H
#define XSAGENT_TEST_DIAG_H

#include "conf.h"

static inline int has(const struct conf_diag *d, const char *s)
{
	for (unsigned i = 0; i < d->n; i++)
		if (strstr(d->lines[i], s))
			return 1;
	for (unsigned i = 0; i < d->n; i++)
		printf("#   diag: %s\n", d->lines[i]);
	return 0;
}

#endif
