/* The refresh: xend's XendDomain._refresh.  The VM records are kept in
 * step with the hypervisor's domain list (xc_domain_getinfolist), matched
 * by the domain handle, which the agent sets to the VM's UUID:
 *
 *   a VM's domain shut down     reported (hooks.domain_shutdown): the agent
 *                               applies the on_* action or the stop/reboot
 *                               it asked for (policy.c)
 *   a VM's domain vanished      the VM is halted, its nodes and devices go;
 *                               reported (hooks.domain_gone)
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

#include "core.h"

void refresh_run(struct core *co);
/* The VM's domain is over: destroy it (when destroy), tear its devices
 * down, remove its nodes, and mark the VM halted with reason as its last
 * shutdown reason. */
void refresh_end_domain(struct core *co, struct vm *vm, const char *reason,
			bool destroy);
/* <root>/figures changed: (re)arm or stop the figures timer. */
void refresh_figures_requests(struct core *co);
/* A refresh that also publishes every running VM's figures. */
void refresh_figures(struct core *co);
/* Rebuild the device list of a domain the agent did not start in this
 * run (adopted, or left by an interrupted start). */
void refresh_recover_devices(struct core *co, struct vm *vm, unsigned domid);
/* An adopted domain's /vm/<uuid>/start_time as domtree_vm_details writes
 * it: wall-clock seconds (digits only, at most 12), not later than now +
 * 60; anything else (cut, junk, in the future) gives now, so that the
 * uptime counts from the adoption.  Pure: fuzz_startup drives it. */
long long refresh_parse_start_time(const char *v, long long now);

#endif
