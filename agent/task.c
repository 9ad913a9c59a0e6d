#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "task.h"

static const char *const task_state_names[] = {
	[TASK_QUEUED] = "queued", [TASK_RUNNING] = "running",
	[TASK_DONE] = "done", [TASK_FAILED] = "failed",
};

struct task *task_new(struct agent *a, const char *id,
		      const struct request *req)
{
	struct task *t = calloc(1, sizeof(*t)), **tail;

	if (!t)
		return NULL;
	snprintf(t->id, sizeof(t->id), "%s", id);
	t->req = *req;
	t->created_ms = loop_now_ms();
	for (tail = &a->tasks; *tail; tail = &(*tail)->next)
		;
	*tail = t;
	return t;
}

struct task *task_find(struct agent *a, const char *id)
{
	for (struct task *t = a->tasks; t; t = t->next)
		if (!strcmp(t->id, id))
			return t;
	return NULL;
}

void task_put(struct agent *a, struct task *t, const char *key,
	      const char *fmt, ...)
{
	char rel[128], val[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	snprintf(rel, sizeof(rel), "task/%s/%s", t->id, key);
	agent_put(a, rel, val);
}

void task_progress(struct agent *a, struct task *t, const char *stage,
		   unsigned progress)
{
	if (progress < t->progress)
		progress = t->progress;
	t->progress = progress;
	task_put(a, t, "stage", "%s", stage);
	task_put(a, t, "progress", "%u", progress);
}

void task_end(struct agent *a, struct task *t, const struct agent_err *err,
	      const char *times)
{
	t->state = err ? TASK_FAILED : TASK_DONE;
	t->ended_ms = loop_now_ms();
	if (err) {
		log_error("task %s (%s %s): %s", t->id,
			  request_op_names[t->req.op], t->req.arg, err->msg);
		task_put(a, t, "error", "%s", err->msg);
	} else {
		log_info("task %s (%s %s): done%s%s", t->id,
			 request_op_names[t->req.op], t->req.arg,
			 times ? ", " : "", times ? times : "");
		t->progress = 100;
		task_put(a, t, "progress", "100");
	}
	if (times)
		task_put(a, t, "time", "%s", times);
	task_put(a, t, "state", "%s", task_state_names[t->state]);
	/* Pruning now could free t itself (an older task ending last past
	 * task_max), and every caller still holds t -- and the tasks beside
	 * it -- when this returns: prune from the loop instead, where nobody
	 * holds a task. */
	loop_timer_arm(a->loop, &a->prune, loop_now_ms());
}

static void task_remove(struct agent *a, struct task **link)
{
	struct task *t = *link;
	char rel[128];

	snprintf(rel, sizeof(rel), "task/%s", t->id);
	agent_put(a, rel, NULL);	/* NULL: remove the node */
	*link = t->next;
	free(t);
}

void task_prune(struct agent *a)
{
	uint64_t now = loop_now_ms(), keep_ms = a->conf.task_retention * 1000;
	uint64_t next_due = 0;
	unsigned ended = 0;

	for (struct task *t = a->tasks; t; t = t->next)
		ended += t->state >= TASK_DONE;
	for (struct task **p = &a->tasks; *p;) {
		struct task *t = *p;

		if (t->state < TASK_DONE) {
			p = &t->next;
			continue;
		}
		if (ended > a->conf.task_max || t->ended_ms + keep_ms <= now) {
			task_remove(a, p);
			ended--;
			continue;
		}
		if (!next_due || t->ended_ms + keep_ms < next_due)
			next_due = t->ended_ms + keep_ms;
		p = &t->next;
	}
	if (next_due)
		loop_timer_arm(a->loop, &a->prune, next_due);
	else
		loop_timer_disarm(a->loop, &a->prune);
}

void task_free_all(struct agent *a)
{
	struct task *next;

	for (struct task *t = a->tasks; t; t = next) {
		next = t->next;
		free(t->start);
		free(t->wait);
		free(t);
	}
	a->tasks = NULL;
}
