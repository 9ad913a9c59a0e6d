/* The hypervisor layer: libxenctrl and libxenguest behind a few calls.
 * The only file that includes xenctrl.h and xenguest.h. */
#ifndef XSAGENT_HV_H
#define XSAGENT_HV_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct hv;

enum hv_shutdown { HV_SD_POWEROFF, HV_SD_REBOOT, HV_SD_SUSPEND, HV_SD_CRASH,
		   HV_SD_WATCHDOG, HV_SD_SOFT_RESET };
extern const char *const hv_shutdown_names[];	/* by enum hv_shutdown */

struct hv_dominfo {
	unsigned domid;
	unsigned char handle[16];
	bool dying, shutdown, paused, hvm;
	unsigned shutdown_reason;	/* enum hv_shutdown, when shutdown */
	uint64_t cpu_ns;
	uint64_t mem_kb;
	unsigned vcpus_online;
};

#define HV_SCHED_WEIGHT_DEFAULT 256

struct hv_create_args {
	unsigned char uuid[16];
	unsigned vcpus;
	uint64_t maxmem_kb;
	int tsc_mode;		/* 0 default, 1 always emulate, 2 native */
	long rtc_offset;	/* seconds */
	bool viridian;		/* HVM: Hyper-V enlightenments (HVM_PARAM_VIRIDIAN) */
	/* The scheduler's weight (1-65535; HV_SCHED_WEIGHT_DEFAULT) and cap
	 * (% of a CPU; 0: none) of the domain, as xend's and libxl's
	 * cpu_weight and cap: credit and credit2 only. */
	unsigned weight, cap;
	/* The VM has PCI devices: the domain gets an IOMMU context
	 * (XEN_DOMCTL_CDF_iommu, as libxl sets for pci=), without which Xen
	 * refuses every device call with EOPNOTSUPP.  Left out when Xen has
	 * no IOMMU: the start's pci stage then refuses in plain words. */
	bool passthrough;
};

struct hv_build_args {
	unsigned domid;
	/* For HVM, kernel is hvmloader, ramdisk and cmdline are NULL (the
	 * device model loads the guest's kernel). */
	const char *kernel, *ramdisk, *cmdline;	/* ramdisk may be NULL */
	/* The BIOS for hvmloader (its system firmware module), or NULL. */
	const char *firmware;
	/* Where to keep the decompressed kernel for later builds (NULL: no). */
	const char *kernel_cache_out;
	unsigned mem_mb, vcpus;
	unsigned store_port, console_port;
};

/* The xenstore and console rings as the guest names them, for the
 * ring-ref nodes and xs_introduce_domain: machine frames for a PV guest,
 * guest frames (PFNs) for a translated (PVH) one. */
struct hv_build_result {
	uint64_t store_mfn, console_mfn;
};

struct hv_built;

int hv_open(struct hv **hv_r, struct agent_err *err);
void hv_close(struct hv *hv);

/* Every domain: *infos_r is malloc'd. */
int hv_list(struct hv *hv, struct hv_dominfo **infos_r, unsigned *n_r,
	    struct agent_err *err);
/* -ENOENT when the domain does not exist. */
int hv_getinfo(struct hv *hv, unsigned domid, struct hv_dominfo *info,
	       struct agent_err *err);
int hv_free_kb(struct hv *hv, uint64_t *kb_r, struct agent_err *err);

/* Create a paused domain with its limits set (vcpus, memory, TSC, RTC):
 * one entry point per guest type (guest.c's table names them). */
int hv_create_pv(struct hv *hv, const struct hv_create_args *a,
		 unsigned *domid_r, struct agent_err *err);
int hv_create_pvh(struct hv *hv, const struct hv_create_args *a,
		  unsigned *domid_r, struct agent_err *err);
int hv_create_hvm(struct hv *hv, const struct hv_create_args *a,
		  unsigned *domid_r, struct agent_err *err);
