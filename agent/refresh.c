/* The refresh: reconcile the VM records with the hypervisor (refresh.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dev.h"
#include "domtree.h"
#include "log.h"
#include "loop.h"
#include "ops.h"
#include "refresh.h"
#include "request.h"
#include "task.h"

#define FIGURES_MAX_INTERVAL 3600

static const char *const figure_keys[] = { "uptime", "cputime", "memory_kb",
					   "vcpus_online" };
#define NFIGURES (sizeof(figure_keys) / sizeof(figure_keys[0]))

static void figures_clear(struct agent *a, struct vm *vm)
{
	if (!vm->figures)
		return;
	for (unsigned i = 0; i < NFIGURES; i++)
		agent_put_vm(a, vm, figure_keys[i], NULL);
	vm->figures = false;
}

/* ---- devices of a domain started by an earlier run ------------------------ */

void refresh_recover_devices(struct agent *a, struct vm *vm, unsigned domid)
{
	struct agent_err err;

	if (vm->devs)
		return;
	if (dev_plan(vm, domid, a->conf.script_dir, &vm->devs, &vm->ndevs,
		     &err) < 0) {
		log_error("%s: %s", vm->name, err.msg);
		return;
	}
	/* What `block add` set up, so that the remove can free it even after
	 * the backend's nodes are gone. */
	for (unsigned i = 0; i < vm->ndevs; i++) {
		struct dev *d = &vm->devs[i];
		char p[200];

		d->phase = DEV_CONNECTED;
		if (d->kind != DEV_VBD)
			continue;
		snprintf(p, sizeof(p), "%s/node", d->be);
		store_read_str(a->store, STORE_NOTX, p, d->node, sizeof(d->node));
	}
}

/* ---- a domain ends -------------------------------------------------------- */

void refresh_end_domain(struct agent *a, struct vm *vm, const char *reason,
			bool destroy)
{
	struct agent_err err;
	char uuid[37];

	conf_format_uuid(vm->conf.uuid, uuid);
	snprintf(vm->last_shutdown, sizeof(vm->last_shutdown), "%s", reason);
	log_info("%s: domain %d ended (%s)", vm->name, vm->domid, reason);
	agent_watch_shutdown(a, vm, false, &err);
	if (destroy && vm->domid >= 0 &&
	    hv_destroy(a->hv, (unsigned)vm->domid, &err) < 0)
		log_error("%s: %s", vm->name, err.msg);
	agent_devices_teardown(a, vm->name, vm->devs, vm->ndevs);
	vm->devs = NULL;
	vm->ndevs = 0;
	if (domtree_remove(a->store, vm->domid, uuid, &err) < 0)
		log_error("%s: %s", vm->name, err.msg);
	agent_put_vm(a, vm, "last_shutdown_reason", vm->last_shutdown);
	figures_clear(a, vm);
	vm->domid = -1;
	vm->state = VM_HALTED;
	vm->intent = VM_INTENT_NONE;
}

/* The guard's record outlives the agent: <root>/vm/<name>/restarts holds
 * the CLOCK_MONOTONIC ms of the latest restarts, oldest first.  That clock
 * is the machine's, so an agent started again in the same boot reads them
 * in its own time base (a dom0 reboot takes xenstore with it).  Without
 * this an agent that dies while a guest reboots in a loop would start
 * counting again. */
#define GUARD_RING (sizeof(((struct vm *)0)->restarts) / sizeof(uint64_t))

static void guard_save(struct agent *a, const struct vm *vm)
{
	char val[GUARD_RING * 21 + 1];
	size_t len = 0;
	unsigned first = vm->nrestarts > GUARD_RING ? vm->nrestarts - GUARD_RING : 0;

	val[0] = '\0';
	for (unsigned i = first; i < vm->nrestarts; i++)
		len += (size_t)snprintf(val + len, sizeof(val) - len, "%s%llu",
					len ? " " : "",
					(unsigned long long)vm->restarts[i % GUARD_RING]);
	agent_put_vm(a, vm, "restarts", val);
}

