/* follow: follow a task to its end (follow.h). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "follow.h"
#include "show.h"

static long long follow_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct follow_run {
	struct follow *f;
	char tp[300], rp[300], ep[300];	/* task, request, error paths */
	bool seen;		/* the task record exists */
	bool drawn;		/* a bar is on the terminal */
	bool cancelling;
	bool req_seen;		/* the request was seen waiting */
	char last[120];		/* the last line shown */
	long long live_at, end_at;	/* deadlines, 0: none */
};

static void follow_show(struct follow_run *r, unsigned pct)
{
	struct follow *f = r->f;
	char line[120];

	if (f->bar)
		show_bar(line, sizeof(line), f->state, pct, f->stage);
	else
		show_line(line, sizeof(line), f->state, pct, f->stage);
	if (!strcmp(line, r->last))
		return;
	snprintf(r->last, sizeof(r->last), "%s", line);
	if (f->bar) {
		fputs(line, stdout);
		r->drawn = true;
	} else if (f->lines) {
		puts(line);
	}
	fflush(stdout);
}

/* Did the agent refuse our request?  Its reason names the ID. */
static bool follow_refused(struct follow_run *r)
{
	char e[400], head[100];

	tree_read_str(r->f->tree, r->ep, e, sizeof(e));
	snprintf(head, sizeof(head), "request '%s': ", r->f->id);
	if (strncmp(e, head, strlen(head)))
		return false;
	snprintf(r->f->note, sizeof(r->f->note), "%s", e);
	return true;
}

/* Look at the task (and, before it exists, the request) again.  Returns
 * 1 with *end_r set when it is over. */
static int follow_look(struct follow_run *r, enum follow_end *end_r)
{
	struct follow *f = r->f;
	char p[320], pct[8];

	snprintf(p, sizeof(p), "%s/state", r->tp);
	tree_read_str(f->tree, p, f->state, sizeof(f->state));
	if (!f->state[0]) {
		if (r->seen) {
			/* Pruned (retention 0?) or removed by hand. */
			snprintf(f->note, sizeof(f->note), "task %s was removed "
				 "before it ended", f->id);
			*end_r = FOLLOW_VANISHED;
			return 1;
		}
		/* Not taken yet: still waiting, or refused (its reason may
		 * come a moment after the request went).  The agent removes
		 * the request and makes the task in one transaction: with the
		 * request gone, a second look at the task tells the two
		 * apart. */
		if (tree_exists(f->tree, r->rp)) {
			r->req_seen = true;
		} else if (!tree_exists(f->tree, r->tp)) {
			/* <root>/error keeps the last refusal: it tells of
			 * this request only if we saw the request (or wrote
			 * it), not of an older one with the same ID. */
			if ((f->own || r->req_seen) && follow_refused(r)) {
				*end_r = FOLLOW_REFUSED;
				return 1;
			}
			if (!f->own) {
				*end_r = FOLLOW_NO_TASK;
				return 1;
			}
		}
		return 0;
	}
	if (!r->seen) {
		r->seen = true;
		if (!r->cancelling)
			r->live_at = 0;
	}
	snprintf(p, sizeof(p), "%s/stage", r->tp);
	tree_read_str(f->tree, p, f->stage, sizeof(f->stage));
	snprintf(p, sizeof(p), "%s/progress", r->tp);
	tree_read_str(f->tree, p, pct, sizeof(pct));
	follow_show(r, show_pct(pct));
	if (!strcmp(f->state, "done") || !strcmp(f->state, "failed")) {
		*end_r = f->state[0] == 'd' ? FOLLOW_DONE : FOLLOW_FAILED;
		return 1;
	}
	return 0;
}

/* No task after FOLLOW_LIVENESS_MS. */
static int follow_not_taken(struct follow_run *r, enum follow_end *end_r,
			    struct agent_err *err)
{
	struct follow *f = r->f;
	int rc;

	if (tree_exists(f->tree, r->tp))
		return 0;	/* taken this instant */
	if (!tree_exists(f->tree, r->rp)) {
		if (tree_exists(f->tree, r->tp))
			return 0;
		if ((f->own || r->req_seen) && follow_refused(r)) {
			*end_r = FOLLOW_REFUSED;
			return 1;
		}
		snprintf(f->note, sizeof(f->note), "request %s went away with no "
			 "task and no reason in %s (removed by someone else?)",
			 f->id, r->ep);
		*end_r = FOLLOW_VANISHED;
		return 1;
	}
	if (f->own) {
		/* Take our request back, so that an agent started later does
		 * not run what nobody waits for any more. */
		if ((rc = tree_withdraw(f->tree, f->root, f->id, err)) < 0)
			return rc;
		if (rc == 0)
			return 0;	/* the agent took it after all */
		snprintf(f->note, sizeof(f->note), "the agent is not running: "
			 "request %s was not taken within %.1f s; withdrawn", f->id,
			 FOLLOW_LIVENESS_MS / 1000.0);
	} else {
		snprintf(f->note, sizeof(f->note), "the agent is not running: "
			 "request %s has waited %.1f s", f->id,
			 FOLLOW_LIVENESS_MS / 1000.0);
	}
	*end_r = FOLLOW_NOT_RUNNING;
	return 1;
}

