/* The operations beside start, each a task like a start (task.h):
 *
 *   stop      write ~/control/shutdown = poweroff and wait shutdown_timeout
 *             seconds for the domain to shut down; then destroy it.  The
 *             task's result says which.
 *   reboot    the same with "reboot"; once the domain is gone the VM is
 *             started again in the same task (its stages follow "shutdown").
 *   destroy   destroy the domain now (any state, a preserved one too).
 *   pause, unpause
 *   cancel    end a queued task, roll back a start at whatever stage it is,
 *             or stop a stop/reboot from waiting (the guest may still act on
 *             the request it got).
 *   refresh   reconcile with the hypervisor and publish the figures once.
 *   restart   the agent's own task for an on_* action "restart".
 *
 * Operations on one VM run one at a time, in request order; the agent's
 * scheduler runs a task only when its VM is not busy. */
#ifndef XSAGENT_OPS_H
#define XSAGENT_OPS_H

#include "core.h"
#include "task.h"

/* Run task t (any operation but start). */
void ops_run(struct core *co, struct task *t);
/* The domain t waited for has ended (the refresh cleaned it up). */
void ops_domain_ended(struct core *co, struct task *t, const char *reason);
/* End a waiting stop/reboot now, failed with why. */
void ops_abort(struct core *co, struct task *t, const char *why);
/* Start vm again in a task of the agent's own (on_*=restart). */
void ops_restart(struct core *co, struct vm *vm, const char *reason);

#endif
