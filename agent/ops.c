/* The operations beside start (ops.h).  Each either finishes at once or, for
 * stop and reboot, waits for the domain to shut down: the agent passes the
 * refresh's report on to ops_domain_ended(), the timer calls ops_timeout(). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domtree.h"
#include "log.h"
#include "ops.h"
#include "refresh.h"
#include "start.h"

struct ops_wait {
	struct core *co;
	struct task *t;
	struct vm *vm;
	struct loop_timer timer;
	bool timed_out;
};

/* End t: done (err NULL) or failed; the VM is free for the next task. */
static void ops_finish(struct core *co, struct task *t, struct vm *vm,
		       const struct agent_err *err)
{
	if (vm && vm->busy == t)
		vm->busy = NULL;
	task_end(t, err, NULL);
	if (vm)
		rec_publish_vm(&co->rec, vm);
	core_task_ended(co, t);
}

static void ops_fail(struct core *co, struct task *t, struct vm *vm,
		     int errnum, const char *fmt, const char *arg)
{
	struct agent_err err;

	err_set(&err, errnum, fmt, arg);
	ops_finish(co, t, vm, &err);
}

static void wait_free(struct core *co, struct task *t)
{
	if (!t->wait)
		return;
	loop_timer_disarm(co->loop, &t->wait->timer);
	free(t->wait);
	t->wait = NULL;
}

/* ---- stop, reboot ---------------------------------------------------------- */

static void ops_timeout(void *arg)
{
	struct ops_wait *w = arg;
	struct core *co = w->co;
	struct vm *vm = w->vm;
	struct task *t = w->t;

	log_warn("task %s: %s did not shut down within %lld s: destroying it",
		 t->id, vm->name, co->conf->shutdown_timeout);
	w->timed_out = true;
	refresh_end_domain(co, vm, "destroyed", true);
	rec_publish_vm(&co->rec, vm);
	ops_domain_ended(co, t, "destroyed");
}

void ops_domain_ended(struct core *co, struct task *t, const char *reason)
{
	struct ops_wait *w = t->wait;
	struct vm *vm;
	bool timed_out;

	if (!w)
		return;
	vm = w->vm;
	timed_out = w->timed_out;
	wait_free(co, t);
	vm->intent = VM_INTENT_NONE;
	if (timed_out)
		task_put(t, "result", "the guest did not shut down within %lld s; "
			 "destroyed", co->conf->shutdown_timeout);
	else
		task_put(t, "result", "shut down (%s)", reason);
	if (t->req.op == REQ_REBOOT) {
		/* The same task starts the VM again: its stages follow. */
		start_vm(co, t, vm);
		return;
	}
	ops_finish(co, t, vm, NULL);
}

static void shutdown_begin(struct core *co, struct task *t, struct vm *vm)
{
	const bool reboot = t->req.op == REQ_REBOOT;
	struct agent_err err;
	struct ops_wait *w;
	char p[64];

	if (vm->state == VM_SHUTDOWN || vm->state == VM_CRASHED) {
		/* Preserved: nothing left to ask the guest. */
		refresh_end_domain(co, vm, "destroyed", true);
		task_put(t, "result", "destroyed (it was preserved after %s)",
			 vm->last_shutdown);
		if (reboot)
			start_vm(co, t, vm);
		else
			ops_finish(co, t, vm, NULL);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		ops_fail(co, t, vm, ENOMEM, "%s: out of memory", "shutdown");
		return;
	}
	/* The guest's kernel watches this node, acts, and clears it. */
	domtree_shutdown_path(vm->domid, p, sizeof(p));
	if (store_write(co->store, STORE_NOTX, p, reboot ? "reboot" : "poweroff",
			&err) < 0) {
		free(w);
		err_prefix(&err, "shutdown: ");
		ops_finish(co, t, vm, &err);	/* frees vm->busy, set by ops_run */
		return;
	}
	w->co = co;
	w->t = t;
	w->vm = vm;
	t->wait = w;
	vm->busy = t;
	vm->intent = reboot ? VM_INTENT_REBOOT : VM_INTENT_STOP;
	vm->intent_taken = false;
	task_progress(t, "shutdown", 0);
	loop_timer_init(&w->timer, ops_timeout, w);
	loop_timer_arm(co->loop, &w->timer,
		       loop_now_ms() + (uint64_t)co->conf->shutdown_timeout * 1000);
	log_info("task %s: asked %s (domain %d) to %s; waiting up to %lld s",
		 t->id, vm->name, vm->domid, reboot ? "reboot" : "power off",
		 co->conf->shutdown_timeout);
}

void ops_abort(struct core *co, struct task *t, const char *why)
{
	struct agent_err err;
	struct vm *vm;

	if (!t->wait)
		return;
	vm = t->wait->vm;
	wait_free(co, t);
	vm->intent = VM_INTENT_NONE;
	err_set(&err, EINTR, "shutdown: %s", why);
	ops_finish(co, t, vm, &err);
}

/* ---- cancel ---------------------------------------------------------------- */