void refresh_guard_load(struct agent *a, struct vm *vm)
{
	char val[GUARD_RING * 21 + 1], *s = val, *end;
	uint64_t now = loop_now_ms();

	agent_get_vm(a, vm, "restarts", val, sizeof(val));
	vm->nrestarts = 0;
	while (*s) {
		unsigned long long ms;

		errno = 0;
		ms = strtoull(s, &end, 10);
		/* Anything but a past time is ignored: the node is ours, but
		 * a stale or hand-edited one must not block a restart. */
		if (end == s || errno || (*end && *end != ' '))
			break;
		if (ms <= now)
			vm->restarts[vm->nrestarts++ % GUARD_RING] = ms;
		s = *end ? end + 1 : end;
	}
}

/* The restart guard: at most restart_limit restarts within
 * restart_window seconds.  Records this restart when it is allowed. */
static bool restart_allowed(struct agent *a, struct vm *vm, char *why,
			    size_t n)
{
	uint64_t now = loop_now_ms(), window = a->conf.restart_window * 1000;
	unsigned recent = 0, ring = GUARD_RING;

	for (unsigned i = 0; i < ring && i < vm->nrestarts; i++)
		recent += vm->restarts[i] + window > now;
	if (recent >= (unsigned)a->conf.restart_limit) {
		snprintf(why, n, "not restarted: %u restart(s) within %lld s "
			 "(restart_limit %lld)", recent, a->conf.restart_window,
			 a->conf.restart_limit);
		return false;
	}
	vm->restarts[vm->nrestarts++ % ring] = now;
	guard_save(a, vm);
	return true;
}

/* The domain of vm shut down with reason (enum hv_shutdown): apply the
 * action the agent asked for or the VM's on_* setting. */
static void domain_shut_down(struct agent *a, struct vm *vm,
			     const struct hv_dominfo *d)
{
	const struct vm_conf *c = &vm->conf;
	const char *reason = d->shutdown_reason < 6 ?
			     hv_shutdown_names[d->shutdown_reason] : "unknown";
	char note[160];
	int action;

	vm->domid = (int)d->domid;
	if (vm->busy && vm->intent != VM_INTENT_NONE) {
		/* A stop or reboot is waiting for this: it decides. */
		refresh_end_domain(a, vm, reason, true);
		ops_domain_ended(a, vm->busy, reason);
		return;
	}
	switch (d->shutdown_reason) {
	case HV_SD_REBOOT:
		action = c->on_reboot;
		break;
	case HV_SD_CRASH:
	case HV_SD_WATCHDOG:
		action = c->on_crash;
		break;
	default:	/* poweroff; suspend and soft reset are not supported */
		action = c->on_poweroff;
		break;
	}
	if (action == VM_ACT_PRESERVE) {
		struct agent_err err;

		/* Kept for inspection (a crash dump, the console) until a
		 * destroy request. */
		snprintf(vm->last_shutdown, sizeof(vm->last_shutdown), "%s", reason);
		agent_watch_shutdown(a, vm, false, &err);
		vm->state = d->shutdown_reason == HV_SD_CRASH ||
			    d->shutdown_reason == HV_SD_WATCHDOG ?
			    VM_CRASHED : VM_SHUTDOWN;
		agent_put_vm(a, vm, "last_shutdown_reason", reason);
		snprintf(note, sizeof(note), "preserved (%s)", reason);
		agent_put_vm(a, vm, "last_action", note);
		log_info("%s: domain %u shut down (%s): preserved", vm->name,
			 d->domid, reason);
		return;
	}
	refresh_end_domain(a, vm, reason, true);
	if (action == VM_ACT_RESTART) {
		if (a->stopping) {
			snprintf(note, sizeof(note), "not restarted: the agent is stopping");
		} else if (restart_allowed(a, vm, note, sizeof(note))) {
			snprintf(note, sizeof(note), "restarted (%s)", reason);
			agent_put_vm(a, vm, "last_action", note);
			ops_restart(a, vm, reason);
			return;
		}
		log_error("%s: %s", vm->name, note);
	} else {
		snprintf(note, sizeof(note), "destroyed (%s)", reason);
	}
	agent_put_vm(a, vm, "last_action", note);
}