int hv_evtchn_alloc(struct hv *hv, unsigned domid, unsigned *port_r,
		    struct agent_err *err);
int hv_unpause(struct hv *hv, unsigned domid, struct agent_err *err);
int hv_pause(struct hv *hv, unsigned domid, struct agent_err *err);
/* Shut the domain down as if it had itself, with that reason (the agent
 * crashes an HVM guest whose device model died). */
int hv_shutdown(struct hv *hv, unsigned domid, enum hv_shutdown reason,
		struct agent_err *err);
/* Destroying a domain that is already gone is not an error. */
int hv_destroy(struct hv *hv, unsigned domid, struct agent_err *err);

/* ---- PCI passthrough (pci.c drives these; libxl_pci.c's order) ----------
 * A device is named by its machine SBDF: segment << 16 | bus << 8 |
 * device << 3 | function. */
/* Does Xen run with an IOMMU (XEN_SYSCTL_PHYSCAP_directio)? */
int hv_iommu(struct hv *hv, bool *on_r, struct agent_err *err);
/* 0 when Xen could assign the device to domid now; -EBUSY/-EINVAL/-ENODEV
 * (as Xen says) when another domain holds it or Xen does not know it. */
int hv_pci_test_assign(struct hv *hv, unsigned domid, uint32_t sbdf,
		       struct agent_err *err);
/* Put the device in domid's IOMMU context (relaxed: RDM policy relaxed). */
int hv_pci_assign(struct hv *hv, unsigned domid, uint32_t sbdf, bool relaxed,
		  struct agent_err *err);
/* Back to dom0 (or Xen's quarantine); a gone domain is not an error. */
int hv_pci_deassign(struct hv *hv, unsigned domid, uint32_t sbdf,
		    struct agent_err *err);
/* Grant (allow) or revoke machine frames, I/O ports, an interrupt. */
int hv_iomem_permit(struct hv *hv, unsigned domid, uint64_t first_mfn,
		    uint64_t nr, bool allow, struct agent_err *err);
int hv_ioport_permit(struct hv *hv, unsigned domid, unsigned first,
		     unsigned nr, bool allow, struct agent_err *err);
/* Map the device's GSI irq as a pirq of domid (PV: the same number) and
 * allow it; hv_irq_revoke undoes both. */
int hv_irq_grant(struct hv *hv, unsigned domid, unsigned irq, int *pirq_r,
		 struct agent_err *err);
void hv_irq_revoke(struct hv *hv, unsigned domid, int pirq);

/* Load the kernel and ramdisk into a created domain and set it up to boot.
 * Slow (seconds under emulation: it decompresses the kernel), so the agent
 * runs it in a child process; it opens its own hypervisor handle.  On
 * success *built_r holds the builder's memory, which can be released after
 * the result has been handed on.  For PVH it has already let go of the
 * guest's memory and keeps only a decompressed kernel still to be cached:
 * the domain may be unpaused at once. */
int hv_build_pv(const struct hv_build_args *a, struct hv_build_result *res,
		struct hv_built **built_r, struct agent_err *err);
int hv_build_pvh(const struct hv_build_args *a, struct hv_build_result *res,
		 struct hv_built **built_r, struct agent_err *err);
/* HVM: hvmloader and its BIOS in an HVM container laid out for a device
 * model; lets go of the guest's memory before it returns, as PVH. */
int hv_build_hvm(const struct hv_build_args *a, struct hv_build_result *res,
		 struct hv_built **built_r, struct agent_err *err);
void hv_built_release(struct hv_built *b);
/* When the build decompressed the kernel and kernel_cache_out was given,
 * write the decompressed ELF there (atomically): later builds can load it
 * without decompressing.  Returns 1 when written, 0 when there was nothing
 * to keep, or a negative errno. */
int hv_built_save_kernel(struct hv_built *b, struct agent_err *err);

#endif