/* SIGINT or SIGTERM.  Returns 1 with *end_r set when we stop now. */
static int follow_interrupt(struct follow_run *r, enum follow_end *end_r,
			    struct agent_err *err)
{
	struct follow *f = r->f;
	char cid[CLI_ID_MAX + 1], val[CLI_ID_MAX + 8];
	int rc;

	*end_r = FOLLOW_INTERRUPTED;
	if (!f->own || r->cancelling) {
		snprintf(f->note, sizeof(f->note), "interrupted; task %s goes on",
			 f->id);
		return 1;
	}
	if (!r->seen) {
		if ((rc = tree_withdraw(f->tree, f->root, f->id, err)) < 0)
			return rc;
		if (rc == 1) {
			snprintf(f->note, sizeof(f->note), "interrupted; request %s "
				 "withdrawn before the agent took it", f->id);
			return 1;
		}
	}
	/* The agent has it: ask it to cancel, and wait a little for the end
	 * (a start rolls back what it made). */
	f->new_id(cid, sizeof(cid));
	snprintf(val, sizeof(val), "cancel %s", f->id);
	if ((rc = tree_submit(f->tree, f->root, cid, val, false, err)) < 0)
		return err_prefix(err, "interrupted; cancel of task %s: ", f->id);
	r->cancelling = true;
	r->end_at = follow_now_ms() + FOLLOW_CANCEL_WAIT_MS;
	r->live_at = 0;
	snprintf(f->note, sizeof(f->note), "interrupted; cancel requested "
		 "(task %s), task %s did not end within %d s", cid, f->id,
		 FOLLOW_CANCEL_WAIT_MS / 1000);
	return 0;
}

int follow_run(struct follow *f, enum follow_end *end_r, struct agent_err *err)
{
	struct follow_run r = { .f = f };
	long long now;
	int rc;

	f->note[0] = f->state[0] = f->stage[0] = '\0';
	snprintf(r.tp, sizeof(r.tp), "%s/task/%s", f->root, f->id);
	snprintf(r.rp, sizeof(r.rp), "%s/request/%s", f->root, f->id);
	snprintf(r.ep, sizeof(r.ep), "%s/error", f->root);
	/* Every watch fires once when set: the first look comes from those. */
	if ((rc = tree_watch(f->tree, r.tp, "t", err)) < 0 ||
	    (rc = tree_watch(f->tree, r.rp, "r", err)) < 0 ||
	    (rc = tree_watch(f->tree, r.ep, "e", err)) < 0)
		return rc;
	now = follow_now_ms();
	r.live_at = now + FOLLOW_LIVENESS_MS;
	r.end_at = f->timeout ? now + f->timeout * 1000LL : 0;
	if (follow_look(&r, end_r))
		goto out;
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = tree_fd(f->tree), .events = POLLIN },
			{ .fd = f->sigfd, .events = POLLIN },
		};
		long long due = r.live_at;
		int wait = -1, ready;
		char tok[8];

		if (r.end_at && (!due || r.end_at < due))
			due = r.end_at;
		if (due) {
			now = follow_now_ms();
			wait = due > now ? (int)(due - now) : 0;
		}
		ready = poll(p, f->sigfd >= 0 ? 2 : 1, wait);
		if (ready < 0 && errno != EINTR)
			return err_sys(err, errno, "poll");
		if (ready > 0 && f->sigfd >= 0 && p[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(f->sigfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if ((rc = follow_interrupt(&r, end_r, err)) < 0)
				return rc;
			if (rc)
				goto out;
		}
		if (ready > 0 && p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			bool any = false;

			while ((rc = tree_next_event(f->tree, tok, sizeof(tok))) > 0)
				any = true;
			if (rc < 0)
				return err_sys(err, -rc, "xenstore connection");
			if (any && follow_look(&r, end_r))
				goto out;
		}
		now = follow_now_ms();
		if (r.live_at && now >= r.live_at && !r.seen) {
			r.live_at = 0;
			if (follow_look(&r, end_r))
				goto out;
			if (!r.seen) {
				if ((rc = follow_not_taken(&r, end_r, err)) < 0)
					return rc;
				if (rc)
					goto out;
			}
		}
		if (r.end_at && now >= r.end_at) {
			if (follow_look(&r, end_r))
				goto out;
			if (r.cancelling) {
				*end_r = FOLLOW_INTERRUPTED;
			} else {
				*end_r = FOLLOW_TIMEOUT;
				snprintf(f->note, sizeof(f->note), "no result within "
					 "%u s (task %s: %s %s); it goes on", f->timeout,
					 f->id, f->state[0] ? f->state : "not taken",
					 f->stage);
			}
			goto out;
		}
	}
out:
	if (r.cancelling && *end_r != FOLLOW_INTERRUPTED) {
		char e[300], p[320];

		snprintf(p, sizeof(p), "%s/error", r.tp);
		tree_read_str(f->tree, p, e, sizeof(e));
		snprintf(f->note, sizeof(f->note), "interrupted; task %s %s%s%s",
			 f->id, f->state, e[0] ? ": " : "", e);
		*end_r = FOLLOW_INTERRUPTED;
	}
	if (r.drawn)
		putchar('\n');
	fflush(stdout);
	return 0;
}