/* ---- an interrupted start ------------------------------------------------- */

/* A start was in flight when an earlier run of the agent died: undo what it
 * made.  d is the domain its record names (or, when the record names none,
 * one with the VM's UUID that never ran), or NULL.  The domain is destroyed
 * here; its devices and nodes go with the start-up reconciliation that
 * follows the refresh (reconcile.c), which removes all a gone domain left
 * but never what a live domain of the VM still uses. */
static void rollback(struct agent *a, struct vm *vm, const struct hv_dominfo *d,
		     const struct hv_dominfo *doms, unsigned n)
{
	int domid = d ? (int)d->domid : vm->rollback_domid;
	struct agent_err err;

	/* The recorded domain is gone and its domid is another VM's now:
	 * nothing of it is ours. */
	for (unsigned i = 0; !d && domid >= 0 && i < n; i++)
		if ((int)doms[i].domid == domid) {
			log_warn("%s: task %s named domain %d, which is another "
				 "VM's now: left alone", vm->name,
				 vm->rollback_task, domid);
			domid = -1;
		}
	log_warn("%s: rolling back the start of task %s (interrupted by agent "
		 "restart; domain %d)", vm->name, vm->rollback_task, domid);
	vm->rollback = false;
	if (d && hv_destroy(a->hv, d->domid, &err) < 0)
		log_error("%s: %s", vm->name, err.msg);
	reconcile_note(&a->reconcile, domid);
	snprintf(vm->last_shutdown, sizeof(vm->last_shutdown), "rolled back");
	agent_put_vm(a, vm, "last_shutdown_reason", vm->last_shutdown);
	vm->domid = -1;
	vm->state = VM_HALTED;
	agent_put_vm(a, vm, "last_action", "start interrupted by agent restart; rolled back");
	/* A domain with the UUID that the record did not name (the VM was
	 * running when the interrupted task was asked for) is adopted by
	 * another pass. */
	a->refresh_again = true;
}

/* ---- domains the agent does not manage ------------------------------------ */

static bool managed(const struct agent *a, const struct hv_dominfo *d)
{
	for (const struct vm *vm = a->vms.head; vm; vm = vm->next)
		if (vm->valid && !memcmp(vm->conf.uuid, d->handle, 16))
			return true;
	return false;
}

static void list_unmanaged(struct agent *a, const struct hv_dominfo *doms,
			   unsigned n)
{
	unsigned *now = calloc(n + 1, sizeof(*now)), nnow = 0;
	struct agent_err err;

	if (!now)
		return;
	for (unsigned i = 0; i < n; i++) {
		const struct hv_dominfo *d = &doms[i];
		bool known = false;
		char rel[96], p[64], uuid[37], q[80], *name = NULL;
		size_t len = 0;

		/* A dying domain is gone as far as anyone can use it, and
		 * xenstored fires @releaseDomain when it starts dying, not
		 * again when the hypervisor finally drops it. */
		if (!d->domid || d->dying || managed(a, d))
			continue;
		now[nnow++] = d->domid;
		for (unsigned j = 0; j < a->nunmanaged; j++)
			known |= a->unmanaged[j] == d->domid;
		if (known)
			continue;
		/* The name is the guest's to change: quote it. */
		snprintf(p, sizeof(p), "/local/domain/%u/name", d->domid);
		q[0] = '\0';
		if (store_read(a->store, STORE_NOTX, p, &name, &len, &err) == 0)
			request_quote(name, len, q, sizeof(q));
		free(name);
		conf_format_uuid(d->handle, uuid);
		snprintf(rel, sizeof(rel), "unmanaged/%u/name", d->domid);
		agent_put(a, rel, q);
		snprintf(rel, sizeof(rel), "unmanaged/%u/uuid", d->domid);
		agent_put(a, rel, uuid);
		log_info("domain %u (%s) is not managed by the agent: listed, "
			 "left alone", d->domid, q);
	}
	for (unsigned j = 0; j < a->nunmanaged; j++) {
		bool still = false;
		char rel[64];

		for (unsigned i = 0; i < nnow; i++)
			still |= now[i] == a->unmanaged[j];
		if (still)
			continue;
		snprintf(rel, sizeof(rel), "unmanaged/%u", a->unmanaged[j]);
		agent_put(a, rel, NULL);
	}
	free(a->unmanaged);
	a->unmanaged = now;
	a->nunmanaged = nnow;
}

