/* The kernel cache: decompressed kernels kept in a dom0 directory, so a
 * start of the same kernel skips decompressing it (under emulation that is
 * most of a start).  An entry is named after the kernel file's path, size,
 * mtime and inode: a changed or replaced kernel gets a new entry and the
 * old one is removed when the new one is written. */
#ifndef XSAGENT_KCACHE_H
#define XSAGENT_KCACHE_H

#include <stddef.h>

/* Decide what the builder loads for kernel: *use is the cache entry when
 * one exists, else the kernel itself, and then *fill names the entry to
 * write (empty when dir is empty or the kernel cannot be stat'ed). */
void kcache_lookup(const char *dir, const char *kernel, char *use, size_t un,
		   char *fill, size_t fn);
/* Make the cache directory (mode 0700) and remove other entries of the
 * same kernel path than fill.  Best effort: the cache is an optimisation. */
int kcache_prepare(const char *fill);
void kcache_prune(const char *fill);

#endif
