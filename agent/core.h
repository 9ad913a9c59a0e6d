/* The actions' shared ground: what the start pipeline, the other operations
 * and the refresh work on, and the hooks through which they report up.
 *
 * The agent (agent.c) owns all of it, fills it in and registers the hooks;
 * the actions never name the agent.  They report what happened -- a task
 * ended, a domain is gone, a domain shut down -- and the agent decides what
 * follows (the next queued task, the VM's on_* action, a restart). */
#ifndef XSAGENT_CORE_H
#define XSAGENT_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "dev.h"
#include "hv.h"
#include "log.h"
#include "loop.h"
#include "rec.h"
#include "reconcile.h"
#include "store.h"
#include "task.h"
#include "vm.h"

/* The highest build_max conf_agent.def accepts. */
#define CORE_BUILDERS_MAX 64

struct core_hooks {
	/* Task t has ended (its record says how): the next one may run. */
	void (*task_ended)(void *arg, struct task *t);
	/* The refresh found vm's domain gone (vanished, or dying) and has
	 * cleaned it up: nodes, devices and record, the VM halted. */
	void (*domain_gone)(void *arg, struct vm *vm, const char *reason);
	/* The refresh found vm's domain shut down (d->shutdown_reason), with
	 * nothing done yet: the agent applies the VM's on_* action. */
	void (*domain_shutdown)(void *arg, struct vm *vm,
				const struct hv_dominfo *d);
	void *arg;
};

struct core {
	const struct agent_conf *conf;
	struct store *store;
	struct hv *hv;
	struct loop *loop;
	struct rec rec;
	struct vm_list vms;
	struct tasks tasks;
	uint64_t reserved_kb;		/* memory starts are about to populate */
	/* The start pipeline's domain builders (start.c), from fork to reaping:
	 * each maps a guest's memory and holds its kernel (~50 MB of dom0's
	 * memory each), so at most conf->build_max run and later starts wait
	 * in init until build_wake runs them. */
	pid_t builders[CORE_BUILDERS_MAX];
	unsigned nbuilders;
	struct loop_timer build_wake;
	bool stopping;			/* no new task starts */
	/* The refresh's own (refresh.c). */
	bool refreshing, refresh_again;	/* refresh_run is running / must rerun */
	bool refresh_figures;		/* the pass to come publishes figures */
	struct loop_timer figures_timer;
	unsigned figures_interval;	/* seconds; 0: nobody asks */
	unsigned *unmanaged;		/* domids listed under <root>/unmanaged */
	unsigned nunmanaged;
	struct reconcile reconcile;	/* domids old records named (start-up) */
	struct core_hooks hooks;
};

static inline void core_task_ended(struct core *co, struct task *t)
{
	co->hooks.task_ended(co->hooks.arg, t);
}

/* Devices of a domain gone or going: dev_teardown with the agent's
 * hotplug timeout; frees devs. */
static inline void core_devices_teardown(struct core *co, const char *vm_name,
					 struct dev *devs, unsigned n)
{
	dev_teardown(co->store, co->loop, (unsigned)co->conf->hotplug_timeout,
		     vm_name, devs, n);
}

/* dm.c's died: a device model ended under its running guest (its own
 * start's, or one adopted).  The guest cannot go on without it, so it
 * crashes, and the refresh applies on_crash.  status -1: not ours to know. */
static inline void core_dm_died(void *arg, unsigned domid, int status)
{
	struct core *co = arg;
	struct vm *vm = vm_find_domid(&co->vms, (int)domid);
	struct agent_err e;

	if (status < 0)
		log_warn("%s: device model ended under domain %u: the guest "
			 "crashes", vm ? vm->name : "?", domid);
	else
		log_warn("%s: device model ended (status %d) under domain %u: "
			 "the guest crashes", vm ? vm->name : "?", status, domid);
	if (hv_shutdown(co->hv, domid, HV_SD_CRASH, &e) < 0)
		log_error("domain %u: %s", domid, e.msg);
}

#endif
