/* The kernel cache's naming, lookup and pruning, on a scratch directory. */
#include <stdlib.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "kcache.h"

static char dir[] = "/tmp/xsagent-kc-XXXXXX";

static void touch(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

int main(void)
{
	char kernel[256], cache[256], use[1100], fill[1100], fill2[1100];
	char other[1200], stale[1200];
	struct timespec ts[2] = { { 1000, 0 }, { 1000, 0 } };

	if (!mkdtemp(dir))
		return 2;
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", dir);
	snprintf(cache, sizeof(cache), "%s/cache/kernels", dir);
	touch(kernel, "bzImage");

	kcache_lookup("", kernel, use, sizeof(use), fill, sizeof(fill));
	ok(!strcmp(use, kernel) && !*fill, "empty cache dir: load the kernel, fill nothing");
	kcache_lookup(cache, "/nonexistent/vmlinuz", use, sizeof(use), fill, sizeof(fill));
	ok(!strcmp(use, "/nonexistent/vmlinuz") && !*fill, "missing kernel: no entry");

	kcache_lookup(cache, kernel, use, sizeof(use), fill, sizeof(fill));
	ok(!strcmp(use, kernel), "first lookup loads the kernel itself");
	ok(!strncmp(fill, cache, strlen(cache)) && strstr(fill, ".elf"),
	   "and names an entry to fill (%s)", fill);
	ok(kcache_prepare(fill) == 0, "prepare makes the nested directory");
	touch(fill, "ELF");
	kcache_lookup(cache, kernel, use, sizeof(use), fill2, sizeof(fill2));
	ok(!strcmp(use, fill) && !*fill2, "second lookup loads the entry");

	/* An entry anyone could have written is not loaded but replaced. */
	chmod(fill, 0666);
	kcache_lookup(cache, kernel, use, sizeof(use), fill2, sizeof(fill2));
	ok(!strcmp(use, kernel) && !strcmp(fill2, fill),
	   "a world-writable entry is not loaded, and is refilled");
	chmod(fill, 0644);
	snprintf(other, sizeof(other), "%s.real", fill);
	rename(fill, other);
	ok(symlink(other, fill) == 0, "entry replaced by a symlink");
	kcache_lookup(cache, kernel, use, sizeof(use), fill2, sizeof(fill2));
	ok(!strcmp(use, kernel) && !strcmp(fill2, fill),
	   "a symlinked entry is not loaded");
	unlink(fill);
	rename(other, fill);
	chmod(cache, 0777);
	kcache_lookup(cache, kernel, use, sizeof(use), fill2, sizeof(fill2));
	ok(!strcmp(use, kernel) && !*fill2,
	   "a world-writable cache directory is neither used nor filled");
	chmod(cache, 0700);
	kcache_lookup(cache, kernel, use, sizeof(use), fill2, sizeof(fill2));
	ok(!strcmp(use, fill), "the entry is loaded again once trusted");

	/* A changed kernel (new mtime) gets a new entry; filling it prunes the
	 * old one but not another kernel's entry. */
	snprintf(stale, sizeof(stale), "%s", fill);
	snprintf(other, sizeof(other), "%s/0123456789abcdef-1-1.0-1.elf", cache);
	touch(other, "ELF");
	utimensat(AT_FDCWD, kernel, ts, 0);
	kcache_lookup(cache, kernel, use, sizeof(use), fill, sizeof(fill));
	ok(!strcmp(use, kernel) && *fill && strcmp(fill, stale),
	   "a changed kernel misses the old entry");
	touch(fill, "ELF");
	kcache_prune(fill);
	ok(access(stale, F_OK) != 0, "prune removed the stale entry");
	ok(access(fill, F_OK) == 0, "prune kept the new entry");
	ok(access(other, F_OK) == 0, "prune kept another kernel's entry");

	unlink(fill);
	unlink(other);
	unlink(kernel);
	rmdir(cache);
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	rmdir(cache);
	rmdir(dir);
	return tap_done();
}
