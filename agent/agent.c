/* The agent: request intake, the VM records, and the refresh that keeps
 * them in step with the hypervisor (xend's XendDomain._refresh). */
#include <errno.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "dm.h"
#include "domtree.h"
#include "hotplug.h"
#include "log.h"
#include "ops.h"
#include "policy.h"
#include "refresh.h"
#include "request.h"
#include "start.h"
#include "task.h"

#define TOKEN_REQUEST "request"
#define TOKEN_RELEASE "release"
#define TOKEN_INTRODUCE "introduce"
#define TOKEN_FIGURES "figures"
#define INTAKE_TX_TRIES 8
/* How often the agent asks whether xenstored is still there (see
 * agent_store_check): the longest it runs on without it. */
#define STORE_CHECK_MS 5000

static void agent_path(const struct agent *a, const char *rel, char *out,
		       size_t n)
{
	snprintf(out, n, "%s/%s", a->conf.control_root, rel);
}

/* ---- request intake ------------------------------------------------------ */

/* The VM a task acts on (NULL: none, or not found: the task will say). */
static struct vm *task_vm(const struct agent *a, const struct task *t)
{
	if (!request_on_vm(t->req.op))
		return NULL;
	return vm_lookup(&a->core.vms, t->req.arg, NULL);
}

/* May a task on vm, not queued yet, run now?  Tasks on one VM run one at a
 * time, in the order they were requested; tasks on different VMs run side
 * by side. */
static bool vm_free_for(const struct agent *a, const struct vm *vm)
{
	if (!vm)
		return true;
	if (vm->busy)
		return false;
	for (const struct task *q = a->core.tasks.head; q; q = q->next)
		if (q->state == TASK_QUEUED && task_vm(a, q) == vm)
			return false;
	return true;
}

static void task_dispatch(struct agent *a, struct task *t)
{
	if (t->req.op == REQ_START)
		start_run(&a->core, t);
	else
		ops_run(&a->core, t);
}

/* Run every queued task that may run.  Running one can end tasks and so
 * call back here: that only asks for another pass.
 *
 * One scan, in request order, marks each VM it meets a queued task on: a
 * later task on that VM waits.  That is vm_free_for's rule at one lookup
 * per queued task; asking vm_free_for for each task costs one per pair,
 * and 2000 requests queued on three VMs took minutes in the bed. */
static void agent_schedule(struct agent *a)
{
	if (a->scheduling) {
		a->resched = true;
		return;
	}
	a->scheduling = true;
	do {
		a->resched = false;
		if (a->core.stopping)
			break;
		for (struct vm *vm = a->core.vms.head; vm; vm = vm->next)
			vm->queued_seen = false;
		for (struct task *t = a->core.tasks.head; t; t = t->next) {
			struct vm *vm;

			if (t->state != TASK_QUEUED)
				continue;
			vm = task_vm(a, t);
			if (vm && (vm->busy || vm->queued_seen)) {
				vm->queued_seen = true;
				continue;
			}
			/* t may be gone when this returns: scan again. */
			task_dispatch(a, t);
			a->resched = true;
			break;
		}
	} while (a->resched);
	a->scheduling = false;
}

/* The hooks the actions report through (core.h). */
static void agent_task_ended(void *arg, struct task *t)
{
	(void)t;
	agent_schedule(arg);
}

static void agent_domain_gone(void *arg, struct vm *vm, const char *reason)
{
	struct agent *a = arg;

	policy_domain_gone(&a->core, vm, reason);
}

static void agent_domain_shutdown(void *arg, struct vm *vm,
				  const struct hv_dominfo *d)
{
	struct agent *a = arg;

	policy_domain_shutdown(&a->core, vm, d);
}

/* Reject a request that cannot get a task record of its own. */
static void agent_reject(struct agent *a, const char *id, const char *why)
{
	char q[80], line[256];

	request_quote(id, strlen(id), q, sizeof(q));
	snprintf(line, sizeof(line), "request '%s': %s", q, why);
	log_error("%s", line);
	rec_put(&a->core.rec, "error", line);
}

