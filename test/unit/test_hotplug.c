/* The hotplug runner, with plain shell scripts: output lines, exit status,
 * environment, a missing script, a timeout that must kill the script's
 * children too, and children a script leaves behind. */
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "hotplug.h"

static char dir[] = "/tmp/xsagent-hp-XXXXXX";
static struct hotplug_run *run;
static int done_status, ndone, nlines;
static char done_last[256], lines[8][256];

static void on_line(void *arg, const char *line)
{
	(void)arg;
	if (nlines < 8)
		snprintf(lines[nlines], sizeof(lines[0]), "%s", line);
	nlines++;
}

static void on_done(void *arg, int status, const char *last)
{
	(void)arg;
	done_status = status;
	snprintf(done_last, sizeof(done_last), "%s", last);
	ndone++;
	run = NULL;
}

static const char *script(const char *name, const char *body)
{
	static char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	fprintf(f, "#!/bin/sh\n%s", body);
	fclose(f);
	chmod(path, 0755);
	return path;
}

/* Alive: exists and is not a zombie (an orphan's reaper may be slow, or,
 * in a container, absent). */
static int alive(int pid)
{
	char path[64], buf[256], *rp;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && rp[2] != 'Z';
}

static void tick(void *arg)
{
	(void)arg;
}

/* Run one script to its end through a loop, as the agent would; the loop
 * wakes every 50 ms to reap, where the agent has SIGCHLD on a signalfd. */
static int go(const char *path, const char *action, unsigned timeout_s)
{
	char *env[] = { "XENBUS_PATH=backend/vbd/9/51712", "PATH=/usr/bin:/bin", NULL };
	struct hotplug_args a = { path, action, env, timeout_s, on_line, on_done, NULL };
	struct loop *l = loop_new();
	struct loop_timer wake;
	struct agent_err err;
	uint64_t t0 = loop_now_ms();

	ndone = nlines = 0;
	done_last[0] = '\0';
	if (hotplug_start(l, &a, &run, &err) < 0) {
		loop_free(l);
		return -1;
	}
	loop_timer_init(&wake, tick, NULL);
	while (!ndone && loop_now_ms() - t0 < 20000) {
		int status;
		pid_t pid;

		loop_timer_arm(l, &wake, loop_now_ms() + 50);
		loop_run_once(l);
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			if (run)
				hotplug_reaped(run, pid, status);
	}
	loop_timer_disarm(l, &wake);
	loop_free(l);
	return ndone;
}

int main(void)
{
	char pidfile[300];
	FILE *f;
	int gpid = 0;

	if (!mkdtemp(dir))
		return 2;

	ok(go(script("ok", "echo hello\necho \"path=$XENBUS_PATH action=$1\" >&2\nexit 0\n"),
	      "add", 5) == 1, "a script runs to its end");
	ok(WIFEXITED(done_status) && WEXITSTATUS(done_status) == 0, "exit 0");
	is_str(lines[0], "hello", "stdout line");
	is_str(lines[1], "path=backend/vbd/9/51712 action=add", "env and action, on stderr");
	is_str(done_last, "path=backend/vbd/9/51712 action=add", "last line kept");

	go(script("fails", "echo 'disk file /x does not exist' >&2\nexit 3\n"), "add", 5);
	ok(WIFEXITED(done_status) && WEXITSTATUS(done_status) == 3, "exit 3 reported");
	is_str(done_last, "disk file /x does not exist", "its message");

	go("/nonexistent/script", "add", 5);
	ok(WIFEXITED(done_status) && WEXITSTATUS(done_status) == 127, "missing script: 127");
	ok(strstr(done_last, "cannot run /nonexistent/script") != NULL,
	   "missing script: said why (%s)", done_last);

	snprintf(pidfile, sizeof(pidfile), "%s/child.pid", dir);
	{
		char body[512];

		snprintf(body, sizeof(body),
			 "sleep 300 &\necho $! > %s\necho hanging\nsleep 300\n", pidfile);
		go(script("hangs", body), "add", 1);
	}
	ok(done_status == -ETIMEDOUT, "a hanging script times out");
	is_str(done_last, "hanging", "its output before the timeout");
	f = fopen(pidfile, "r");
	ok(f && fscanf(f, "%d", &gpid) == 1, "the script's child pid was recorded");
	if (f)
		fclose(f);
	usleep(100000);
	ok(gpid > 0 && !alive(gpid), "the script's child was killed too");

	{
		char body[512];

		snprintf(body, sizeof(body), "sleep 300 &\necho $! > %s\nexit 0\n", pidfile);
		go(script("leaves", body), "online", 5);
	}
	ok(ndone == 1 && WIFEXITED(done_status) && WEXITSTATUS(done_status) == 0,
	   "a script that leaves a child still ends");
	f = fopen(pidfile, "r");
	gpid = 0;
	if (f) {
		if (fscanf(f, "%d", &gpid) != 1)
			gpid = 0;
		fclose(f);
	}
	usleep(100000);
	waitpid(-1, NULL, WNOHANG);
	ok(gpid > 0 && !alive(gpid), "and its leftover child is gone");

	for (const char *n = "ok\0fails\0hangs\0leaves\0child.pid\0"; *n; n += strlen(n) + 1) {
		char p[300];

		snprintf(p, sizeof(p), "%s/%s", dir, n);
		unlink(p);
	}
	rmdir(dir);
	return tap_done();
}
