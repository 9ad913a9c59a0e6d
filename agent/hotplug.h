/* Running hotplug scripts: what xl and xenopsd do with udev out of the
 * picture.  A script runs in its own process group with the conventional
 * environment (XENBUS_PATH, XENBUS_TYPE, ...) and the action as $1; its
 * output comes back line by line through the loop.
 *
 * Stopping a script (its timeout, a cancel) sends SIGTERM to the whole
 * group first and SIGKILL only after a grace period (xl kills only the
 * script and leaves its children): the scripts trap TERM to undo a
 * half-done add (free the loop device they just set up), which a SIGKILL
 * would cut short.  The grace runs on a loop timer, never a sleep: the
 * agent's poll() loop keeps going meanwhile.
 * When the script exits, whatever it left in its group is killed too: a
 * hotplug script has no business leaving processes behind. */
#ifndef XSAGENT_HOTPLUG_H
#define XSAGENT_HOTPLUG_H

#include <sys/types.h>

#include "err.h"
#include "loop.h"

struct hotplug_run;
/* One line of the script's output (stdout and stderr together). */
typedef void hotplug_line_fn(void *arg, const char *line);
/* The script ended: status is a wait() status, or -ETIMEDOUT when it was
 * killed at the timeout.  last is its last output line ("" when none). */
typedef void hotplug_done_fn(void *arg, int status, const char *last);

struct hotplug_args {
	const char *script;		/* absolute path */
	const char *action;		/* $1: add, remove, online, offline */
	char *const *env;		/* NULL-terminated "K=V" list */
	unsigned timeout_s;
	unsigned grace_ms;		/* SIGTERM to SIGKILL; 0: HOTPLUG_GRACE_MS */
	hotplug_line_fn *line;		/* may be NULL */
	hotplug_done_fn *done;
	void *arg;
};

/* How long a script has between SIGTERM and SIGKILL: its TERM trap frees
 * what it set up (under TCG a losetup -d and two xenstore calls take about
 * a second). */
#define HOTPLUG_GRACE_MS 5000

/* Fork and exec the script.  Fails (negative errno, err filled, nothing
 * started) when the pipe, the poll loop's slot or the fork is refused. */
int hotplug_start(struct loop *l, const struct hotplug_args *a,
		  struct hotplug_run **run_r, struct agent_err *err);
pid_t hotplug_pid(const struct hotplug_run *r);
/* Scripts still running, cancelled ones included (a stopping agent waits
 * for those too: their traps are freeing devices). */
unsigned hotplug_running(void);
/* The agent reaped pid: returns 1 if it was this run's script (then done
 * has been called and r freed), else 0. */
int hotplug_reaped(struct hotplug_run *r, pid_t pid, int status);
/* The same for whichever run has that pid: 1 if one had. */
int hotplug_reap(pid_t pid, int status);
/* Detach r from its caller: done and line are never called again (their
 * arg may be freed right after), SIGTERM goes to the script's group now
 * and SIGKILL after the grace.  Returns at once; r stays listed (and
 * counted by hotplug_running) until its script is reaped, then is freed. */
void hotplug_cancel(struct hotplug_run *r);

#endif
