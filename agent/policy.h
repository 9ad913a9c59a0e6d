/* What the agent does when a VM's domain ends: the one place that decides.
 * The refresh only reports (core.h hooks); this applies
 *
 *   a stop or reboot the agent asked for    that task goes on (ops.c)
 *   on_poweroff / on_reboot / on_crash      destroy, restart or preserve
 *
 * and guards restarts: at most restart_limit within restart_window seconds,
 * counted across runs of the agent in <root>/vm/<name>/restarts. */
#ifndef XSAGENT_POLICY_H
#define XSAGENT_POLICY_H

#include "core.h"

/* vm's domain shut down (d->shutdown_reason): act on it. */
void policy_domain_shutdown(struct core *co, struct vm *vm,
			    const struct hv_dominfo *d);
/* vm's domain is gone and cleaned up already (reason: "destroyed"). */
void policy_domain_gone(struct core *co, struct vm *vm, const char *reason);
/* Read the restart guard's record an earlier run of the agent left under
 * <root>/vm/<name>/restarts (before that tree is rebuilt). */
void policy_guard_load(struct core *co, struct vm *vm);

#endif
