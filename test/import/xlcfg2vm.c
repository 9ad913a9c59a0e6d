/* test/import/xlcfg2vm FILE.cfg: import_xlcfg from the command line, until
 * xsagentctl import calls it.  The VM file goes to stdout; on an error the
 * reason goes to stderr and the exit status is 1. */
#include <stdio.h>

#include "import.h"

int main(int argc, char **argv)
{
	char err[256];

	if (argc != 2) {
		fprintf(stderr, "usage: xlcfg2vm FILE.cfg\n");
		return 2;
	}
	if (import_xlcfg(argv[1], stdout, err, sizeof(err)) < 0) {
		fprintf(stderr, "xlcfg2vm: %s\n", err);
		return 1;
	}
	return 0;
}