static long long agent_active_tasks(const struct agent *a)
{
	long long n = 0;

	for (const struct task *t = a->core.tasks.head; t; t = t->next)
		n += t->state < TASK_DONE;
	return n;
}

/* Consume request <id> exactly once: in one transaction the request is read
 * and removed and the task record is created.  A conflict runs it again, a
 * few times at once; past that (many clients writing at the same instant)
 * the intake retries from a timer, since the request's watch will not fire
 * again.  Returns -EAGAIN when the request is still waiting for that. */
static int agent_consume(struct agent *a, const char *id)
{
	char *p = NULL, tp[CONF_ROOT_MAX + REQUEST_ID_MAX + 32];
	struct request req = { 0 };
	struct agent_err err, perr;
	bool valid_id = request_valid_id(id), exists, parsed = false, now = false;
	int rc = -EAGAIN;

	/* A request that comes while the agent stops is left for its next
	 * run, which takes every request waiting. */
	if (a->core.stopping)
		return 0;
	if (asprintf(&p, "%s/request/%s", a->conf.control_root, id) < 0) {
		log_error("request: out of memory");
		return -EAGAIN;
	}
	exists = valid_id && task_find(&a->core.tasks, id);
	/* Our own removal fires this watch again: a plain read tells that the
	 * request is gone without a transaction (one request, not three). */
	{
		char *v = NULL;

		rc = store_read(a->store, STORE_NOTX, p, &v, NULL, &err);
		free(v);
		if (rc == -ENOENT) {
			rc = 0;
			goto out;
		}
		rc = -EAGAIN;
	}
	for (int i = 0; i < INTAKE_TX_TRIES && rc == -EAGAIN; i++) {
		char *val = NULL;
		size_t len = 0;
		store_tx tx;

		if ((rc = store_tx_start(a->store, &tx, &err)) < 0)
			break;
		rc = store_read(a->store, tx, p, &val, &len, &err);
		if (rc == -ENOENT) {
			/* Already consumed: this event was our own removal. */
			store_tx_end(a->store, tx, true, &err);
			rc = 0;
			goto out;
		}
		if (rc == 0)
			rc = store_rm(a->store, tx, p, &err);
		if (rc == 0 && valid_id && !exists) {
			err_clear(&perr);
			parsed = request_parse(val, len, &req, &perr) == 0;
			/* Bounded: a client flooding requests gets failures,
			 * not an agent that grows without end.  A cancel is
			 * always taken: it is how a full queue is emptied. */
			if (parsed && req.op != REQ_CANCEL &&
			    agent_active_tasks(a) >= a->conf.queue_max) {
				err_set(&perr, EAGAIN, "%lld tasks are queued or "
					"running (queue_max); request it again later",
					a->conf.queue_max);
				parsed = false;
			}
			/* Recorded as running when it can run at once (a start
			 * only of a VM that is halted: one refused is no start
			 * in flight). */
			struct vm *rv = parsed && request_on_vm(req.op) ?
					vm_lookup(&a->core.vms, req.arg, NULL) : NULL;

			now = parsed && !a->core.stopping && vm_free_for(a, rv) &&
			      (req.op != REQ_START ||
			       (rv && rv->valid && rv->state == VM_HALTED));
			int base = snprintf(tp, sizeof(tp), "%s/task/%s/",
					    a->conf.control_root, id);
			size_t room = sizeof(tp) - (size_t)base;

			snprintf(tp + base, room, "op");
			rc = store_write(a->store, tx, tp,
					 parsed ? request_op_names[req.op] : "", &err);
			if (!rc) {
				snprintf(tp + base, room, "vm");
				rc = store_write(a->store, tx, tp, parsed ? req.arg : "",
						 &err);
			}
			if (!rc) {
				snprintf(tp + base, room, "state");
				rc = store_write(a->store, tx, tp,
						 !parsed ? "failed" : now ? "running" : "queued",
						 &err);
			}
			if (!rc && !parsed) {
				char msg[300];

				snprintf(msg, sizeof(msg), "request: %s", perr.msg);
				snprintf(tp + base, room, "error");
				rc = store_write(a->store, tx, tp, msg, &err);
			}
		}
		free(val);
		if (rc < 0) {
			store_tx_end(a->store, tx, true, &perr);
			break;
		}
		rc = store_tx_end(a->store, tx, false, &err);
	}
	if (rc == -EAGAIN)
		goto out;	/* the retry timer takes it again */
	if (rc < 0) {
		/* Not a conflict: it would fail again.  Say so, and take the
		 * request away so that it is not left waiting unseen. */
		char line[400];
		struct agent_err rerr;

		snprintf(line, sizeof(line), "not taken: %s", err.msg);
		agent_reject(a, id, line);
		store_rm(a->store, STORE_NOTX, p, &rerr);
		goto out;
	}
	if (!valid_id) {
		agent_reject(a, id, "invalid ID (letters, digits, _ . -; 1-64)");
		goto out;
	}
	if (exists) {
		agent_reject(a, id, "a task with this ID exists; choose another ID");
		goto out;
	}
	struct task *t = task_new(&a->core.tasks, id, &req);

	if (!t) {
		log_error("request %s: out of memory", id);
		goto out;
	}
	if (!parsed) {
		/* Recorded as failed in the transaction; keep the record so it
		 * is pruned like any other. */
		t->state = TASK_FAILED;
		t->ended_ms = loop_now_ms();
		log_error("task %s: request: %s", id, perr.msg);
		task_prune_soon(&a->core.tasks);
		goto out;
	}
	t->state = TASK_QUEUED;
	t->published_running = now;
	log_info("task %s: %s %s %s", id, request_op_names[req.op], req.arg,
		 now ? "accepted" : "queued");
	agent_schedule(a);
out:
	free(p);
	return rc == -EAGAIN ? -EAGAIN : 0;
}

