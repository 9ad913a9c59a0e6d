#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

const char *const log_level_names[] = { "error", "warn", "info", "debug",
					NULL };

static bool log_stderr = true;
static enum log_level log_max = LOG_LVL_INFO;

void log_init(const char *ident, bool to_stderr, enum log_level level)
{
	log_stderr = to_stderr;
	log_max = level;
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
	va_list ap;

	if (level > log_max)
		return;
	va_start(ap, fmt);
	if (log_stderr) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		fprintf(stderr, "xsagent[%ld.%03ld] %s: ", (long)ts.tv_sec,
			ts.tv_nsec / 1000000, log_level_names[level]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else {
		vsyslog(prio[level], fmt, ap);
	}
	va_end(ap);
}
