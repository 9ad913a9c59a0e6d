/* PCI passthrough for PV and HVM guests: a device kind of its own.
 *
 * The host side lives in sysfs (pci_sysfs, /sys/bus/pci):
 *   devices/BDF/{vendor,device,resource,irq,driver,reset}
 *   drivers/pciback/{new_slot,bind,permissive}, devices/BDF/driver/unbind
 * A device is "assignable" when dom0's xen-pciback holds it (bound to the
 * pciback driver, as `xl pci-assignable-add` leaves it) and Xen could assign
 * it (no other domain has it: XEN_DOMCTL_test_assign_device).
 *
 * Attaching a VM's devices, in libxl_pci.c's order (read for the facts):
 *   1. Xen has an IOMMU (physinfo: XEN_SYSCTL_PHYSCAP_directio);
 *   2. each device exists, is bound to pciback (or, with seize = yes, is
 *      unbound from its driver and bound to pciback here), no running VM
 *      of the agent has it and Xen could assign it;
 *   3. the backend and frontend nodes, in one transaction -- the record a
 *      restarted agent finds (reconcile) before any side effect in Xen:
 *        /local/domain/D/device/pci/0           (nD,r0)
 *          backend, backend-id = 0, state = 1
 *        /local/domain/0/backend/pci/D/0        (n0,rD)
 *          frontend, frontend-id, online = 1, state = 1, domain = VM name,
 *          num_devs, and per device N: key-N, dev-N = BDF, state-N = 1,
 *          opts-N = msitranslate=M,power_mgmt=0,permissive=P,rdm_policy=R
 *      pciback then exports the devices (it writes vdev-N, root-N,
 *      root_num) and goes to Initialised (3): the start waits for that;
 *      Connected (4) comes only when the guest's pcifront connects, after
 *      the unpause;
 *   4. per device: I/O memory and I/O ports of its BARs (resource),
 *      its interrupt (irq: mapped as a pirq and allowed), pciback's
 *      permissive when asked, then the IOMMU assignment.
 * An HVM guest's devices go to its device model instead (qemu's
 * xen-pci-passthrough, on its command line: dm.c), which reads them through
 * sysfs and maps their BARs and interrupt into the guest.  Steps 1, 2 and 4
 * are the same (libxl grants the same permissions and assigns the device
 * for both); step 3 writes no backend, whose pciback would take the device
 * from qemu, but the agent's record PCI_HVM_RECORD/D, and the start does
 * not wait for a backend.
 * Every step has its undo, run in reverse by pci_detach, which also resets
 * the device where the kernel can (devices/BDF/reset) and leaves it bound
 * to pciback, assignable for the next VM. */
#ifndef XSAGENT_PCI_H
#define XSAGENT_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "hv.h"
#include "store.h"
#include "vm.h"

/* "/sys/bus/pci"; the host unit test points it at a tree of its own. */
extern const char *pci_sysfs;

struct pci_bar {
	uint64_t start, size;
	bool io;		/* I/O ports, else memory */
};

struct pci_dev {
	char bdf[13];		/* canonical dddd:bb:dd.f */
	uint32_t sbdf;		/* Xen's machine SBDF */
	int index;		/* N of [pci.N] */
	bool seize, permissive, msitranslate, relaxed;
	/* What was done, for the undo (each set once the step succeeded). */
	bool seized;
	struct pci_bar bars[6];
	unsigned nbars, bars_granted;
	unsigned irq;		/* 0: none */
	int pirq;
	bool irq_granted, assigned;
};

/* Where the agent records an HVM guest's devices (PCI_HVM_RECORD/D with
 * num_devs and dev-N, dom0's alone), before it assigns them: what a
 * restarted agent reads back.  A PV guest's record is its backend. */
#define PCI_HVM_RECORD "/local/domain/0/xsagent-pci"

/* A domain's PCI devices: one pciback backend (devid 0) for all of them, or
 * for an HVM guest the device model's (no backend). */
struct pci_set {
	unsigned domid;
	bool hvm;		/* the device model's: fe empty, be the record */
	char name[65];		/* the VM's, for messages */
	char fe[96], be[96];
	bool written;		/* the nodes are there */
	unsigned n;
	struct pci_dev dev[VM_MAX_DEVS];
};

/* The [pci.N] devices of vm for domain domid; *set_r is NULL when it has
 * none.  -ENOMEM. */
int pci_plan(const struct vm *vm, unsigned domid, struct pci_set **set_r,
	     struct agent_err *err);
/* Does set hold bdf? */
bool pci_set_has(const struct pci_set *set, const char *bdf);
/* Steps 1-4 above.  holder(arg, bdf) names a running VM of the agent that
 * holds bdf (NULL: none).  On failure err says what and why, and the set
 * records what was done: pci_detach undoes it (the start's undo). */
int pci_attach(struct hv *hv, struct store *s, struct pci_set *set,
	       const char *(*holder)(void *arg, const char *bdf), void *arg,
	       struct agent_err *err);
/* The backend's progress: 1 when pciback exported the devices (state 3 or
 * 4), 0 not yet, -EIO (err filled) when it closed or failed. */
int pci_ready(struct store *s, const struct pci_set *set, struct agent_err *err);
/* Undo pci_attach (whatever part of it was done): nodes removed, device
 * deassigned, permissions revoked, reset, left with pciback.  Logs what
 * fails; frees set. */
void pci_detach(struct hv *hv, struct store *s, struct pci_set *set);
/* A running domain adopted from an earlier run: the set as attached, read
 * back from its backend's dev-N (the record: the VM file may have changed
 * since), so that its stop detaches it.  NULL when it has none. */
struct pci_set *pci_recover(struct store *s, const struct vm *vm, unsigned domid);
/* Domain domid is gone (Xen released its devices): remove its pci
 * backend and frontend and reset the devices the backend names. */
void pci_reconcile(struct store *s, unsigned domid);

#endif
