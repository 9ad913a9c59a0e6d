/* xsagentctl import: an xl.cfg(5) file turned into an xsagent VM file.
 *
 * The xl.cfg is read with Xen's own parser (libxlutil, as xl reads it) and
 * every setting in it is either mapped to a VM file key, ignored on a short
 * documented list (xend-era hints that xl ignores too), or refused by name:
 * nothing is dropped silently.  Each value is checked with the agent's own
 * key table (agent/conf.c), so what is written is what the agent loads,
 * host-side checks aside (disk targets and hotplug scripts, which depend on
 * the dom0 the file is installed on).  Links agent/conf.c, agent/err.c,
 * -lxlutil -lxenlight -linih. */
#ifndef XSAGENT_IMPORT_H
#define XSAGENT_IMPORT_H

#include <stddef.h>
#include <stdio.h>

/* Read the xl.cfg at cfg_path and write a complete VM file (INI) to out.
 * Returns 0, or a negative errno with a one-line reason in err naming the
 * offending key (or the file and line of a syntax error); nothing is
 * written to out on an error. */
int import_xlcfg(const char *cfg_path, FILE *out, char *err, size_t errlen);

#endif
