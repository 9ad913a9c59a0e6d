#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "log.h"

const char *const log_level_names[] = { "error", "warn", "info", "debug",
					NULL };

static bool log_stderr = true;
static bool log_journal;
static enum log_level log_max = LOG_LVL_INFO;

/* Is stderr the journal?  systemd sets JOURNAL_STREAM=<dev>:<inode> of the
 * stream it connected to stdout/stderr; stderr being that very stream (not
 * redirected since) means journald reads it, and then a line may start
 * with "<N>", N its syslog priority (sd-daemon(3)); journald stamps the
 * time and the pid itself. */
static bool log_stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

void log_init(const char *ident, bool to_stderr, enum log_level level)
{
	log_stderr = to_stderr;
	log_max = level;
	log_journal = to_stderr && log_stderr_is_journal();
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(enum log_level level)
{
	log_max = level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char line[2048];
	va_list ap;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	err_oneline(line);
	/* One write per line: a builder child logs to the same stream. */
	if (log_journal) {
		fprintf(stderr, "<%d>%s\n", prio[level], line);
	} else if (log_stderr) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		fprintf(stderr, "xsagent[%ld.%03ld] %s: %s\n", (long)ts.tv_sec,
			ts.tv_nsec / 1000000, log_level_names[level], line);
	} else {
		syslog(prio[level], "%s", line);
	}
}
