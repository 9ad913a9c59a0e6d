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

#include "agent.h"
#include "request.h"

enum task_state { TASK_QUEUED, TASK_RUNNING, TASK_DONE, TASK_FAILED };

struct start;
struct ops_wait;

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
};

struct task *task_new(struct agent *a, const char *id,
		      const struct request *req);
struct task *task_find(struct agent *a, const char *id);
void task_put(struct agent *a, struct task *t, const char *key,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Publish a stage boundary: stage name and progress (never lowered). */
void task_progress(struct agent *a, struct task *t, const char *stage,
		   unsigned progress);
/* End the task: done (err NULL) or failed with err's message, which is
 * logged and published here, once.  times is the "time" line.  t stays
 * valid until the loop runs again (the prune runs from a timer). */
void task_end(struct agent *a, struct task *t, const struct agent_err *err,
	      const char *times);
/* Remove finished tasks past retention or beyond task_max; rearm the
 * prune timer for the next one due. */
void task_prune(struct agent *a);
void task_free_all(struct agent *a);

#endif
