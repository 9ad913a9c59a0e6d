/* The refresh: xend's XendDomain._refresh.  The VM records are kept in
 * step with the hypervisor's domain list (xc_domain_getinfolist), matched
 * by the domain handle, which the agent sets to the VM's UUID:
 *
 *   a VM's domain shut down     its on_poweroff/on_reboot/on_crash action
 *                               (or the stop/reboot the agent asked for):
 *                               destroy, restart or preserve
 *   a VM's domain vanished      the VM is halted, its nodes and devices go
 *   a running domain with a     adopted (after an agent restart)
 *   VM's UUID
 *   any other domain but dom0   listed under <root>/unmanaged, never touched
 *
 * It runs at start-up, on @introduceDomain and @releaseDomain (xenstored
 * fires the latter when a domain shuts down, too), on a refresh request and
 * on the figures timer.  The figures (uptime, cputime, memory, vCPUs) are
 * published only while a client asks for them under <root>/figures. */
#ifndef XSAGENT_REFRESH_H
#define XSAGENT_REFRESH_H

#include "agent.h"

void refresh_run(struct agent *a);
/* The VM's domain is over: destroy it (when destroy), tear its devices
 * down, remove its nodes, and mark the VM halted with reason as its last
 * shutdown reason. */
void refresh_end_domain(struct agent *a, struct vm *vm, const char *reason,
			bool destroy);
/* <root>/figures changed: (re)arm or stop the figures timer. */
void refresh_figures_requests(struct agent *a);
/* A refresh that also publishes every running VM's figures. */
void refresh_figures(struct agent *a);
/* Rebuild the device list of a domain the agent did not start in this
 * run (adopted, or left by an interrupted start). */
void refresh_recover_devices(struct agent *a, struct vm *vm, unsigned domid);
/* Read the restart guard's record an earlier run of the agent left under
 * <root>/vm/<name>/restarts (before that tree is rebuilt). */
void refresh_guard_load(struct agent *a, struct vm *vm);

#endif
