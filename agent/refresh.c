/* The refresh: reconcile the VM records with the hypervisor (refresh.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dev.h"
#include "dm.h"
#include "domtree.h"
#include "guest.h"
#include "log.h"
#include "loop.h"
#include "pci.h"
#include "refresh.h"
#include "request.h"
#include "task.h"

#define FIGURES_MAX_INTERVAL 3600

static const char *const figure_keys[] = { "uptime", "cputime", "memory_kb",
					   "vcpus_online" };
#define NFIGURES (sizeof(figure_keys) / sizeof(figure_keys[0]))

static void figures_clear(struct core *co, struct vm *vm)
{
	if (!vm->figures)
		return;
	for (unsigned i = 0; i < NFIGURES; i++)
		rec_put_vm(&co->rec, vm, figure_keys[i], NULL);
	vm->figures = false;
}

/* ---- devices of a domain started by an earlier run ------------------------ */

void refresh_recover_devices(struct core *co, struct vm *vm, unsigned domid)
{
	struct agent_err err;

	if (!vm->pci_set)
		vm->pci_set = pci_recover(co->store, vm, domid);
	if (vm->devs)
		return;
	if (dev_plan(vm, domid, co->conf->script_dir, &vm->devs, &vm->ndevs,
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
		store_read_str(co->store, STORE_NOTX, p, d->node, sizeof(d->node));
	}
}

/* ---- a domain ends -------------------------------------------------------- */

void refresh_end_domain(struct core *co, struct vm *vm, const char *reason,
			bool destroy)
{
	struct agent_err err;
	char uuid[37];

	conf_format_uuid(vm->conf.uuid, uuid);
	snprintf(vm->last_shutdown, sizeof(vm->last_shutdown), "%s", reason);
	log_info("%s: domain %d ended (%s)", vm->name, vm->domid, reason);
	domtree_watch_shutdown(co->store, vm, false, &err);
	/* The device model first, as libxl: nothing emulates for the domain
	 * any more when it goes.  One an earlier run of the agent started (the
	 * domain was adopted) is known by its pid node. */
	if (vm->dm)
		dm_stop(vm->dm);
	else if (vm->domid >= 0 && guest_type(vm->conf.type) &&
		 guest_type(vm->conf.type)->device_model)
		dm_kill_orphan(co->store, (unsigned)vm->domid);
	vm->dm = NULL;
	/* PCI devices while the domain still exists: Xen deassigns only
	 * from a live domain (a gone one released them itself). */
	pci_detach(co->hv, co->store, vm->pci_set);
	vm->pci_set = NULL;
	if (destroy && vm->domid >= 0 &&
	    hv_destroy(co->hv, (unsigned)vm->domid, &err) < 0)
		log_error("%s: %s", vm->name, err.msg);
	core_devices_teardown(co, vm->name, vm->devs, vm->ndevs);
	vm->devs = NULL;
	vm->ndevs = 0;
	if (domtree_remove(co->store, vm->domid, uuid, &err) < 0)
		log_error("%s: %s", vm->name, err.msg);
	rec_put_vm(&co->rec, vm, "last_shutdown_reason", vm->last_shutdown);
	figures_clear(co, vm);
	vm->domid = -1;
	vm->state = VM_HALTED;
	vm->intent = VM_INTENT_NONE;
}

/* ---- an interrupted start ------------------------------------------------- */

/* A start was in flight when an earlier run of the agent died: undo what it
 * made.  d is the domain its record names (or, when the record names none,
 * one with the VM's UUID that never ran), or NULL.  The domain is destroyed
 * here; its devices and nodes go with the start-up reconciliation that
 * follows the refresh (reconcile.c), which removes all a gone domain left
 * but never what a live domain of the VM still uses. */
static void rollback(struct core *co, struct vm *vm, const struct hv_dominfo *d,
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
	/* A device model it had started outlived the agent (it is not killed
	 * with it): it goes first, while its pid node is still there. */
	if (domid >= 0)
		dm_kill_orphan(co->store, (unsigned)domid);
	if (d && hv_destroy(co->hv, d->domid, &err) < 0)
		log_error("%s: %s", vm->name, err.msg);
	reconcile_note(&co->reconcile, domid);
	snprintf(vm->last_shutdown, sizeof(vm->last_shutdown), "rolled back");
	rec_put_vm(&co->rec, vm, "last_shutdown_reason", vm->last_shutdown);
	vm->domid = -1;
	vm->state = VM_HALTED;
	rec_put_vm(&co->rec, vm, "last_action", "start interrupted by agent restart; rolled back");
	/* A domain with the UUID that the record did not name (the VM was
	 * running when the interrupted task was asked for) is adopted by
	 * another pass. */
	co->refresh_again = true;
}

/* ---- domains the agent does not manage ------------------------------------ */

static bool managed(const struct core *co, const struct hv_dominfo *d)
{
	for (const struct vm *vm = co->vms.head; vm; vm = vm->next)
		if (vm->valid && !memcmp(vm->conf.uuid, d->handle, 16))
			return true;
	return false;
}

static void list_unmanaged(struct core *co, const struct hv_dominfo *doms,
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
		if (!d->domid || d->dying || managed(co, d))
			continue;
		now[nnow++] = d->domid;
		for (unsigned j = 0; j < co->nunmanaged; j++)
			known |= co->unmanaged[j] == d->domid;
		if (known)
			continue;
		/* The name is the guest's to change: quote it. */
		snprintf(p, sizeof(p), "/local/domain/%u/name", d->domid);
		q[0] = '\0';
		if (store_read(co->store, STORE_NOTX, p, &name, &len, &err) == 0)
			request_quote(name, len, q, sizeof(q));
		free(name);
		conf_format_uuid(d->handle, uuid);
		snprintf(rel, sizeof(rel), "unmanaged/%u/name", d->domid);
		rec_put(&co->rec, rel, q);
		snprintf(rel, sizeof(rel), "unmanaged/%u/uuid", d->domid);
		rec_put(&co->rec, rel, uuid);
		log_info("domain %u (%s) is not managed by the agent: listed, "
			 "left alone", d->domid, q);
	}
	for (unsigned j = 0; j < co->nunmanaged; j++) {
		bool still = false;
		char rel[64];

		for (unsigned i = 0; i < nnow; i++)
			still |= now[i] == co->unmanaged[j];
		if (still)
			continue;
		snprintf(rel, sizeof(rel), "unmanaged/%u", co->unmanaged[j]);
		rec_put(&co->rec, rel, NULL);
	}
	free(co->unmanaged);
	co->unmanaged = now;
	co->nunmanaged = nnow;
}

