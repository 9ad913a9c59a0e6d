/* Start-up reconciliation (reconcile.c): what an earlier run made for
 * domains that are gone now -- backends and their loop devices and vifs,
 * /local/domain/D, /vm/<uuid> -- is removed, as a teardown would have. */
#ifndef XSAGENT_RECONCILE_H
#define XSAGENT_RECONCILE_H

#include "dev.h"
#include "hv.h"
#include "store.h"
#include "vm.h"

/* The domids the old records named. */
struct reconcile {
	unsigned *domids;
	unsigned n;
};

/* The parsers of what an earlier run left, pure (fuzz_startup drives them).
 * A decimal number below limit (digits only, 1-9 of them), or -1: backend
 * device IDs, loop device numbers. */
long reconcile_parse_num(const char *s, long limit);
/* "/vm/<uuid>" as domtree_make writes it into /local/domain/D/vm: the UUID
 * into uuid (as written, 37 bytes) and raw; false for anything else. */
bool reconcile_parse_vm_path(const char *v, char uuid[37], unsigned char raw[16]);
/* A domid as the agent records it (decimal, 1 .. Xen's first reserved
 * ID - 1), or -1 for anything else: absent, junk, or cut short. */
int reconcile_parse_domid(const char *s);
/* Remember domid (<= 0 is ignored); -ENOMEM. */
int reconcile_note(struct reconcile *r, int domid);
void reconcile_dispose(struct reconcile *r);

/* Tear devs down as any teardown: remove their nodes, run their scripts in
 * the background; takes devs (malloc'd). */
typedef void reconcile_teardown_fn(void *arg, struct dev *devs, unsigned n);

/* For every noted domid, and every /local/domain/D naming the UUID of a VM
 * in vms, with no live domain: remove what is left.  Disposes r. */
void reconcile_run(struct reconcile *r, struct store *s, struct hv *hv,
		   const char *script_dir, const struct vm_list *vms,
		   reconcile_teardown_fn *teardown, void *arg);

#endif
