/* Shared by the harnesses: a private scratch directory, files written
 * from the fuzzer's bytes, and the agent's log kept quiet and cheap. */
#ifndef XSAGENT_FUZZ_UTIL_H
#define XSAGENT_FUZZ_UTIL_H

#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Linked with -Wl,--wrap=log_msg: every log line the agent's modules
 * write comes here.  It is formatted (the arguments are checked by the
 * sanitizers as in the agent) but not printed. */
void __wrap_log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A harness that feeds the agent bytes it must never log as they are
 * sets this: a line with a control character (an escape sequence, a
 * newline that forges a second line) or a byte above 0x7e is a finding. */
static int fuzz_log_printable;

void __wrap_log_msg(enum log_level level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	(void)level;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (const char *c = line; fuzz_log_printable && *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e) {
			fprintf(stderr, "fuzz: a log line with byte 0x%02x: %s\n",
				(unsigned char)*c, line);
			abort();
		}
}

static char fuzz_dir[64];

__attribute__((unused)) static void fuzz_fail(const char *what)
{
	fprintf(stderr, "fuzz: invariant broken: %s\n", what);
	abort();
}

__attribute__((unused)) static void fuzz_check(int cond, const char *what)
{
	if (!cond)
		fuzz_fail(what);
}

static void fuzz_cleanup(void)
{
	char cmd[128];

	if (!fuzz_dir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fuzz_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz: could not remove %s\n", fuzz_dir);
}

/* A scratch directory of this process, removed at exit. */
__attribute__((unused)) static void fuzz_make_dir(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/xsagent-fuzz-XXXXXX",
		 t && *t && strlen(t) < 32 ? t : "/tmp");
	if (!mkdtemp(fuzz_dir)) {
		perror("fuzz: mkdtemp");
		exit(2);
	}
	atexit(fuzz_cleanup);
}

/* Write len bytes to <fuzz_dir>/<name>, replacing what was there; the
 * path goes to path (at least 128 bytes). */
__attribute__((unused)) static void fuzz_write(const char *name, const void *data, size_t len,
		       char *path)
{
	int fd;

	snprintf(path, 128, "%s/%s", fuzz_dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	fuzz_check(fd >= 0, "open scratch file");
	fuzz_check(len == 0 || write(fd, data, len) == (ssize_t)len,
		   "write scratch file");
	close(fd);
}

/* <fuzz_dir>/scripts with the default hotplug scripts, executable, so that
 * VM files naming them get past the device checks; its path goes to
 * scripts (at least 128 bytes). */
__attribute__((unused)) static void fuzz_make_scripts(char *scripts)
{
	char path[128];

	snprintf(scripts, 128, "%s/scripts", fuzz_dir);
	fuzz_check(mkdir(scripts, 0700) == 0, "mkdir scripts");
	fuzz_write("scripts/vif-bridge", "#!/bin/sh\n", 10, path);
	fuzz_check(chmod(path, 0700) == 0, "chmod");
	fuzz_write("scripts/block", "#!/bin/sh\n", 10, path);
	fuzz_check(chmod(path, 0700) == 0, "chmod");
}

#endif
