/* follow: follow one task to its end, as the agent publishes it under
 * <root>/task/<ID>/{state,stage,progress,...}, with one xenstore watch.
 *
 * Before the task exists it watches the request too: the agent takes a
 * request at once when it runs, so a request still waiting after
 * FOLLOW_LIVENESS_MS means that no agent is running -- the follower says
 * so then, rather than waiting for its timeout.  A request that went away
 * with no task was refused: the reason is in <root>/error. */
#ifndef XSAGENTCTL_FOLLOW_H
#define XSAGENTCTL_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"
#include "err.h"
#include "tree.h"

/* The agent takes a request within one turn of its loop; 1.5 s leaves the
 * client's own start-up room to say "not running" within 2 s. */
#define FOLLOW_LIVENESS_MS 1500
/* After a Ctrl-C, how long the cancelled task is waited for. */
#define FOLLOW_CANCEL_WAIT_MS 20000

enum follow_end {
	FOLLOW_DONE,		/* state done */
	FOLLOW_FAILED,		/* state failed; its error node says why */
	FOLLOW_NO_TASK,		/* (wait) neither the task nor its request */
	FOLLOW_NOT_RUNNING,	/* the request was not taken in time */
	FOLLOW_REFUSED,		/* the agent refused it: note says why */
	FOLLOW_VANISHED,	/* the request went, no task, no reason */
	FOLLOW_TIMEOUT,
	FOLLOW_INTERRUPTED,	/* note says what became of the task */
};

struct follow {
	/* The caller's. */
	struct tree *tree;
	const char *root, *id;
	bool own;		/* we wrote the request: on a signal withdraw
				   it, or cancel its task */
	bool bar, lines;	/* draw a bar (a terminal), or print lines */
	unsigned timeout;	/* seconds, 0: none */
	int sigfd;		/* signalfd of SIGINT and SIGTERM, or -1 */
	void (*new_id)(char *buf, size_t n);	/* an ID for the cancel */
	/* What it saw. */
	char state[16], stage[32];
	char note[400];
};

/* 0 with *end_r set, or -errno (xenstore failed; err says why). */
int follow_run(struct follow *f, enum follow_end *end_r, struct agent_err *err);

#endif
