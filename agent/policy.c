/* The agent's decisions on what the refresh found (policy.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "domtree.h"
#include "log.h"
#include "ops.h"
#include "policy.h"
#include "refresh.h"

/* The guard's record outlives the agent: <root>/vm/<name>/restarts holds
 * the CLOCK_MONOTONIC ms of the latest restarts, oldest first.  That clock
 * is the machine's, so an agent started again in the same boot reads them
 * in its own time base (a dom0 reboot takes xenstore with it).  Without
 * this an agent that dies while a guest reboots in a loop would start
 * counting again. */
#define GUARD_RING (sizeof(((struct vm *)0)->restarts) / sizeof(uint64_t))

static void guard_save(struct core *co, const struct vm *vm)
{
	char val[GUARD_RING * 21 + 1];
	size_t len = 0;
	unsigned first = vm->nrestarts > GUARD_RING ? vm->nrestarts - GUARD_RING : 0;

	val[0] = '\0';
	for (unsigned i = first; i < vm->nrestarts; i++)
		len += (size_t)snprintf(val + len, sizeof(val) - len, "%s%llu",
					len ? " " : "",
					(unsigned long long)vm->restarts[i % GUARD_RING]);
	rec_put_vm(&co->rec, vm, "restarts", val);
}

void policy_guard_load(struct core *co, struct vm *vm)
{
	char val[GUARD_RING * 21 + 1], *s = val, *end;
	uint64_t now = loop_now_ms();

	rec_get_vm(&co->rec, vm, "restarts", val, sizeof(val));
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
static bool restart_allowed(struct core *co, struct vm *vm, char *why,
			    size_t n)
{
	uint64_t now = loop_now_ms(), window = co->conf->restart_window * 1000;
	unsigned recent = 0, ring = GUARD_RING;

	for (unsigned i = 0; i < ring && i < vm->nrestarts; i++)
		recent += vm->restarts[i] + window > now;
	if (recent >= (unsigned)co->conf->restart_limit) {
		snprintf(why, n, "not restarted: %u restart(s) within %lld s "
			 "(restart_limit %lld)", recent, co->conf->restart_window,
			 co->conf->restart_limit);
		return false;
	}
	vm->restarts[vm->nrestarts++ % ring] = now;
	guard_save(co, vm);
	return true;
}

void policy_domain_shutdown(struct core *co, struct vm *vm,
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
		refresh_end_domain(co, vm, reason, true);
		ops_domain_ended(co, vm->busy, reason);
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
		domtree_watch_shutdown(co->store, vm, false, &err);
		vm->state = d->shutdown_reason == HV_SD_CRASH ||
			    d->shutdown_reason == HV_SD_WATCHDOG ?
			    VM_CRASHED : VM_SHUTDOWN;
		rec_put_vm(&co->rec, vm, "last_shutdown_reason", reason);
		snprintf(note, sizeof(note), "preserved (%s)", reason);
		rec_put_vm(&co->rec, vm, "last_action", note);
		log_info("%s: domain %u shut down (%s): preserved", vm->name,
			 d->domid, reason);
		return;
	}
	refresh_end_domain(co, vm, reason, true);
	if (action == VM_ACT_RESTART) {
		if (co->stopping) {
			snprintf(note, sizeof(note), "not restarted: the agent is stopping");
		} else if (restart_allowed(co, vm, note, sizeof(note))) {
			snprintf(note, sizeof(note), "restarted (%s)", reason);
			rec_put_vm(&co->rec, vm, "last_action", note);
			ops_restart(co, vm, reason);
			return;
		}
		log_error("%s: %s", vm->name, note);
	} else {
		snprintf(note, sizeof(note), "destroyed (%s)", reason);
	}
	rec_put_vm(&co->rec, vm, "last_action", note);
}

void policy_domain_gone(struct core *co, struct vm *vm, const char *reason)
{
	/* A stop or reboot waiting for the domain ends now. */
	if (vm->busy)
		ops_domain_ended(co, vm->busy, reason);
}
