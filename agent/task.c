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

static void task_prune_due(void *arg)
{
	task_prune(arg);
}

void tasks_init(struct tasks *ts, const struct rec *rec, struct loop *l,
		long long retention_s, long long max)
{
	ts->head = NULL;
	ts->rec = rec;
	ts->loop = l;
	ts->retention_s = retention_s;
	ts->max = max;
	loop_timer_init(&ts->prune, task_prune_due, ts);
}

struct task *task_new(struct tasks *ts, const char *id,
		      const struct request *req)
{
	struct task *t = calloc(1, sizeof(*t)), **tail;

	if (!t)
		return NULL;
	snprintf(t->id, sizeof(t->id), "%s", id);
	t->req = *req;
	t->created_ms = loop_now_ms();
	t->list = ts;
	for (tail = &ts->head; *tail; tail = &(*tail)->next)
		;
	*tail = t;
	return t;
}

struct task *task_find(const struct tasks *ts, const char *id)
{
	for (struct task *t = ts->head; t; t = t->next)
		if (!strcmp(t->id, id))
			return t;
	return NULL;
}

void task_put(struct task *t, const char *key, const char *fmt, ...)
{
	char rel[128], val[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	snprintf(rel, sizeof(rel), "task/%s/%s", t->id, key);
	rec_put(t->list->rec, rel, val);
}

void task_progress(struct task *t, const char *stage, unsigned progress)
{
	if (progress < t->progress)
		progress = t->progress;
	t->progress = progress;
	task_put(t, "stage", "%s", stage);
	task_put(t, "progress", "%u", progress);
}

void task_end(struct task *t, const struct agent_err *err, const char *times)
{
	t->state = err ? TASK_FAILED : TASK_DONE;
	t->ended_ms = loop_now_ms();
	if (err) {
		log_error("task %s (%s %s): %s", t->id,
			  request_op_names[t->req.op], t->req.arg, err->msg);
		task_put(t, "error", "%s", err->msg);
	} else {
		log_info("task %s (%s %s): done%s%s", t->id,
			 request_op_names[t->req.op], t->req.arg,
			 times ? ", " : "", times ? times : "");
		t->progress = 100;
		task_put(t, "progress", "100");
	}
	if (times)
		task_put(t, "time", "%s", times);
	task_put(t, "state", "%s", task_state_names[t->state]);
	/* Pruning now could free t itself (an older task ending last past
	 * task_max), and every caller still holds t -- and the tasks beside
	 * it -- when this returns: prune from the loop instead, where nobody
	 * holds a task. */
	task_prune_soon(t->list);
}

void task_prune_soon(struct tasks *ts)
{
	loop_timer_arm(ts->loop, &ts->prune, loop_now_ms());
}

static void task_remove(struct tasks *ts, struct task **link)
{
	struct task *t = *link;
	char rel[128];

	snprintf(rel, sizeof(rel), "task/%s", t->id);
	rec_put(ts->rec, rel, NULL);	/* NULL: remove the node */
	*link = t->next;
	free(t);
}

void task_prune(struct tasks *ts)
{
	uint64_t now = loop_now_ms(), keep_ms = (uint64_t)ts->retention_s * 1000;
	uint64_t next_due = 0;
	unsigned ended = 0;

	for (struct task *t = ts->head; t; t = t->next)
		ended += t->state >= TASK_DONE;
	for (struct task **p = &ts->head; *p;) {
		struct task *t = *p;

		if (t->state < TASK_DONE) {
			p = &t->next;
			continue;
		}
		if (ended > ts->max || t->ended_ms + keep_ms <= now) {
			task_remove(ts, p);
			ended--;
			continue;
		}
		if (!next_due || t->ended_ms + keep_ms < next_due)
			next_due = t->ended_ms + keep_ms;
		p = &t->next;
	}
	if (next_due)
		loop_timer_arm(ts->loop, &ts->prune, next_due);
	else
		loop_timer_disarm(ts->loop, &ts->prune);
}

void task_free_all(struct tasks *ts)
{
	struct task *next;

	for (struct task *t = ts->head; t; t = next) {
		next = t->next;
		free(t->start);
		free(t->wait);
		free(t);
	}
	ts->head = NULL;
}