/* Requests left waiting by conflicts: take every request again, a little
 * later each time while the contention lasts. */
static void agent_intake_retry(struct agent *a)
{
	if (a->intake_retry.armed)
		return;
	a->intake_backoff_ms = a->intake_backoff_ms ?
			       a->intake_backoff_ms * 2 : 10;
	if (a->intake_backoff_ms > 1000)
		a->intake_backoff_ms = 1000;
	log_debug("request intake: conflicts, again in %u ms",
		  a->intake_backoff_ms);
	loop_timer_arm(a->loop, &a->intake_retry,
		       loop_now_ms() + a->intake_backoff_ms);
}

static void agent_intake(struct agent *a, const char *path)
{
	char base[CONF_ROOT_MAX + 16];
	struct agent_err err;
	char **names = NULL;
	unsigned n = 0;
	size_t bl;
	int rc = 0;

	agent_path(a, "request", base, sizeof(base));
	bl = strlen(base);
	if (strncmp(path, base, bl) || (path[bl] && path[bl] != '/'))
		return;
	if (path[bl] == '/') {
		/* One request: the first component below request/ is its ID,
		 * whatever its length (a long one is refused, not cut). */
		char *id = strndup(path + bl + 1, strcspn(path + bl + 1, "/"));

		if (!id) {
			agent_intake_retry(a);
			return;
		}
		if (*id)
			rc = agent_consume(a, id);
		free(id);
		if (rc == -EAGAIN)
			agent_intake_retry(a);
		return;
	}
	/* The directory itself: at start-up (a new watch fires once) and on
	 * a retry, take every request waiting there. */
	if ((rc = store_ls(a->store, STORE_NOTX, base, &names, &n, &err)) < 0) {
		/* -ENOENT comes without err filled in: test rc, not err. */
		if (rc != -ENOENT)
			agent_intake_retry(a);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		if (agent_consume(a, names[i]) == -EAGAIN)
			rc = -EAGAIN;
	free(names);
	if (rc == -EAGAIN)
		agent_intake_retry(a);
	else
		a->intake_backoff_ms = 0;
}

static void agent_intake_due(void *arg)
{
	struct agent *a = arg;
	char base[CONF_ROOT_MAX + 16];

	agent_path(a, "request", base, sizeof(base));
	agent_intake(a, base);
}

/* ~/control/shutdown of a VM's domain changed.  The domain's shutdown is
 * what counts (the refresh acts on it); this only notes, once per request,
 * that the guest took it: its kernel clears the node when it does.  The node
 * is the guest's to write, as often as it likes and with what it likes, so
 * its value is never logged. */
static void shutdown_event(struct agent *a, const char *vm_name,
			   const char *path)
{
	struct vm *vm = vm_lookup(&a->core.vms, vm_name, NULL);
	struct agent_err err;
	char node[64], *val = NULL;
	int rc;

	if (!vm || vm->intent == VM_INTENT_NONE || vm->intent_taken ||
	    vm->domid < 0)
		return;
	/* The watch fires for anything below the node too (the guest may
	 * make control/shutdown/x): only the node itself says anything. */
	domtree_shutdown_path(vm->domid, node, sizeof(node));
	if (strcmp(path, node))
		return;
	rc = store_read(a->store, STORE_NOTX, node, &val, NULL, &err);
	if (rc == -ENOENT || (rc == 0 && !*val)) {
		log_info("%s: the guest took the %s request", vm->name,
			 vm->intent == VM_INTENT_REBOOT ? "reboot" : "poweroff");
		vm->intent_taken = true;
	}
	free(val);
}

static void agent_store_ready(void *arg, int fd, short revents)
{
	struct agent *a = arg;
	char *path, *token;
	int r;

	(void)fd;
	(void)revents;
	while ((r = store_next_event(a->store, &path, &token)) > 0) {
		if (!strcmp(token, TOKEN_REQUEST)) {
			agent_intake(a, path);
		} else if (!strncmp(token, "dev/", 4)) {
			start_dev_event(&a->core, token + 4);
		} else if (!strncmp(token, DM_TOKEN, strlen(DM_TOKEN))) {
			dm_event(token);
		} else if (!strcmp(token, TOKEN_RELEASE) ||
			   !strcmp(token, TOKEN_INTRODUCE)) {
			refresh_run(&a->core);
		} else if (!strcmp(token, TOKEN_FIGURES)) {
			refresh_figures_requests(&a->core);
		} else if (!strncmp(token, DOMTREE_TOKEN_SHUTDOWN, strlen(DOMTREE_TOKEN_SHUTDOWN))) {
			shutdown_event(a, token + strlen(DOMTREE_TOKEN_SHUTDOWN), path);
		}
		free(path);
		free(token);
	}
	if (r < 0) {
		log_error("lost the connection to xenstored (%s): exiting; nothing "
			  "can be started or stopped without it", strerror(-r));
		a->store_dead = true;
	}
}

/* xenstored gone (killed, crashed: every domain's xenstore with it) shows
 * only as the end of libxenstore's reader thread, which wakes no fd of
 * ours: the watch pipe stays quiet and an idle agent would wait for ever,
 * unseen.  So every STORE_CHECK_MS the pending events are looked at, which
 * costs no request to xenstored, and a lost connection ends the agent
 * (exit status 4, main.c) with a line in its log. */
static void agent_store_check(void *arg)
{
	struct agent *a = arg;

	agent_store_ready(a, -1, 0);
	if (!a->store_dead)
		loop_timer_arm(a->loop, &a->store_check,
			       loop_now_ms() + STORE_CHECK_MS);
}

/* ---- set-up, reload ------------------------------------------------------ */

/* Read <root>/task/<id>/<key> into buf ("" when absent). */
static void task_record(struct agent *a, const char *id, const char *key,
			char *buf, size_t n)
{
	char p[600];

	snprintf(p, sizeof(p), "%s/task/%s/%s", a->conf.control_root, id, key);
	store_read_str(a->store, STORE_NOTX, p, buf, n);
}

/* Task records an earlier run left: finished ones are pruned like ours
 * (their age counts from now); one left queued or running was cut short by
 * that run's end.  A start that was running is the in-xenstore marker of
 * work in flight (as xenopsd's action-request): its VM is marked for
 * rollback, which the refresh that follows carries out, whatever stage the
 * start had reached. */
static void agent_adopt_tasks(struct agent *a)
{
	static const struct request none = { 0 };
	struct agent_err err;
	char p[512], **ids = NULL;
	unsigned n = 0;

	agent_path(a, "task", p, sizeof(p));
	if (store_ls(a->store, STORE_NOTX, p, &ids, &n, &err) < 0)
		return;
	for (unsigned i = 0; i < n; i++) {
		char state[16], op[16], stage[32], vmkey[REQUEST_MAX_LEN + 1];
		char domid[16], rel[128], msg[200], opq[sizeof(op)];
		struct vm *vm = NULL;
		struct task *t;
		bool start, unreadable;

		if (!request_valid_id(ids[i]) || task_find(&a->core.tasks, ids[i]))
			continue;
		t = task_new(&a->core.tasks, ids[i], &none);
		if (!t)
			break;
		t->state = TASK_DONE;
		t->ended_ms = loop_now_ms();
		task_record(a, ids[i], "state", state, sizeof(state));
		if (!strcmp(state, "done") || !strcmp(state, "failed"))
			continue;
		t->state = TASK_FAILED;
		/* Not a state this agent writes (another dom0 writer's, or
		 * none: the record's first write never made it): the task
		 * ended, failed, and its record says so from now on.  Its
		 * domid is noted all the same, for the reconciliation. */
		unreadable = strcmp(state, "queued") && strcmp(state, "running");
		/* Whatever it was doing to its domain, a domain gone now
		 * leaves nodes and devices that the reconciliation removes. */
		task_record(a, ids[i], "domid", domid, sizeof(domid));
		reconcile_note(&a->core.reconcile, reconcile_parse_domid(domid));
		task_record(a, ids[i], "op", op, sizeof(op));
		task_record(a, ids[i], "stage", stage, sizeof(stage));
		/* Only a start that reached construct can have made anything:
		 * intake records a start running before its lookup, and a
		 * lookup that refused (the VM already running) must not get
		 * the VM's healthy domain destroyed. */
		start = !strcmp(state, "running") && *stage &&
			strcmp(stage, "shutdown") &&
			(!strcmp(op, "start") || !strcmp(op, "restart") ||
			 !strcmp(op, "reboot"));
		snprintf(msg, sizeof(msg), unreadable ?
			 "its record was unreadable at agent restart (no valid state)" :
			 "interrupted by agent restart");
		if (start) {
			task_record(a, ids[i], "vm", vmkey, sizeof(vmkey));
			vm = vm_lookup(&a->core.vms, vmkey, NULL);
			if (vm && vm->valid && vm->rollback &&
			    vm->rollback_domid >= 0) {
				/* Two records of one VM left running: only one
				 * can be its latest start; keep the one naming
				 * a domain (the other's, if gone, is reconciled). */
				strcat(msg, "; rolled back");
			} else if (vm && vm->valid) {
				vm->rollback = true;
				snprintf(vm->rollback_task, sizeof(vm->rollback_task), "%s",
					 ids[i]);
				/* Only the domain the record names is undone; none
				 * named (killed between create and record): the
				 * domain with the VM's UUID, which the lookup saw
				 * halted, so nobody else's. */
				vm->rollback_domid = reconcile_parse_domid(domid);
				strcat(msg, "; rolled back");
			} else {
				strcat(msg, "; its VM is unknown now: nothing rolled back");
			}
		}
		snprintf(rel, sizeof(rel), "task/%s/error", ids[i]);
		rec_put(&a->core.rec, rel, msg);
		snprintf(rel, sizeof(rel), "task/%s/state", ids[i]);
		rec_put(&a->core.rec, rel, "failed");
		/* The op is the record's, not ours: quoted. */
		request_quote(op, strlen(op), opq, sizeof(opq));
		log_warn("task %s (%s%s%s): %s", ids[i], opq, vm ? " " : "",
			 vm ? vm->name : "", msg);
	}
	free(ids);
	task_prune(&a->core.tasks);
}

/* The domids the old VM records name (<root>/vm/<name>/domid), before
 * those records are rebuilt: the reconciliation's list. */
static void agent_note_vm_domids(struct agent *a, const char *vmdir)
{
	struct agent_err err;
	char **names = NULL;
	unsigned n = 0;

	if (store_ls(a->store, STORE_NOTX, vmdir, &names, &n, &err) < 0)
		return;
	for (unsigned i = 0; i < n; i++) {
		char p[CONF_ROOT_MAX + 200], v[16];

		if (!conf_valid_name(names[i]))
			continue;
		snprintf(p, sizeof(p), "%s/%s/domid", vmdir, names[i]);
		store_read_str(a->store, STORE_NOTX, p, v, sizeof(v));
		reconcile_note(&a->core.reconcile, reconcile_parse_domid(v));
	}
	free(names);
}

static void agent_reconcile_teardown(void *arg, struct dev *devs, unsigned n)
{
	struct agent *a = arg;

	core_devices_teardown(&a->core, "a gone domain", devs, n);
}

static int agent_load_vms(struct agent *a, struct vm_list *list)
{
	struct conf_diag diag = { 0 };
	int rc;

	rc = vm_load_dir(a->conf.vm_dir, a->conf.script_dir, list, &diag);
	for (unsigned i = 0; i < diag.n; i++)
		log_error("%s", diag.lines[i]);
	conf_diag_dispose(&diag);
	vm_pci_shared(list, &diag);
	for (unsigned i = 0; i < diag.n; i++)
		log_warn("%s", diag.lines[i]);
	conf_diag_dispose(&diag);
	return rc;
}

int agent_init(struct agent *a, const char *conf_path, struct agent_err *err)
{
	struct core *co = &a->core;
	const struct store_perm dom0_only[] = { { 0, 'n' } };
	struct conf_diag diag = { 0 };
	char p[512], fp[512];
	int rc;

	a->conf_path = conf_path;
	rc = conf_load_agent(conf_path, &a->conf, &diag);
	for (unsigned i = 0; i < diag.n; i++)
		log_error("%s", diag.lines[i]);
	conf_diag_dispose(&diag);
	if (rc < 0)
		return err_set(err, -rc, "%s: invalid configuration", conf_path);
	log_set_level(a->conf.log_level);
	loop_timer_init(&a->intake_retry, agent_intake_due, a);
	loop_timer_init(&a->store_check, agent_store_check, a);
	a->loop = loop_new();
	if (!a->loop)
		return err_set(err, ENOMEM, "out of memory");
	if ((rc = store_open(&a->store, err)) < 0) {
		a->store_dead = true;	/* main's exit status says so */
		return rc;
	}
	if ((rc = hv_open(&a->hv, err)) < 0)
		return rc;
	co->conf = &a->conf;
	co->store = a->store;
	co->hv = a->hv;
	co->loop = a->loop;
	co->rec.store = a->store;
	co->rec.root = a->conf.control_root;
	tasks_init(&co->tasks, &co->rec, a->loop, a->conf.task_retention,
		   a->conf.task_max);
	co->hooks = (struct core_hooks){
		.task_ended = agent_task_ended,
		.domain_gone = agent_domain_gone,
		.domain_shutdown = agent_domain_shutdown,
		.arg = a,
	};
	/* The control tree is dom0's alone: guests may neither read nor write
	 * it.  Stale VM records from an earlier run are rebuilt below. */
	if ((rc = store_mkdir(a->store, STORE_NOTX, a->conf.control_root, err)) < 0 ||
	    (rc = store_set_perms(a->store, STORE_NOTX, a->conf.control_root,
				  dom0_only, 1, err)) < 0)
		return rc;
	if (agent_load_vms(a, &a->core.vms) < 0)
		log_warn("%s: some VM files are invalid; they cannot be started",
			 a->conf.vm_dir);
	/* Of the old records only the restart guard's is kept. */
	for (struct vm *vm = a->core.vms.head; vm; vm = vm->next)
		if (vm->valid)
			policy_guard_load(&a->core, vm);
	agent_path(a, "vm", p, sizeof(p));
	agent_note_vm_domids(a, p);
	if ((rc = store_rm(a->store, STORE_NOTX, p, err)) < 0)
		return rc;
	agent_path(a, "unmanaged", p, sizeof(p));
	if ((rc = store_rm(a->store, STORE_NOTX, p, err)) < 0)
		return rc;
	agent_path(a, "request", p, sizeof(p));
	if ((rc = store_mkdir(a->store, STORE_NOTX, p, err)) < 0)
		return rc;
	/* Tasks first: a start they say was in flight is rolled back by the
	 * refresh rather than its domain adopted. */
	agent_adopt_tasks(a);
	refresh_run(&a->core);
	/* After the refresh: it adopts live domains and rolls back starts;
	 * what is left of gone domains the old records name goes now. */
	reconcile_run(&co->reconcile, a->store, a->hv, a->conf.script_dir,
		      &a->core.vms, agent_reconcile_teardown, a);
	for (struct vm *vm = a->core.vms.head; vm; vm = vm->next)
		rec_publish_vm(&a->core.rec, vm);
	if ((rc = loop_add(a->loop, store_fd(a->store), agent_store_ready, a)) < 0)
		return err_sys(err, -rc, "poll xenstore");
	/* Watch the domain list before the requests, so that a start
	 * requested now sees every change that follows. */
	if ((rc = store_watch(a->store, "@releaseDomain", TOKEN_RELEASE, err)) < 0 ||
	    (rc = store_watch(a->store, "@introduceDomain", TOKEN_INTRODUCE,
			      err)) < 0)
		return rc;
	agent_path(a, "figures", fp, sizeof(fp));
	if ((rc = store_watch(a->store, fp, TOKEN_FIGURES, err)) < 0 ||
	    (rc = store_watch(a->store, p, TOKEN_REQUEST, err)) < 0)
		return rc;
	loop_timer_arm(a->loop, &a->store_check, loop_now_ms() + STORE_CHECK_MS);
	log_info("ready: %u VM(s) from %s, control tree %s", a->core.vms.n,
		 a->conf.vm_dir, a->conf.control_root);
	return 0;
}

/* Does vm hold a domain, or a task working on one? */
static bool vm_live(const struct vm *vm)
{
	return vm->busy || vm->domid >= 0;
}

/* Among the old VMs, the one the fresh definition nv takes over: the same
 * name, or else -- a renamed file -- the same UUID as a live one. */
static struct vm **reload_match(struct vm **head, const struct vm *nv)
{
	struct vm **po;

	for (po = head; *po; po = &(*po)->next)
		if (!strcmp((*po)->name, nv->name))
			return po;
	if (!nv->valid)
		return NULL;
	for (po = head; *po; po = &(*po)->next)
		if (vm_live(*po) && (*po)->valid &&
		    !memcmp((*po)->conf.uuid, nv->conf.uuid, 16))
			return po;
	return NULL;
}

/* SIGHUP: read the VM files again.  A halted VM takes its file as it is
 * now.  A live one keeps the definition it was started with -- its name,
 * UUID and devices are what its domain and nodes were made from, so a file
 * made invalid, given a new UUID or renamed must not strip a running guest
 * or make it unmanaged -- and takes the new one at its next start. */
void agent_reload(struct agent *a)
{
	struct vm_list fresh = { 0 };
	struct vm *kept = NULL, **ktail = &kept;
	char rel[128];

	log_info("reloading VM files from %s", a->conf.vm_dir);
	if (agent_load_vms(a, &fresh) < 0)
		log_warn("%s: some VM files are invalid", a->conf.vm_dir);
	for (struct vm **pn = &fresh.head; *pn;) {
		struct vm *nv = *pn, *old, **po = reload_match(&a->core.vms.head, nv);

		if (!po) {
			pn = &nv->next;
			continue;
		}
		old = *po;
		*po = old->next;
		a->core.vms.n--;
		if (vm_live(old)) {
			/* Out of the fresh list, into the old VM's pending
			 * definition; the old VM goes back in nv's place. */
			*pn = nv->next;
			nv->next = NULL;
			vm_free(old->next_def);
			old->next_def = nv;
			if (strcmp(old->name, nv->name) || !nv->valid ||
			    memcmp(old->conf.uuid, nv->conf.uuid, 16))
				log_warn("%s: file changed (%s%s); the running "
					 "domain keeps its definition until it "
					 "ends", old->name, nv->valid ? "now " : "now invalid",
					 nv->valid ? nv->name : "");
			old->next = *pn;
			*pn = old;
			fresh.n++;
			pn = &old->next;
			continue;
		}
		nv->state = old->state;
		nv->domid = old->domid;
		nv->watching = old->watching;
		nv->devs = old->devs;
		nv->ndevs = old->ndevs;
		nv->pci_set = old->pci_set;
		old->pci_set = NULL;
		nv->start_time = old->start_time;
		nv->figures = old->figures;
		nv->nrestarts = old->nrestarts;
		memcpy(nv->restarts, old->restarts, sizeof(nv->restarts));
		memcpy(nv->last_shutdown, old->last_shutdown,
		       sizeof(nv->last_shutdown));
		old->devs = NULL;
		if (strcmp(old->name, nv->name)) {
			snprintf(rel, sizeof(rel), "vm/%s", old->name);
			rec_put(&a->core.rec, rel, NULL);
		}
		vm_free(old);
		pn = &nv->next;
	}
	/* What is left of the old list has no file any more. */
	for (struct vm *old = a->core.vms.head, *next; old; old = next) {
		next = old->next;
		if (vm_live(old)) {
			log_warn("%s: VM file gone; kept while its domain lives",
				 old->name);
			vm_free(old->next_def);
			old->next_def = NULL;
			old->next = NULL;
			*ktail = old;
			ktail = &old->next;
			continue;
		}
		snprintf(rel, sizeof(rel), "vm/%s", old->name);
		rec_put(&a->core.rec, rel, NULL);
		vm_free(old);
	}
	if (kept) {
		struct vm **tail = &fresh.head;

		while (*tail)
			tail = &(*tail)->next;
		*tail = kept;
		for (struct vm *k = kept; k; k = k->next)
			fresh.n++;
	}
	a->core.vms = fresh;
	for (struct vm *vm = a->core.vms.head; vm; vm = vm->next) {
		vm->published = false;
		rec_publish_vm(&a->core.rec, vm);
	}
	refresh_run(&a->core);
}

void agent_child_exited(struct agent *a, pid_t pid, int status)
{
	if (hotplug_reap(pid, status) || dm_reap(pid, status))
		return;
	if (!start_child_exited(&a->core, pid, status))
		log_debug("child %d exited (status %d)", (int)pid, status);
}

void agent_stop_tasks(struct agent *a)
{
	struct agent_err err;

	a->core.stopping = true;
	for (struct task *t = a->core.tasks.head; t; t = t->next) {
		if (t->state == TASK_RUNNING) {
			if (t->start)
				start_abort(&a->core, t, "interrupted: the agent is stopping");
			else
				ops_abort(&a->core, t, "interrupted: the agent is stopping");
		} else if (t->state == TASK_QUEUED) {
			err_set(&err, EINTR,
				"the agent stopped before this task ran; request it again");
			task_end(t, &err, NULL);
		}
	}
}

void agent_dispose(struct agent *a)
{
	dm_forget_all();
	task_free_all(&a->core.tasks);
	reconcile_dispose(&a->core.reconcile);
	free(a->core.unmanaged);
	vm_list_dispose(&a->core.vms);
	hv_close(a->hv);
	store_close(a->store);
	loop_free(a->loop);
	conf_dispose(conf_agent_keys, conf_agent_nkeys, &a->conf);
}