static void cancel_run(struct core *co, struct task *t)
{
	struct task *target = request_valid_id(t->req.arg) ?
			      task_find(&co->tasks, t->req.arg) : NULL;
	char why[128], q[80];

	request_quote(t->req.arg, strlen(t->req.arg), q, sizeof(q));
	if (!target) {
		ops_fail(co, t, NULL, ENOENT, "cancel: no task '%s'", q);
		return;
	}
	if (target == t) {
		ops_fail(co, t, NULL, EINVAL, "cancel: task %s cannot cancel itself", q);
		return;
	}
	if (target->state == TASK_DONE || target->state == TASK_FAILED) {
		ops_fail(co, t, NULL, EALREADY, "cancel: task %s has ended already", q);
		return;
	}
	snprintf(why, sizeof(why), "cancelled by task %s", t->id);
	if (target->state == TASK_QUEUED) {
		struct agent_err err;

		err_set(&err, ECANCELED, "%s before it ran", why);
		task_end(target, &err, NULL);
	} else if (target->start) {
		start_abort(co, target, why);
	} else if (target->wait) {
		ops_abort(co, target, why);
	} else {
		ops_fail(co, t, NULL, EINVAL, "cancel: task %s cannot be cancelled", q);
		return;
	}
	task_put(t, "result", "cancelled task %s", target->id);
	ops_finish(co, t, NULL, NULL);
}

/* ---- the rest -------------------------------------------------------------- */

void ops_run(struct core *co, struct task *t)
{
	struct agent_err err;
	struct vm *vm;

	t->state = TASK_RUNNING;
	if (!t->published_running)
		task_put(t, "state", "running");
	t->published_running = true;
	switch (t->req.op) {
	case REQ_REFRESH:
		refresh_figures(co);
		ops_finish(co, t, NULL, NULL);
		return;
	case REQ_CANCEL:
		cancel_run(co, t);
		return;
	default:
		break;
	}
	vm = vm_lookup(&co->vms, t->req.arg, NULL);
	if (!vm) {
		ops_fail(co, t, NULL, ENOENT,
			 "lookup: no VM named '%s' (by name, domid or UUID)", t->req.arg);
		return;
	}
	if (!vm->valid) {
		ops_fail(co, t, NULL, EINVAL, "lookup: VM file of %s is invalid", vm->name);
		return;
	}
	if (vm->domid < 0) {
		ops_fail(co, t, NULL, EINVAL, "lookup: %s is halted", vm->name);
		return;
	}
	switch (t->req.op) {
	case REQ_STOP:
	case REQ_REBOOT:
		if (vm->state == VM_PAUSED) {
			/* A paused guest cannot see control/shutdown: waiting
			 * would only end in a destroy after the timeout. */
			ops_fail(co, t, NULL, EINVAL, "lookup: %s is paused and cannot "
				 "shut down; unpause or destroy it", vm->name);
			return;
		}
		vm->busy = t;
		shutdown_begin(co, t, vm);
		return;
	case REQ_DESTROY:
		refresh_end_domain(co, vm, "destroyed", true);
		ops_finish(co, t, vm, NULL);
		return;
	case REQ_PAUSE:
	case REQ_UNPAUSE: {
		const bool pause = t->req.op == REQ_PAUSE;
		int rc;

		if (vm->state != (pause ? VM_RUNNING : VM_PAUSED)) {
			err_set(&err, EINVAL, "lookup: %s is %s, not %s", vm->name,
				vm_state_names[vm->state], pause ? "running" : "paused");
			ops_finish(co, t, NULL, &err);
			return;
		}
		rc = pause ? hv_pause(co->hv, (unsigned)vm->domid, &err)
			   : hv_unpause(co->hv, (unsigned)vm->domid, &err);
		if (rc < 0) {
			err_prefix(&err, "%s: ", request_op_names[t->req.op]);
			ops_finish(co, t, NULL, &err);
			return;
		}
		vm->state = pause ? VM_PAUSED : VM_RUNNING;
		ops_finish(co, t, vm, NULL);
		return;
	}
	default:
		ops_fail(co, t, NULL, EINVAL, "operation %s cannot be requested",
			 request_op_names[t->req.op]);
		return;
	}
}

void ops_restart(struct core *co, struct vm *vm, const char *reason)
{
	static unsigned seq;
	struct request req = { .op = REQ_RESTART };
	char id[REQUEST_ID_MAX + 1];
	struct task *t;

	/* "xsagent-" IDs are the agent's own (README). */
	do
		snprintf(id, sizeof(id), "xsagent-%lld-%u", (long long)time(NULL), ++seq);
	while (task_find(&co->tasks, id));
	snprintf(req.arg, sizeof(req.arg), "%s", vm->name);
	t = task_new(&co->tasks, id, &req);
	if (!t) {
		log_error("%s: restart: out of memory", vm->name);
		return;
	}
	task_put(t, "op", "restart");
	task_put(t, "vm", "%s", vm->name);
	task_put(t, "reason", "%s", reason);
	task_put(t, "state", "running");
	t->published_running = true;
	log_info("task %s: restarting %s (%s)", id, vm->name, reason);
	start_vm(co, t, vm);
}
