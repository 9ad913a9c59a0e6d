/* import: an xl.cfg file into an xsagent VM file. */
#ifndef XSAGENTCTL_IMPORT_H
#define XSAGENTCTL_IMPORT_H

#include <stddef.h>
#include <stdio.h>

/* Read the xl.cfg at cfg_path and write the VM file to out.  Returns 0 or
 * -errno; on error err (errlen bytes) gets a one-line reason. */
int import_xlcfg(const char *cfg_path, FILE *out, char *err, size_t errlen);

#endif
