/* Logging: stderr in the foreground (-d), syslog otherwise.  When stderr is
 * the journal (a systemd service), each line starts "<N>", its syslog
 * priority, instead of a time stamp. */
#ifndef XSAGENT_LOG_H
#define XSAGENT_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

extern const char *const log_level_names[];	/* NULL-terminated */

void log_init(const char *ident, bool to_stderr, enum log_level level);
void log_set_level(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
