/* One error convention for the whole agent.
 *
 * A function that can fail returns 0 or a negative errno and, where the
 * failure happens, fills one struct agent_err.  Callers on the way up may
 * prefix context ("init: ") but never overwrite the cause.  Only the stage
 * driver (start.c) and main() log an error and publish it; nobody else does.
 */
#ifndef XSAGENT_ERR_H
#define XSAGENT_ERR_H

struct agent_err {
	int errnum;		/* positive errno, 0 when unset */
	char msg[256];		/* one line, no trailing newline */
};

/* Record errnum (positive) and a message; returns -errnum. */
int err_set(struct agent_err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like err_set, with ": strerror(errnum)" appended. */
int err_sys(struct agent_err *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix the existing message with context; returns -err->errnum. */
int err_prefix(struct agent_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void err_clear(struct agent_err *err);

/* Make s one printable line in place: every control byte (below 0x20 but
 * tab, and 0x7f) becomes '?'.  Done to every message here and to every log line
 * (log.c): script output, driver errors and hotplug-error can hold
 * newlines and escape sequences, and a newline on the journal's stream
 * starts a record of its own, with "<N>" a priority of its choosing. */
void err_oneline(char *s);

#endif
