/* The hotplug runner, with plain shell scripts: output lines, exit status,
 * environment, a missing script, a timeout that must kill the script's
 * children too, and children a script leaves behind; stopping a script
 * (timeout, cancel) gives its TERM trap a grace before SIGKILL, without
 * blocking the loop; a full poll loop makes hotplug_start fail. */
#include <errno.h>
#include <fcntl.h>
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
	struct hotplug_args a = { .script = path, .action = action, .env = env,
				  .timeout_s = timeout_s, .line = on_line, .done = on_done };
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

/* Run the loop until every script (cancelled ones too) is reaped, at most
 * max_ms; returns how long that took. */
static uint64_t drain_runs(struct loop *l, uint64_t max_ms)
{
	struct loop_timer wake;
	uint64_t t0 = loop_now_ms();

	loop_timer_init(&wake, tick, NULL);
	while (hotplug_running() && loop_now_ms() - t0 < max_ms) {
		int status;
		pid_t pid;

		loop_timer_arm(l, &wake, loop_now_ms() + 20);
		loop_run_once(l);
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			hotplug_reap(pid, status);
	}
	loop_timer_disarm(l, &wake);
	return loop_now_ms() - t0;
}

/* Start path and run the loop until its first output line. */
static int start_until_line(struct loop *l, const char *path, unsigned grace_ms)
{
	char *env[] = { "PATH=/usr/bin:/bin", NULL };
	struct hotplug_args a = { .script = path, .action = "add", .env = env,
				  .timeout_s = 30, .line = on_line, .done = on_done };
	struct loop_timer wake;
	struct agent_err err;
	uint64_t t0 = loop_now_ms();

	a.grace_ms = grace_ms;
	ndone = nlines = 0;
	if (hotplug_start(l, &a, &run, &err) < 0)
		return -1;
	loop_timer_init(&wake, tick, NULL);
	while (!nlines && loop_now_ms() - t0 < 10000) {
		loop_timer_arm(l, &wake, loop_now_ms() + 20);
		loop_run_once(l);
	}
	loop_timer_disarm(l, &wake);
	return nlines;
}

static int file_has(const char *path, const char *want)
{
	char buf[64] = "";
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strstr(buf, want) != NULL;
}

static void stopping(void)
{
	char body[512], mark[300], pidfile[300];
	struct loop *l = loop_new();
	uint64_t t0, took;
	int gpid = 0;
	FILE *f;

	/* A timeout: the script's TERM trap runs (it frees what a half-done
	 * add set up) before the run ends as timed out. */
	snprintf(mark, sizeof(mark), "%s/term.mark", dir);
	snprintf(body, sizeof(body),
		 "trap 'echo undone > %s; echo undone; exit 1' TERM\n"
		 "echo hanging\nwhile :; do sleep 1; done\n", mark);
	go(script("traps", body), "add", 1);
	ok(done_status == -ETIMEDOUT, "timeout: reported as timed out");
	ok(file_has(mark, "undone"), "timeout: the script's TERM trap ran (SIGTERM before SIGKILL)");
	is_str(done_last, "undone", "timeout: the trap's output is the last line");
	unlink(mark);

	/* A cancel: returns at once, the trap runs, done is never called, the
	 * run stays counted until it is reaped. */
	ok(start_until_line(l, script("traps", body), 0) == 1, "cancel: the script runs");
	t0 = loop_now_ms();
	hotplug_cancel(run);
	took = loop_now_ms() - t0;
	ok(took < 100, "cancel returns at once (%llu ms)", (unsigned long long)took);
	ok(hotplug_running() == 1, "a cancelled script is still counted until reaped");
	drain_runs(l, 10000);
	ok(hotplug_running() == 0, "the cancelled script was reaped");
	ok(file_has(mark, "undone"), "cancel: the script's TERM trap ran");
	ok(ndone == 0, "cancel: done was not called");
	unlink(mark);

	/* A script that ignores SIGTERM (so do its children): SIGKILL after
	 * the grace, the loop running all along. */
	snprintf(pidfile, sizeof(pidfile), "%s/child.pid", dir);
	snprintf(body, sizeof(body),
		 "trap '' TERM\nsleep 300 &\necho $! > %s\necho stubborn\nsleep 300\n",
		 pidfile);
	ok(start_until_line(l, script("stubborn", body), 400) == 1, "stubborn script runs");
	hotplug_cancel(run);
	took = drain_runs(l, 10000);
	ok(hotplug_running() == 0, "a script ignoring SIGTERM is gone after the grace");
	ok(took >= 300 && took < 5000, "it got the grace first (%llu ms of 400)",
	   (unsigned long long)took);
	f = fopen(pidfile, "r");
	if (!f || fscanf(f, "%d", &gpid) != 1)
		gpid = 0;
	if (f)
		fclose(f);
	usleep(100000);
	waitpid(-1, NULL, WNOHANG);
	ok(gpid > 0 && !alive(gpid), "and its child too");
	unlink(pidfile);
	loop_free(l);
}

/* Past the loop's fd limit no script may start, and the caller hears so. */
static void loop_full(void)
{
	char *env[] = { "PATH=/usr/bin:/bin", NULL };
	char mark[300], body[400];
	struct hotplug_args a = { .action = "add", .env = env, .timeout_s = 5,
				  .line = on_line, .done = on_done };
	struct loop *l = loop_new();
	struct agent_err err = { 0, "" };
	int fd = open("/dev/null", O_RDONLY), rc, n = 0;
	struct hotplug_run *r = (void *)1;

	while (loop_add(l, fd, NULL, NULL) == 0)
		n++;
	snprintf(mark, sizeof(mark), "%s/started.mark", dir);
	snprintf(body, sizeof(body), "echo started > %s\n", mark);
	a.script = script("starts", body);
	rc = hotplug_start(l, &a, &r, &err);
	ok(rc == -EMFILE, "loop full (%d fds): hotplug_start fails (%d)", n, rc);
	ok(err.errnum == EMFILE && strstr(err.msg, "starts add") &&
	   strstr(err.msg, "poll loop is full"), "with the reason: %s", err.msg);
	ok(r == NULL, "and hands back no run");
	ok(hotplug_running() == 0, "no run listed");
	usleep(300000);
	ok(access(mark, F_OK) < 0, "the script never ran");
	ok(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "no child was forked");
	unlink(mark);
	close(fd);
	loop_free(l);
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

	stopping();
	loop_full();

	for (const char *n = "ok\0fails\0hangs\0leaves\0child.pid\0traps\0stubborn\0starts\0";
	     *n; n += strlen(n) + 1) {
		char p[300];

		snprintf(p, sizeof(p), "%s/%s", dir, n);
		unlink(p);
	}
	rmdir(dir);
	return tap_done();
}
