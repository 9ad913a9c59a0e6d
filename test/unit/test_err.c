/* Error messages and log lines are one printable line each, whatever bytes
 * the causes carried: a hotplug script's output, a driver's error node,
 * hotplug-error.  A newline on the journal's stream would start a record of
 * its own (and "<N>" after it a priority of the writer's choosing); an
 * escape sequence would reach the terminal of whoever reads the log. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "err.h"
#include "log.h"

/* What log_msg wrote to stderr while fn ran, in buf. */
static void capture(char *buf, size_t n, const char *arg)
{
	char path[] = "/tmp/xsagent-err-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	ssize_t got;

	buf[0] = '\0';
	if (fd < 0 || saved < 0)
		return;
	unlink(path);
	fflush(stderr);
	dup2(fd, 2);
	log_info("cause: %s.", arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	got = pread(fd, buf, n - 1, 0);
	buf[got > 0 ? got : 0] = '\0';
	close(fd);
}

int main(void)
{
	struct agent_err e = { 0 };
	char line[512], *p;

	err_set(&e, EIO, "script said: %s", "one\ntwo\r\x1b[31mred\x7f");
	is_str(e.msg, "script said: one?two??[31mred?", "err_set: control bytes become '?'");
	err_sys(&e, ENOENT, "open %s", "a\vb\tc");
	is_str(e.msg, "open a?b\tc: No such file or directory", "err_sys too; a tab stays");
	err_set(&e, EIO, "cause");
	err_prefix(&e, "vbd %s: ", "x\ny");
	is_str(e.msg, "vbd x?y: cause", "err_prefix too");
	err_set(&e, EIO, "caf\xc3\xa9 ok");
	is_str(e.msg, "caf\xc3\xa9 ok", "bytes above 0x7f are left alone (UTF-8)");

	log_init("test_err", true, LOG_LVL_INFO);
	capture(line, sizeof(line), "a\nxsagent[1.000] error: forged\n<0>b\x1b]0;t\x07");
	p = strchr(line, '\n');
	ok(p && p[1] == '\0', "one log line, one newline at its end: %s", line);
	ok(strstr(line, "info: cause: a?xsagent[1.000] error: forged?<0>b?]0;t?.") != NULL,
	   "the cause's newlines and escapes logged as '?'");
	return tap_done();
}