/* ---- figures -------------------------------------------------------------- */

static void put_figures(struct core *co, struct vm *vm,
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
		rec_put_vm(&co->rec, vm, figure_keys[i], val);
	}
	vm->figures = true;
}

/* ---- the refresh ---------------------------------------------------------- */

long long refresh_parse_start_time(const char *v, long long now)
{
	long long t;
	char *end;

	if (!*v || *v < '0' || *v > '9' || strlen(v) > 12)
		return now;
	t = strtoll(v, &end, 10);
	return *end || t <= 0 || t > now + 60 ? now : t;
}

static void adopt(struct core *co, struct vm *vm, const struct hv_dominfo *d)
{
	struct agent_err err;
	char p[96], uuid[37], v[24];

	log_info("%s: adopting running domain %u", vm->name, d->domid);
	vm->domid = (int)d->domid;
	domtree_watch_shutdown(co->store, vm, true, &err);
	refresh_recover_devices(co, vm, d->domid);
	/* Its device model outlived the earlier run: watched from now on, so
	 * that its death still crashes the guest.  A guest whose device model
	 * died while no agent ran has nothing emulating for it: it crashes now
	 * (dm.c's died would have made it so), and on_crash applies when the
	 * shutdown watch fires. */
	if (guest_type(vm->conf.type) && guest_type(vm->conf.type)->device_model &&
	    !vm->dm && dm_adopt(co->loop, co->store, d->domid, core_dm_died, co,
				&vm->dm, &err) < 0) {
		log_warn("%s: domain %u: %s", vm->name, d->domid, err.msg);
		core_dm_died(co, d->domid, -1);
	}
	conf_format_uuid(vm->conf.uuid, uuid);
	snprintf(p, sizeof(p), "/vm/%s/start_time", uuid);
	store_read_str(co->store, STORE_NOTX, p, v, sizeof(v));
	vm->start_time = refresh_parse_start_time(v, (long long)time(NULL));
}

static void refresh_once(struct core *co, bool figures);

/* Acting on a domain can end a task, which can run the next one, which can
 * ask for a refresh: that one runs after this, on a fresh domain list
 * (acting twice on one shutdown would restart a VM twice). */