/* ---- figures -------------------------------------------------------------- */

static void put_figures(struct agent *a, struct vm *vm,
			const struct hv_dominfo *d, long long wall)
{
	unsigned long long ms = d->cpu_ns / 1000000, v[NFIGURES] = {
		vm->start_time && wall > vm->start_time ?
			(unsigned long long)(wall - vm->start_time) : 0,
		0, d->mem_kb, d->vcpus_online,
	};
	char val[32];

	for (unsigned i = 0; i < NFIGURES; i++) {
		if (i == 1)	/* cputime: seconds with milliseconds */
			snprintf(val, sizeof(val), "%llu.%03llu", ms / 1000, ms % 1000);
		else
			snprintf(val, sizeof(val), "%llu", v[i]);
		agent_put_vm(a, vm, figure_keys[i], val);
	}
	vm->figures = true;
}

/* ---- the refresh ---------------------------------------------------------- */

/* /vm/<uuid>/start_time as domtree_vm_details writes it: wall-clock
 * seconds, not in the future; with a cut or junk record the uptime counts
 * from the adoption. */
static long long parse_start_time(const char *v)
{
	long long now = (long long)time(NULL), t;
	char *end;

	if (!*v || *v < '0' || *v > '9' || strlen(v) > 12)
		return now;
	t = strtoll(v, &end, 10);
	return *end || t <= 0 || t > now + 60 ? now : t;
}

static void adopt(struct agent *a, struct vm *vm, const struct hv_dominfo *d)
{
	struct agent_err err;
	char p[96], uuid[37], v[24];

	log_info("%s: adopting running domain %u", vm->name, d->domid);
	vm->domid = (int)d->domid;
	agent_watch_shutdown(a, vm, true, &err);
	refresh_recover_devices(a, vm, d->domid);
	conf_format_uuid(vm->conf.uuid, uuid);
	snprintf(p, sizeof(p), "/vm/%s/start_time", uuid);
	store_read_str(a->store, STORE_NOTX, p, v, sizeof(v));
	vm->start_time = parse_start_time(v);
}

static void refresh_once(struct agent *a, bool figures);

/* Acting on a domain can end a task, which can run the next one, which can
 * ask for a refresh: that one runs after this, on a fresh domain list
 * (acting twice on one shutdown would restart a VM twice). */
static void refresh_loop(struct agent *a, bool figures)
{
	a->refresh_figures |= figures;
	if (a->refreshing) {
		a->refresh_again = true;
		return;
	}
	a->refreshing = true;
	do {
		figures = a->refresh_figures;
		a->refresh_again = false;
		a->refresh_figures = false;
		refresh_once(a, figures);
	} while (a->refresh_again);
	a->refreshing = false;
}

void refresh_run(struct agent *a)
{
	refresh_loop(a, false);
}

void refresh_figures(struct agent *a)
{
	refresh_loop(a, true);
}

