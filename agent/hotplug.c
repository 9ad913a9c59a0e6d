#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hotplug.h"
#include "log.h"

struct hotplug_run {
	struct hotplug_run *next;	/* every run not yet reaped */
	struct loop *loop;
	struct hotplug_args a;
	pid_t pid;
	int fd;			/* read end of the output pipe, -1 when closed */
	struct loop_timer timer;	/* the timeout, then the grace */
	bool timed_out;
	bool stopping;		/* SIGTERM sent; SIGKILL when the timer fires */
	bool cancelled;		/* no more callbacks: lines go to the log */
	char what[96];		/* "block add": for the log once cancelled */
	char buf[1024];		/* a partial line */
	size_t len;
	char last[256];
};

static struct hotplug_run *runs;

static void emit(struct hotplug_run *r, const char *line)
{
	if (!*line)
		return;
	snprintf(r->last, sizeof(r->last), "%s", line);
	if (r->cancelled)	/* what its trap did: worth keeping */
		log_info("%s (cancelled, pid %d): %s", r->what, (int)r->pid, line);
	else if (r->a.line)
		r->a.line(r->a.arg, line);
}

/* Hand complete lines on; a line longer than the buffer is cut. */
static void drain(struct hotplug_run *r)
{
	for (;;) {
		ssize_t n = read(r->fd, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
		char *nl;

		if (n <= 0)
			return;
		r->len += (size_t)n;
		r->buf[r->len] = '\0';
		while ((nl = strchr(r->buf, '\n'))) {
			*nl = '\0';
			emit(r, r->buf);
			r->len -= (size_t)(nl + 1 - r->buf);
			memmove(r->buf, nl + 1, r->len + 1);
		}
		if (r->len == sizeof(r->buf) - 1) {
			emit(r, r->buf);
			r->len = 0;
		}
	}
}

static void close_out(struct hotplug_run *r)
{
	if (r->fd < 0)
		return;
	drain(r);
	if (r->len) {
		r->buf[r->len] = '\0';
		emit(r, r->buf);
		r->len = 0;
	}
	loop_del(r->loop, r->fd);
	close(r->fd);
	r->fd = -1;
}

static void on_output(void *arg, int fd, short revents)
{
	struct hotplug_run *r = arg;

	(void)fd;
	drain(r);
	/* EOF (every writer gone) or error: stop polling; the exit of the
	 * script, reaped by the agent, ends the run. */
	if (revents & (POLLHUP | POLLERR)) {
		loop_del(r->loop, r->fd);
		close_out(r);
	}
}

static void on_grace(void *arg)
{
	struct hotplug_run *r = arg;

	log_warn("%s (pid %d) still running %u ms after SIGTERM: SIGKILL",
		 r->what, (int)r->pid, r->a.grace_ms);
	kill(-r->pid, SIGKILL);
}

/* SIGTERM to the group now, SIGKILL at the end of the grace (a timer: the
 * loop goes on meanwhile).  Once is enough. */
static void stop(struct hotplug_run *r)
{
	if (r->stopping)
		return;
	r->stopping = true;
	kill(-r->pid, SIGTERM);
	loop_timer_disarm(r->loop, &r->timer);	/* the timeout, if armed */
	loop_timer_init(&r->timer, on_grace, r);
	loop_timer_arm(r->loop, &r->timer, loop_now_ms() + r->a.grace_ms);
}

static void on_timeout(void *arg)
{
	struct hotplug_run *r = arg;

	r->timed_out = true;
	stop(r);
}

int hotplug_start(struct loop *l, const struct hotplug_args *a,
		  struct hotplug_run **run_r, struct agent_err *err)
{
	const char *base = strrchr(a->script, '/');
	struct hotplug_run *r;
	int p[2];

	*run_r = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return err_set(err, ENOMEM, "out of memory");
	r->loop = l;
	r->a = *a;
	if (!r->a.grace_ms)
		r->a.grace_ms = HOTPLUG_GRACE_MS;
	snprintf(r->what, sizeof(r->what), "%s %s", base ? base + 1 : a->script,
		 a->action);
	if (pipe2(p, O_CLOEXEC) < 0) {
		int e = errno;

		err_sys(err, e, "cannot run %s: pipe", r->what);
		free(r);
		return -e;
	}
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	r->fd = p[0];
	/* The loop's slot before the fork: a script whose output nobody
	 * reads must not start at all (it used to be started, killed at once
	 * and reported as started). */
	if (loop_add(l, r->fd, on_output, r) < 0) {
		close(p[0]);
		close(p[1]);
		err_set(err, EMFILE, "cannot run %s: the poll loop is full "
			"(too many scripts and builders at once)", r->what);
		free(r);
		return -EMFILE;
	}
	fflush(NULL);	/* the child must not inherit unwritten output */
	r->pid = fork();
	if (r->pid < 0) {
		int e = errno;

		loop_del(l, r->fd);
		close(p[0]);
		close(p[1]);
		err_sys(err, e, "cannot run %s: fork", r->what);
		free(r);
		return -e;
	}
	if (r->pid == 0) {
		char *argv[] = { (char *)a->script, (char *)a->action, NULL };
		sigset_t none;
		int nul = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* Its output goes to the agent; if the agent dies (SIGKILL),
		 * a write must not kill the script half-way through setting up
		 * or freeing a device.  An ignored signal stays so across exec. */
		signal(SIGPIPE, SIG_IGN);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(p[1], 1);
		dup2(p[1], 2);
		execve(a->script, argv, a->env);
		dprintf(2, "cannot run %s: %s\n", a->script, strerror(errno));
		_exit(127);
	}
	/* Both sides set the group: whichever runs first, kill(-pid) works. */
	setpgid(r->pid, r->pid);
	close(p[1]);
	loop_timer_init(&r->timer, on_timeout, r);
	loop_timer_arm(l, &r->timer, loop_now_ms() + (uint64_t)a->timeout_s * 1000);
	r->next = runs;
	runs = r;
	*run_r = r;
	return 0;
}

unsigned hotplug_running(void)
{
	unsigned n = 0;

	for (struct hotplug_run *r = runs; r; r = r->next)
		n++;
	return n;
}

pid_t hotplug_pid(const struct hotplug_run *r)
{
	return r->pid;
}

static void hotplug_free(struct hotplug_run *r)
{
	for (struct hotplug_run **p = &runs; *p; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	/* Whatever the script left in its group goes with it. */
	kill(-r->pid, SIGKILL);
	close_out(r);
	loop_timer_disarm(r->loop, &r->timer);
	free(r);
}

int hotplug_reaped(struct hotplug_run *r, pid_t pid, int status)
{
	hotplug_done_fn *done = r->a.done;
	void *arg = r->a.arg;
	bool cancelled = r->cancelled;
	char last[sizeof(r->last)];

	if (pid != r->pid)
		return 0;
	close_out(r);
	memcpy(last, r->last, sizeof(last));
	if (r->timed_out)
		status = -ETIMEDOUT;
	if (cancelled)
		log_info("%s (cancelled, pid %d) ended (status %d)", r->what,
			 (int)r->pid, status);
	hotplug_free(r);
	if (!cancelled)
		done(arg, status, last);
	return 1;
}

int hotplug_reap(pid_t pid, int status)
{
	for (struct hotplug_run *r = runs; r; r = r->next)
		if (r->pid == pid)
			return hotplug_reaped(r, pid, status);
	return 0;
}

void hotplug_cancel(struct hotplug_run *r)
{
	if (!r || r->cancelled)
		return;
	r->cancelled = true;
	r->a.line = NULL;
	r->a.done = NULL;
	r->a.arg = NULL;
	/* The caller's strings (script, env) may go with the caller. */
	r->a.script = NULL;
	r->a.action = NULL;
	r->a.env = NULL;
	stop(r);
}
