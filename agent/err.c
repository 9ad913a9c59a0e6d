#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static void err_vset(struct agent_err *err, int errnum, const char *fmt,
		     va_list ap)
{
	err->errnum = errnum > 0 ? errnum : EIO;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	/* One line: it is logged and published as a task's error. */
	err_oneline(err->msg);
}

int err_set(struct agent_err *err, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(err, errnum, fmt, ap);
	va_end(ap);
	return -err->errnum;
}

int err_sys(struct agent_err *err, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	err_vset(err, errnum, fmt, ap);
	va_end(ap);
	len = strlen(err->msg);
	snprintf(err->msg + len, sizeof(err->msg) - len, ": %s",
		 strerror(err->errnum));
	return -err->errnum;
}

int err_prefix(struct agent_err *err, const char *fmt, ...)
{
	char head[128], old[sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s%s", head, old);
	err_oneline(err->msg);
	if (!err->errnum)
		err->errnum = EIO;
	return -err->errnum;
}

void err_clear(struct agent_err *err)
{
	err->errnum = 0;
	err->msg[0] = '\0';
}

void err_oneline(char *s)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			*s = '?';
}