static void refresh_once(struct agent *a, bool figures)
{
	struct hv_dominfo *doms = NULL;
	long long wall = (long long)time(NULL);
	struct agent_err err;
	unsigned n = 0;

	if (hv_list(a->hv, &doms, &n, &err) < 0) {
		log_error("refresh: %s", err.msg);
		return;
	}
	for (struct vm *vm = a->vms.head; vm; vm = vm->next) {
		const struct hv_dominfo *d = NULL;

		/* A start in progress owns its VM and its domain. */
		if (!vm->valid || (vm->busy && vm->busy->start))
			continue;
		/* A rollback undoes only the domain its task record named; a
		 * record without one (killed between the create and the
		 * record, or cut short) only a domain with the VM's UUID that
		 * never ran: created paused and never unpaused, as no domain
		 * but an unfinished start's is. */
		int want = vm->rollback ? vm->rollback_domid : vm->domid;

		for (unsigned i = 0; i < n; i++)
			if (!memcmp(doms[i].handle, vm->conf.uuid, 16) &&
			    (want >= 0 ? (int)doms[i].domid == want :
			     !vm->rollback || (doms[i].paused && !doms[i].cpu_ns)))
				d = &doms[i];
		if (vm->rollback) {
			rollback(a, vm, d, doms, n);
		} else if (!d) {
			if (vm->domid >= 0) {
				refresh_end_domain(a, vm, "destroyed", false);
				agent_put_vm(a, vm, "last_action", "domain vanished");
				if (vm->busy)
					ops_domain_ended(a, vm->busy, "destroyed");
			}
		} else if (d->dying) {
			/* Ours, destroyed but not yet released: done with it.
			 * Anyone else's (a halted VM's old domain) is ignored. */
			if (vm->domid >= 0) {
				refresh_end_domain(a, vm, "destroyed", false);
				if (vm->busy)
					ops_domain_ended(a, vm->busy, "destroyed");
			}
		} else if (d->shutdown) {
			/* A preserved domain stays until destroyed. */
			if (vm->state != VM_SHUTDOWN && vm->state != VM_CRASHED)
				domain_shut_down(a, vm, d);
		} else {
			if (vm->domid < 0)
				adopt(a, vm, d);
			vm->state = d->paused ? VM_PAUSED : VM_RUNNING;
			if (figures)
				put_figures(a, vm, d, wall);
		}
		agent_publish_vm(a, vm);
	}
	list_unmanaged(a, doms, n);
	free(doms);
}

/* ---- who asks for figures ------------------------------------------------ */

static void figures_due(void *arg)
{
	struct agent *a = arg;

	refresh_figures(a);
	if (a->figures_interval)
		loop_timer_arm(a->loop, &a->figures_timer,
			       loop_now_ms() + a->figures_interval * 1000ULL);
}

void refresh_figures_requests(struct agent *a)
{
	char base[512], **names = NULL;
	struct agent_err err;
	unsigned n = 0, best = 0;
	int rc;

	if (!a->figures_timer.fn)
		loop_timer_init(&a->figures_timer, figures_due, a);
	snprintf(base, sizeof(base), "%s/figures", a->conf.control_root);
	rc = store_ls(a->store, STORE_NOTX, base, &names, &n, &err);
	if (rc < 0 && rc != -ENOENT)
		log_warn("figures: %s", err.msg);
	for (unsigned i = 0; i < n; i++) {
		char p[600], *v = NULL, *end;
		unsigned long s = 0;

		snprintf(p, sizeof(p), "%s/%s", base, names[i]);
		if (store_read(a->store, STORE_NOTX, p, &v, NULL, &err) == 0) {
			errno = 0;
			s = strtoul(v, &end, 10);
			if (*v < '0' || *v > '9' || *end || errno ||
			    s < 1 || s > FIGURES_MAX_INTERVAL) {
				char q[48], line[200];

				request_quote(names[i], strlen(names[i]), q, sizeof(q));
				snprintf(line, sizeof(line), "figures/%s: interval must be "
					 "1-%d seconds", q, FIGURES_MAX_INTERVAL);
				log_error("%s", line);
				agent_put(a, "error", line);
				s = 0;
			}
		}
		free(v);
		if (s && (!best || s < best))
			best = (unsigned)s;
	}
	free(names);
	if (best == a->figures_interval)
		return;
	a->figures_interval = best;
	if (!best) {
		loop_timer_disarm(a->loop, &a->figures_timer);
		log_info("figures: nobody asks; not refreshed any more");
		return;
	}
	log_info("figures: every %u s", best);
	figures_due(a);
}