static void refresh_loop(struct core *co, bool figures)
{
	co->refresh_figures |= figures;
	if (co->refreshing) {
		co->refresh_again = true;
		return;
	}
	co->refreshing = true;
	do {
		figures = co->refresh_figures;
		co->refresh_again = false;
		co->refresh_figures = false;
		refresh_once(co, figures);
	} while (co->refresh_again);
	co->refreshing = false;
}

void refresh_run(struct core *co)
{
	refresh_loop(co, false);
}

void refresh_figures(struct core *co)
{
	refresh_loop(co, true);
}

static void refresh_once(struct core *co, bool figures)
{
	struct hv_dominfo *doms = NULL;
	long long wall = (long long)time(NULL);
	struct agent_err err;
	unsigned n = 0;

	if (hv_list(co->hv, &doms, &n, &err) < 0) {
		log_error("refresh: %s", err.msg);
		return;
	}
	for (struct vm *vm = co->vms.head; vm; vm = vm->next) {
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
			rollback(co, vm, d, doms, n);
		} else if (!d) {
			if (vm->domid >= 0) {
				refresh_end_domain(co, vm, "destroyed", false);
				rec_put_vm(&co->rec, vm, "last_action", "domain vanished");
				co->hooks.domain_gone(co->hooks.arg, vm, "destroyed");
			}
		} else if (d->dying) {
			/* Ours, destroyed but not yet released: done with it.
			 * Anyone else's (a halted VM's old domain) is ignored. */
			if (vm->domid >= 0) {
				refresh_end_domain(co, vm, "destroyed", false);
				co->hooks.domain_gone(co->hooks.arg, vm, "destroyed");
			}
		} else if (d->shutdown) {
			/* A preserved domain stays until destroyed. */
			if (vm->state != VM_SHUTDOWN && vm->state != VM_CRASHED)
				co->hooks.domain_shutdown(co->hooks.arg, vm, d);
		} else {
			if (vm->domid < 0)
				adopt(co, vm, d);
			vm->state = d->paused ? VM_PAUSED : VM_RUNNING;
			if (figures)
				put_figures(co, vm, d, wall);
		}
		rec_publish_vm(&co->rec, vm);
	}
	list_unmanaged(co, doms, n);
	free(doms);
}

/* ---- who asks for figures ------------------------------------------------ */

static void figures_due(void *arg)
{
	struct core *co = arg;

	refresh_figures(co);
	if (co->figures_interval)
		loop_timer_arm(co->loop, &co->figures_timer,
			       loop_now_ms() + co->figures_interval * 1000ULL);
}

void refresh_figures_requests(struct core *co)
{
	char base[512], **names = NULL;
	struct agent_err err;
	unsigned n = 0, best = 0;
	int rc;

	if (!co->figures_timer.fn)
		loop_timer_init(&co->figures_timer, figures_due, co);
	snprintf(base, sizeof(base), "%s/figures", co->conf->control_root);
	rc = store_ls(co->store, STORE_NOTX, base, &names, &n, &err);
	if (rc < 0 && rc != -ENOENT)
		log_warn("figures: %s", err.msg);
	for (unsigned i = 0; i < n; i++) {
		char p[600], *v = NULL, *end;
		unsigned long s = 0;

		snprintf(p, sizeof(p), "%s/%s", base, names[i]);
		if (store_read(co->store, STORE_NOTX, p, &v, NULL, &err) == 0) {
			errno = 0;
			s = strtoul(v, &end, 10);
			if (*v < '0' || *v > '9' || *end || errno ||
			    s < 1 || s > FIGURES_MAX_INTERVAL) {
				char q[48], line[200];

				request_quote(names[i], strlen(names[i]), q, sizeof(q));
				snprintf(line, sizeof(line), "figures/%s: interval must be "
					 "1-%d seconds", q, FIGURES_MAX_INTERVAL);
				log_error("%s", line);
				rec_put(&co->rec, "error", line);
				s = 0;
			}
		}
		free(v);
		if (s && (!best || s < best))
			best = (unsigned)s;
	}
	free(names);
	if (best == co->figures_interval)
		return;
	co->figures_interval = best;
	if (!best) {
		loop_timer_disarm(co->loop, &co->figures_timer);
		log_info("figures: nobody asks; not refreshed any more");
		return;
	}
	log_info("figures: every %u s", best);
	figures_due(co);
}
