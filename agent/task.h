/* Tasks: one per consumed request, published under <root>/task/<ID>/:
 *
 *   op        the operation (request.h), or "restart": the agent's own
 *   vm        the VM as the client named it (cancel: the task ID)
 *   state     queued | running | done | failed
 *   stage     the stage running now, or the last one reached
 *   progress  0-100, never goes back
 *   domid     the domain, once it exists
 *   error     one line, "<stage>: <cause>", when failed
 *   time      "<stage>=<ms> ... total=<ms>" when ended
 *   result    one line, what a stop, reboot or cancel did
 *   reason    restart: why the domain ended
 *
 * Finished tasks are removed after task_retention seconds, and the oldest
 * first beyond task_max. */
#ifndef XSAGENT_TASK_H
#define XSAGENT_TASK_H

#include <stdint.h>
#include <time.h>

#include "loop.h"
#include "rec.h"
#include "request.h"

enum task_state { TASK_QUEUED, TASK_RUNNING, TASK_DONE, TASK_FAILED };

struct start;
struct ops_wait;
struct tasks;

struct task {
	struct task *next;
	char id[REQUEST_ID_MAX + 1];
	struct request req;
	enum task_state state;
	unsigned progress;
	uint64_t created_ms, ended_ms;	/* monotonic */
	struct start *start;		/* pipeline state while running */
	struct ops_wait *wait;		/* a stop or reboot waiting (ops.c) */
	bool published_running;		/* intake already wrote state=running */
	struct tasks *list;		/* the list it is in */
};

/* The agent's tasks, oldest first, and what their records need. */
struct tasks {
	struct task *head;
	const struct rec *rec;
	struct loop *loop;
	struct loop_timer prune;
	long long retention_s, max;	/* task_retention, task_max */
};

void tasks_init(struct tasks *ts, const struct rec *rec, struct loop *l,
		long long retention_s, long long max);

struct task *task_new(struct tasks *ts, const char *id,
		      const struct request *req);
struct task *task_find(const struct tasks *ts, const char *id);
void task_put(struct task *t, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Publish a stage boundary: stage name and progress (never lowered). */
void task_progress(struct task *t, const char *stage, unsigned progress);
/* End the task: done (err NULL) or failed with err's message, which is
 * logged and published here, once.  times is the "time" line.  t stays
 * valid until the loop runs again (the prune runs from a timer). */
void task_end(struct task *t, const struct agent_err *err, const char *times);
/* Remove finished tasks past retention or beyond task_max; rearm the
 * prune timer for the next one due. */
void task_prune(struct tasks *ts);
/* Prune from the loop, soon (nobody holds a task there). */
void task_prune_soon(struct tasks *ts);
void task_free_all(struct tasks *ts);

#endif
