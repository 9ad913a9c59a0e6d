#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kcache.h"

/* FNV-1a: a name for the path, not a defence; the directory is dom0's. */
static uint64_t path_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Ours alone: of kind type, owned by this user, writable by nobody else. */
static bool trusted(const struct stat *st, mode_t type)
{
	return (st->st_mode & S_IFMT) == type && st->st_uid == geteuid() &&
	       !(st->st_mode & (S_IWGRP | S_IWOTH));
}

void kcache_lookup(const char *dir, const char *kernel, char *use, size_t un,
		   char *fill, size_t fn)
{
	struct stat st, dst, est;
	char entry[1100];

	snprintf(use, un, "%s", kernel);
	fill[0] = '\0';
	if (!*dir || stat(kernel, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	/* The builder loads whatever the entry holds into a guest: a cache
	 * directory someone else could write to is not used at all (a
	 * missing one is made, 0700, when an entry is written). */
	if (lstat(dir, &dst) == 0 && !trusted(&dst, S_IFDIR))
		return;
	snprintf(entry, sizeof(entry), "%s/%016llx-%lld-%lld.%09ld-%llu.elf", dir,
		 (unsigned long long)path_hash(kernel), (long long)st.st_size,
		 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
		 (unsigned long long)st.st_ino);
	/* Only an entry this user wrote: a regular file, not a link, that no
	 * one else may write.  Anything else by that name is replaced. */
	if (lstat(entry, &est) == 0 && trusted(&est, S_IFREG))
		snprintf(use, un, "%s", entry);
	else
		snprintf(fill, fn, "%s", entry);
}

int kcache_prepare(const char *fill)
{
	char dir[1100], *slash, *p;

	snprintf(dir, sizeof(dir), "%s", fill);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return -EINVAL;
	*slash = '\0';
	for (p = dir + 1; ; p++) {
		char c = *p;

		if (c == '/' || c == '\0') {
			*p = '\0';
			if (mkdir(dir, 0700) < 0 && errno != EEXIST)
				return -errno;
			*p = c;
		}
		if (!c)
			break;
	}
	return 0;
}

void kcache_prune(const char *fill)
{
	char dir[1100], prefix[32], path[1400];
	const char *base = strrchr(fill, '/');
	struct dirent *d;
	DIR *dh;

	if (!base)
		return;
	snprintf(dir, sizeof(dir), "%.*s", (int)(base - fill), fill);
	base++;
	snprintf(prefix, sizeof(prefix), "%.17s", base);	/* hash and '-' */
	dh = opendir(dir);
	if (!dh)
		return;
	while ((d = readdir(dh))) {
		if (strncmp(d->d_name, prefix, strlen(prefix)) ||
		    !strcmp(d->d_name, base))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		unlink(path);
	}
	closedir(dh);
}
