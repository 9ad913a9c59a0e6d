/* The xenstore nodes of a running domain, as a Linux PV guest, xenconsoled
 * and other toolstacks expect them (docs/misc/xenstore-paths in Xen).
 *
 *   /local/domain/D            (n0,rD)  the guest reads, only dom0 writes
 *     name, domid, vm          written by domtree_make
 *     control/                 (n0,bD)  the guest writes feature-* and acks
 *                                       control/shutdown
 *     data/                    (n0,bD)  guest agents publish here
 *     console/{port,ring-ref,type}, store/{port,ring-ref}
 *                              domtree_rings, before the introduce
 *     memory/{static-max,target}, cpu/N/availability
 *                              domtree_dom_details
 *   /vm/<uuid>                 (n0)     domtree_vm_details
 *
 * Nodes created under a directory inherit its permissions, so only the
 * directories get explicit ones: that keeps a start's request count low. */
#ifndef XSAGENT_DOMTREE_H
#define XSAGENT_DOMTREE_H

#include <stdint.h>

#include "conf.h"
#include "err.h"
#include "store.h"
#include "vm.h"

/* One transaction, retried on conflict: a stale tree of the same domid is
 * removed, then the domain's directory, name, domid, vm, control and data. */
int domtree_make(struct store *s, unsigned domid, const char *name,
		 const char *uuid, struct agent_err *err);
int domtree_rings(struct store *s, unsigned domid, unsigned console_port,
		  uint64_t console_mfn, unsigned store_port, uint64_t store_mfn,
		  struct agent_err *err);
int domtree_vm_details(struct store *s, const struct vm_conf *c,
		       const char *uuid, struct agent_err *err);
int domtree_dom_details(struct store *s, unsigned domid,
			const struct vm_conf *c, struct agent_err *err);
/* Watch (on) or stop watching (off) vm's ~/control/shutdown, with the
 * token DOMTREE_TOKEN_SHUTDOWN "<name>"; vm->watching says which. */
#define DOMTREE_TOKEN_SHUTDOWN "shutdown/"
/* The guest's /local/domain/DOMID/control/shutdown: the agent writes a
 * stop or reboot there, watches it, and the guest clears it. */
void domtree_shutdown_path(int domid, char *buf, size_t n);
int domtree_watch_shutdown(struct store *s, struct vm *vm, bool on,
			   struct agent_err *err);
/* Remove /local/domain/D (when domid >= 0) and /vm/<uuid> (when set). */
int domtree_remove(struct store *s, int domid, const char *uuid,
		   struct agent_err *err);

#endif
