#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xenctrl.h>
#include <xenguest.h>
#include <xen/hvm/e820.h>
#include <xen/hvm/hvm_info_table.h>

#include "hv.h"
#include "kcache.h"

const char *const hv_shutdown_names[] = {
	[HV_SD_POWEROFF] = "poweroff", [HV_SD_REBOOT] = "reboot",
	[HV_SD_SUSPEND] = "suspend", [HV_SD_CRASH] = "crash",
	[HV_SD_WATCHDOG] = "watchdog", [HV_SD_SOFT_RESET] = "soft_reset",
};

struct hv {
	xc_interface *xch;
};

struct hv_built {
	xc_interface *xch;
	struct xc_dom_image *dom;
	const char *cache_out;
	bool decompressed;	/* the loader replaced the file's bytes */
	bool saved;		/* ... and they are in the cache already */
	/* PVH: what the builder reads while it builds (kept until release). */
	uint8_t acpi_rsdp[64], acpi_tables[4096];
	struct e820entry e820[4];
	void *firmware;			/* HVM: the BIOS file's bytes */
};

/* Fill err from libxenctrl's last error when it has one, else errno. */
static int hv_fail(xc_interface *xch, struct agent_err *err, int e,
		   const char *what)
{
	const xc_error *xe = xch ? xc_get_last_error(xch) : NULL;

	if (!e)
		e = EIO;
	if (xe && xe->code != XC_ERROR_NONE && xe->message[0]) {
		size_t n = strcspn(xe->message, "\n");

		return err_set(err, e, "%s: %.*s", what, (int)n, xe->message);
	}
	return err_sys(err, e, "%s", what);
}

int hv_open(struct hv **hv_r, struct agent_err *err)
{
	struct hv *hv = calloc(1, sizeof(*hv));

	if (!hv)
		return err_set(err, ENOMEM, "out of memory");
	hv->xch = xc_interface_open(NULL, NULL, 0);
	if (!hv->xch) {
		int e = errno;

		free(hv);
		return err_sys(err, e, "cannot open the hypervisor interface");
	}
	*hv_r = hv;
	return 0;
}

void hv_close(struct hv *hv)
{
	if (!hv)
		return;
	xc_interface_close(hv->xch);
	free(hv);
}

static void info_from(struct hv_dominfo *o, const xc_domaininfo_t *i)
{
	memset(o, 0, sizeof(*o));
	o->domid = i->domain;
	memcpy(o->handle, i->handle, 16);
	o->dying = i->flags & XEN_DOMINF_dying;
	o->shutdown = i->flags & XEN_DOMINF_shutdown;
	o->paused = i->flags & XEN_DOMINF_paused;
	o->hvm = i->flags & XEN_DOMINF_hvm_guest;
	o->shutdown_reason = (i->flags >> XEN_DOMINF_shutdownshift) &
			     XEN_DOMINF_shutdownmask;
	o->cpu_ns = i->cpu_time;
	o->mem_kb = (uint64_t)i->tot_pages * (XC_PAGE_SIZE / 1024);
	o->vcpus_online = i->nr_online_vcpus;
}

int hv_list(struct hv *hv, struct hv_dominfo **infos_r, unsigned *n_r,
	    struct agent_err *err)
{
	/* Domain ids are below DOMID_FIRST_RESERVED; one call lists them all. */
	enum { BATCH = 1024 };
	xc_domaininfo_t *raw = NULL;
	struct hv_dominfo *out = NULL;
	unsigned n = 0, first = 0;
	int rc, r;

	raw = malloc(BATCH * sizeof(*raw));
	if (!raw)
		return err_set(err, ENOMEM, "out of memory");
	for (;;) {
		struct hv_dominfo *grown;

		r = xc_domain_getinfolist(hv->xch, first, BATCH, raw);
		if (r < 0) {
			rc = hv_fail(hv->xch, err, errno, "list domains");
			goto out;
		}
		grown = realloc(out, (n + r + 1) * sizeof(*out));
		if (!grown) {
			rc = err_set(err, ENOMEM, "out of memory");
			goto out;
		}
		out = grown;
		for (int i = 0; i < r; i++)
			info_from(&out[n + i], &raw[i]);
		n += r;
		if (r < BATCH)
			break;
		first = raw[r - 1].domain + 1;
	}
	*infos_r = out;
	*n_r = n;
	out = NULL;
	rc = 0;
out:
	free(out);
	free(raw);
	return rc;
}

int hv_getinfo(struct hv *hv, unsigned domid, struct hv_dominfo *info,
	       struct agent_err *err)
{
	xc_domaininfo_t raw;
	int r;

	r = xc_domain_getinfolist(hv->xch, domid, 1, &raw);
	if (r < 0)
		return hv_fail(hv->xch, err, errno, "domain info");
	if (r == 0 || raw.domain != domid)
		return -ENOENT;
	info_from(info, &raw);
	return 0;
}

int hv_free_kb(struct hv *hv, uint64_t *kb_r, struct agent_err *err)
{
	xc_physinfo_t pi = { 0 };

	if (xc_physinfo(hv->xch, &pi) < 0)
		return hv_fail(hv->xch, err, errno, "physinfo");
	*kb_r = (uint64_t)pi.free_pages * (XC_PAGE_SIZE / 1024);
	return 0;
}

/* ---- PVH: an HVM container without a device model -------------------------
 *
 * What libxl (Xen 4.17) does for such a domain and the agent does too:
 *  - at creation (libxl__build_pre, libxl__arch_domain_create): the HVM
 *    params TIMER_MODE and ALTP2M, the TSC mode, the paging pool (HAP's p2m
 *    pages), then a CPUID policy (libxl__cpuid_legacy);
 *  - at build (libxl__build_hvm, libxl__build_dom): an HVM container with
 *    RAM from address 0 and an MMIO hole below 4 GiB wide enough for the
 *    ACPI tables, the local APIC and Xen's special pages; ACPI tables
 *    (libxl__dom_load_acpi) and an e820 map, given both to Xen and to the
 *    start info (libxl__arch_domain_finalise_hw_description).  The tables
 *    here are the agent's own, minimal ones (libacpi is not a public
 *    library): RSDP, XSDT, RSDT, a hardware-reduced FADT, an empty DSDT and
 *    a MADT with one local APIC per vCPU.  Linux 6.1 boots without them
 *    but cannot power off (seen in the bed: it printed its marker, ran
 *    /sbin/poweroff and stayed blocked); with them its vCPU halts and Xen
 *    ends the domain with reason poweroff. */

/* Guest-physical layout below 4 GiB (libxl_arch.h, xenguest.h). */
#define PVH_ACPI_BASE	 0xfc000000ULL
#define PVH_LAPIC_BASE	 0xfee00000ULL
#define PVH_SPECIAL_BASE ((uint64_t)(X86_HVM_END_SPECIAL_REGION -	\
				     X86_HVM_NR_SPECIAL_PAGES) << XC_PAGE_SHIFT)
#define PVH_MMIO_START	 PVH_ACPI_BASE	/* the lowest of the three */
#define PVH_4G		 (1ULL << 32)
/* Legacy place of the RSDP, for a Linux that cannot take it elsewhere: the
 * last 64 bytes of the BIOS area the ACPI spec has the OS scan. */
#define PVH_RSDP_LOW	 (0x100000ULL - 64)

/* What PVH and HVM domains share after the create: the timer mode, no
 * altp2m, the paging pool (pool_kb, which each type sizes as libxl does)
 * and the CPUID policy. */
static int hvm_container_setup(xc_interface *xch, unsigned domid,
			       uint64_t pool_kb, struct agent_err *err)
{
	int r;

	if (xc_hvm_param_set(xch, domid, HVM_PARAM_TIMER_MODE,
			     HVMPTM_no_delay_for_missed_ticks) < 0 ||
	    xc_hvm_param_set(xch, domid, HVM_PARAM_ALTP2M,
			     XEN_ALTP2M_disabled) < 0)
		return hv_fail(xch, err, errno, "set HVM params");
	if (xc_set_paging_mempool_size(xch, domid, pool_kb << 10) < 0)
		return hv_fail(xch, err, errno, "set paging pool size");
	/* The domain's default policy with the topology Xen gives HVM guests
	 * (APIC ID = 2 * vCPU), PAE on, no invariant TSC, no nested virt. */
	r = xc_cpuid_apply_policy(xch, domid, false, NULL, 0, true, false,
				  false, NULL, NULL);
	if (r < 0)
		return hv_fail(xch, err, -r, "apply CPUID policy");
	return 0;
}

static int pvh_create(xc_interface *xch, unsigned domid,
		      const struct hv_create_args *a, struct agent_err *err)
{
	/* libxl__get_required_paging_memory for HAP: 1 MiB per vCPU and one
	 * page per MiB of RAM for the p2m, in KiB. */
	uint64_t pool_kb = 4 * (256 * (uint64_t)a->vcpus + a->maxmem_kb / 1024);

	return hvm_container_setup(xch, domid, pool_kb, err);
}

/* ACPI tables, written byte by byte at the offsets of the ACPI 5.0 spec. */
static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t acpi_csum(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;

	while (n--)
		sum += *p++;
	return (uint8_t)-sum;
}

enum { ACPI_HDR_LEN = 36, ACPI_FADT_LEN = 268, ACPI_RSDP_LEN = 36 };

static void acpi_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put_le(t + 4, len, 4);
	t[8] = rev;
	memcpy(t + 10, "XSAGNT", 6);
	memcpy(t + 16, "XSAPVH  ", 8);
	put_le(t + 24, 1, 4);		/* OEM revision */
	memcpy(t + 28, "XSAG", 4);	/* creator */
	put_le(t + 32, 1, 4);
}

static void acpi_seal(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = acpi_csum(t, len);
}

/* Tables into tbl (at guest address tbl_gpa) and the RSDP into rsdp (at
 * rsdp_gpa); returns the tables' length. */
static size_t pvh_acpi_build(uint8_t *tbl, uint64_t tbl_gpa, uint8_t *rsdp,
			     unsigned vcpus)
{
	enum { XSDT = 0, RSDT = 64, FADT = 128, DSDT = 400, MADT = 448 };
	uint32_t madt_len = 44 + 8 * vcpus;

	memset(tbl, 0, MADT + madt_len);

	acpi_header(tbl + DSDT, "DSDT", ACPI_HDR_LEN, 2);	/* no AML */
	acpi_seal(tbl + DSDT, ACPI_HDR_LEN);

	{
		uint8_t *f = tbl + FADT;

		acpi_header(f, "FACP", ACPI_FADT_LEN, 5);
		put_le(f + 40, tbl_gpa + DSDT, 4);	/* DSDT */
		/* IA-PC boot flags: no VGA to probe, no CMOS RTC. */
		put_le(f + 109, (1u << 2) | (1u << 5), 2);
		/* WBINVD works; HW_REDUCED_ACPI: no PM1 blocks, no PM timer, no
		 * SCI, no FACS -- the domain has none of them. */
		put_le(f + 112, (1u << 0) | (1u << 20), 4);
		put_le(f + 140, tbl_gpa + DSDT, 8);	/* X_DSDT */
		acpi_seal(f, ACPI_FADT_LEN);
	}
	{
		uint8_t *m = tbl + MADT;

		acpi_header(m, "APIC", madt_len, 3);
		put_le(m + 36, PVH_LAPIC_BASE, 4);
		put_le(m + 40, 0, 4);	/* no PC-AT 8259 pair */
		for (unsigned i = 0; i < vcpus; i++) {
			uint8_t *e = m + 44 + 8 * i;

			e[0] = 0;		/* processor local APIC */
			e[1] = 8;
			e[2] = (uint8_t)i;	/* ACPI processor UID */
			e[3] = (uint8_t)(2 * i);	/* Xen: APIC ID = 2 * vCPU */
			put_le(e + 4, 1, 4);	/* enabled */
		}
		acpi_seal(m, madt_len);
	}
	acpi_header(tbl + XSDT, "XSDT", ACPI_HDR_LEN + 2 * 8, 1);
	put_le(tbl + XSDT + 36, tbl_gpa + FADT, 8);
	put_le(tbl + XSDT + 44, tbl_gpa + MADT, 8);
	acpi_seal(tbl + XSDT, ACPI_HDR_LEN + 2 * 8);
	acpi_header(tbl + RSDT, "RSDT", ACPI_HDR_LEN + 2 * 4, 1);
	put_le(tbl + RSDT + 36, tbl_gpa + FADT, 4);
	put_le(tbl + RSDT + 40, tbl_gpa + MADT, 4);
	acpi_seal(tbl + RSDT, ACPI_HDR_LEN + 2 * 4);

	memset(rsdp, 0, ACPI_RSDP_LEN);
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "XSAGNT", 6);
	rsdp[15] = 2;				/* ACPI 2.0+ */
	put_le(rsdp + 16, tbl_gpa + RSDT, 4);
	put_le(rsdp + 20, ACPI_RSDP_LEN, 4);
	put_le(rsdp + 24, tbl_gpa + XSDT, 8);
	rsdp[8] = acpi_csum(rsdp, 20);
	rsdp[32] = acpi_csum(rsdp, ACPI_RSDP_LEN);
	return MADT + madt_len;
}

/* What differs between guest types in the two steps every type shares:
 * the domain's creation and the build.  Each type is one of these and one
 * pair of small public entry points (hv_create_<type>, hv_build_<type>);
 * a new type adds a row, not branches. */
struct hv_kind {
	const char *name;
	uint32_t cdf_flags;		/* XEN_DOMCTL_CDF_*: the container */
	uint32_t emu_flags;		/* XEN_X86_EMU_*: what Xen emulates */
	bool set_tsc;			/* set the TSC mode, the default too */
	/* After the limits are set (HVM params, paging pool, CPUID). */
	int (*created)(xc_interface *xch, unsigned domid,
		       const struct hv_create_args *a, struct agent_err *err);
	int container;			/* XC_DOM_*_CONTAINER */
	/* Before the builder's init: the guest-physical memory map. */
	void (*layout)(struct xc_dom_image *dom, unsigned mem_mb);
	/* After guest memory is allocated: firmware tables, e820. */
	int (*hw)(struct xc_dom_image *dom, struct hv_built *b,
		  unsigned vcpus, struct agent_err *err);
	/* Once built, with the builder's mappings still there. */
	int (*finish)(struct xc_dom_image *dom, unsigned vcpus,
		      struct agent_err *err);
	/* Once built: what to let go of before the domain may run. */
	void (*let_go)(struct hv_built *b);
};

/* The domain's weight and cap (xend's _initDomain set them the same way,
 * from cpu_weight and cpu_cap).  Xen's defaults (256, no cap) are left to
 * Xen: no call, whatever the scheduler.  Both schedulers that have the two
 * take the same numbers; the pool a new domain is in runs Xen's default
 * scheduler (the agent moves no domain between pools). */
static int hv_sched_set(xc_interface *xch, unsigned domid,
			const struct hv_create_args *a, struct agent_err *err)
{
	int sched = -1;

	if (a->weight == HV_SCHED_WEIGHT_DEFAULT && !a->cap)
		return 0;
	if (xc_sched_id(xch, &sched) < 0)
		return hv_fail(xch, err, errno, "read the scheduler's id");
	if (sched == XEN_SCHEDULER_CREDIT) {
		struct xen_domctl_sched_credit p = {
			.weight = (uint16_t)a->weight, .cap = (uint16_t)a->cap,
		};

		if (xc_sched_credit_domain_set(xch, domid, &p) < 0)
			return hv_fail(xch, err, errno, "set cpu_weight and cap (credit)");
	} else if (sched == XEN_SCHEDULER_CREDIT2) {
		struct xen_domctl_sched_credit2 p = {
			.weight = (uint16_t)a->weight, .cap = (uint16_t)a->cap,
		};

		if (xc_sched_credit2_domain_set(xch, domid, &p) < 0)
			return hv_fail(xch, err, errno, "set cpu_weight and cap (credit2)");
	} else {
		return err_set(err, EOPNOTSUPP, "cpu_weight and cap need the credit or "
			       "credit2 scheduler; Xen runs scheduler %d", sched);
	}
	return 0;
}

static int hv_create_kind(struct hv *hv, const struct hv_kind *k,
			  const struct hv_create_args *a, unsigned *domid_r,
			  struct agent_err *err)
{
	struct xen_domctl_createdomain cfg = {
		.max_vcpus = a->vcpus,
		.max_evtchn_port = 1023,
		.max_grant_frames = 32,
		.max_maptrack_frames = 1024,
		.grant_opts = XEN_DOMCTL_GRANT_version(1),
	};
	uint32_t domid = 0;	/* 0: Xen picks the id */
	int rc;

	memcpy(cfg.handle, a->uuid, 16);
	cfg.flags = k->cdf_flags;
	if (a->passthrough) {
		struct agent_err ignore;
		bool iommu;

		if (hv_iommu(hv, &iommu, &ignore) == 0 && iommu)
			cfg.flags |= XEN_DOMCTL_CDF_iommu;
	}
	cfg.arch.emulation_flags = k->emu_flags;
	if (xc_domain_create(hv->xch, &domid, &cfg) < 0)
		return hv_fail(hv->xch, err, errno, "create domain");
	if (xc_domain_max_vcpus(hv->xch, domid, a->vcpus) < 0) {
		rc = hv_fail(hv->xch, err, errno, "set max vcpus");
		goto fail;
	}
	/* A little slack above the guest's RAM, as libxl gives, for the pages
	 * the builder itself adds (start info, rings). */
	if (xc_domain_setmaxmem(hv->xch, domid, a->maxmem_kb + 1024) < 0) {
		rc = hv_fail(hv->xch, err, errno, "set max memory");
		goto fail;
	}
	/* libxl sets the TSC mode of every domain, the default one included
	 * (libxl__arch_domain_create).  PVH needs it: Xen's own call at
	 * creation runs before the vCPUs exist, and this one recomputes vCPU
	 * 0's TSC offset (tsc_set_info, xen/arch/x86/time.c).  Without it 5
	 * starts of the test guest in 42 triple-faulted before their first
	 * console line; with it none in 82.  PV keeps the behaviour it had. */
	if ((a->tsc_mode || k->set_tsc) &&
	    xc_domain_set_tsc_info(hv->xch, domid, a->tsc_mode, 0, 0, 0) < 0) {
		rc = hv_fail(hv->xch, err, errno, "set TSC mode");
		goto fail;
	}
	if (a->rtc_offset &&
	    xc_domain_set_time_offset(hv->xch, domid, (int32_t)a->rtc_offset) < 0) {
		rc = hv_fail(hv->xch, err, errno, "set time offset");
		goto fail;
	}
	if ((rc = hv_sched_set(hv->xch, domid, a, err)) < 0)
		goto fail;
	if (k->created && (rc = k->created(hv->xch, domid, a, err)) < 0)
		goto fail;
	*domid_r = domid;
	return 0;
fail:
	xc_domain_destroy(hv->xch, domid);
	return rc;
}

int hv_evtchn_alloc(struct hv *hv, unsigned domid, unsigned *port_r,
		    struct agent_err *err)
{
	int port = xc_evtchn_alloc_unbound(hv->xch, domid, 0);

	if (port < 0)
		return hv_fail(hv->xch, err, errno, "allocate event channel");
	*port_r = (unsigned)port;
	return 0;
}

/* ---- PCI passthrough -------------------------------------------------------- */

int hv_iommu(struct hv *hv, bool *on_r, struct agent_err *err)
{
	xc_physinfo_t pi = { 0 };

	if (xc_physinfo(hv->xch, &pi) < 0)
		return hv_fail(hv->xch, err, errno, "physinfo");
	*on_r = !!(pi.capabilities & XEN_SYSCTL_PHYSCAP_directio);
	return 0;
}

int hv_pci_test_assign(struct hv *hv, unsigned domid, uint32_t sbdf,
		       struct agent_err *err)
{
	if (xc_test_assign_device(hv->xch, domid, sbdf) < 0)
		return err_sys(err, errno ? errno : EBUSY, "Xen cannot assign it");
	return 0;
}

int hv_pci_assign(struct hv *hv, unsigned domid, uint32_t sbdf, bool relaxed,
		  struct agent_err *err)
{
	if (xc_assign_device(hv->xch, domid, sbdf,
			     relaxed ? XEN_DOMCTL_DEV_RDM_RELAXED : 0) < 0)
		return hv_fail(hv->xch, err, errno, "assign device");
	return 0;
}

int hv_pci_deassign(struct hv *hv, unsigned domid, uint32_t sbdf,
		    struct agent_err *err)
{
	if (xc_deassign_device(hv->xch, domid, sbdf) < 0 && errno != ESRCH)
		return hv_fail(hv->xch, err, errno, "deassign device");
	return 0;
}

int hv_iomem_permit(struct hv *hv, unsigned domid, uint64_t first_mfn,
		    uint64_t nr, bool allow, struct agent_err *err)
{
	if (xc_domain_iomem_permission(hv->xch, domid, (unsigned long)first_mfn,
				       (unsigned long)nr, allow) < 0)
		return hv_fail(hv->xch, err, errno, "I/O memory permission");
	return 0;
}

int hv_ioport_permit(struct hv *hv, unsigned domid, unsigned first,
		     unsigned nr, bool allow, struct agent_err *err)
{
	if (xc_domain_ioport_permission(hv->xch, domid, first, nr, allow) < 0)
		return hv_fail(hv->xch, err, errno, "I/O port permission");
	return 0;
}

int hv_irq_grant(struct hv *hv, unsigned domid, unsigned irq, int *pirq_r,
		 struct agent_err *err)
{
	int pirq = (int)irq;

	/* libxl: map the GSI as a pirq of the guest (PV: same number asked
	 * for), then allow that pirq. */
	if (xc_physdev_map_pirq(hv->xch, domid, (int)irq, &pirq) < 0)
		return hv_fail(hv->xch, err, errno, "map interrupt");
	if (xc_domain_irq_permission(hv->xch, domid, (uint32_t)pirq, true) < 0) {
		int e = errno;

		xc_physdev_unmap_pirq(hv->xch, domid, pirq);
		return hv_fail(hv->xch, err, e, "interrupt permission");
	}
	*pirq_r = pirq;
	return 0;
}

void hv_irq_revoke(struct hv *hv, unsigned domid, int pirq)
{
	xc_domain_irq_permission(hv->xch, domid, (uint32_t)pirq, false);
	xc_physdev_unmap_pirq(hv->xch, domid, pirq);
}

int hv_unpause(struct hv *hv, unsigned domid, struct agent_err *err)
{
	if (xc_domain_unpause(hv->xch, domid) < 0)
		return hv_fail(hv->xch, err, errno, "unpause domain");
	return 0;
}

int hv_pause(struct hv *hv, unsigned domid, struct agent_err *err)
{
	if (xc_domain_pause(hv->xch, domid) < 0)
		return hv_fail(hv->xch, err, errno, "pause domain");
	return 0;
}

int hv_shutdown(struct hv *hv, unsigned domid, enum hv_shutdown reason,
		struct agent_err *err)
{
	/* enum hv_shutdown follows Xen's SHUTDOWN_* numbering. */
	if (xc_domain_shutdown(hv->xch, domid, (int)reason) < 0)
		return hv_fail(hv->xch, err, errno, "shut down domain");
	return 0;
}

int hv_destroy(struct hv *hv, unsigned domid, struct agent_err *err)
{
	if (xc_domain_destroy(hv->xch, domid) < 0 && errno != ESRCH)
		return hv_fail(hv->xch, err, errno, "destroy domain");
	return 0;
}

#define BUILD_STEP(call, what)                                         \
	do {                                                           \
		if ((call) != 0) {                                     \
			rc = hv_fail(xch, err, errno ? errno : EINVAL, \
				     what);                            \
			goto out;                                      \
		}                                                      \
	} while (0)

/* Before the builder sizes anything: the PVH memory layout libxl computes
 * for a domain without a device model (libxl__build_hvm). */
static void pvh_layout(struct xc_dom_image *dom, unsigned mem_mb)
{
	uint64_t mem = (uint64_t)mem_mb << 20;

	dom->target_pages = mem >> XC_PAGE_SHIFT;	/* all of it: no PoD */
	dom->mmio_start = PVH_MMIO_START;
	dom->mmio_size = PVH_4G - PVH_MMIO_START;
	dom->lowmem_end = mem < PVH_MMIO_START ? mem : PVH_MMIO_START;
	dom->highmem_end = mem > PVH_MMIO_START ?
			   PVH_4G + (mem - PVH_MMIO_START) : 0;
	dom->vga_hole_size = 0;
	dom->device_model = false;
}

/* After the RAM is populated and before the image is built: the ACPI
 * tables (loaded by xc_dom_build_image from dom->acpi_modules; module 0 is
 * the RSDP, whose address goes into the start info) and the e820 map, for
 * Xen (XENMEM_memory_map) and for the start info's memmap. */
static int pvh_hw(struct xc_dom_image *dom, struct hv_built *b,
		  unsigned vcpus, struct agent_err *err)
{
	/* Page 0 of the ACPI area: the RSDP; page 1: the tables. */
	uint64_t tbl_gpa = PVH_ACPI_BASE + XC_PAGE_SIZE, rsdp_gpa, acpi_start;
	size_t len;
	unsigned n = 0;

	if (vcpus > 128)	/* MADT local APIC entries hold 8-bit IDs */
		return err_set(err, EINVAL, "pvh: at most 128 vCPUs");
	/* Linux reads the RSDP from the start info if it says so in its ELF
	 * notes; others may only scan the BIOS area for it (libxl does the
	 * same test). */
	if (strcmp(xc_dom_guest_os(dom), "linux") ||
	    xc_dom_feature_get(dom, XENFEAT_linux_rsdp_unrestricted)) {
		rsdp_gpa = PVH_ACPI_BASE;
		acpi_start = PVH_ACPI_BASE;
	} else {
		rsdp_gpa = PVH_RSDP_LOW;
		acpi_start = tbl_gpa;
	}
	len = pvh_acpi_build(b->acpi_tables, tbl_gpa, b->acpi_rsdp, vcpus);
	dom->acpi_modules[0].data = b->acpi_rsdp;
	dom->acpi_modules[0].length = ACPI_RSDP_LEN;
	dom->acpi_modules[0].guest_addr_out = rsdp_gpa;
	dom->acpi_modules[1].data = b->acpi_tables;
	dom->acpi_modules[1].length = (uint32_t)len;
	dom->acpi_modules[1].guest_addr_out = tbl_gpa;

	b->e820[n++] = (struct e820entry){ 0, dom->lowmem_end, E820_RAM };
	b->e820[n++] = (struct e820entry){
		acpi_start, tbl_gpa + XC_PAGE_SIZE - acpi_start, E820_ACPI };
	b->e820[n++] = (struct e820entry){
		PVH_SPECIAL_BASE, (uint64_t)X86_HVM_NR_SPECIAL_PAGES << XC_PAGE_SHIFT,
		E820_RESERVED };
	if (dom->highmem_end)
		b->e820[n++] = (struct e820entry){
			PVH_4G, dom->highmem_end - PVH_4G, E820_RAM };
	if (xc_domain_set_memory_map(dom->xch, dom->guest_domid, b->e820, n) < 0)
		return hv_fail(dom->xch, err, errno, "set memory map");
	dom->e820 = b->e820;
	dom->e820_entries = n;
	return 0;
}

/* PVH: finish with the builder's memory before the caller can unpause the
 * domain, as libxl does (xc_dom_release at the end of libxl__build_hvm,
 * long before libxl_domain_unpause): write the decompressed kernel to the
 * cache now if it is to be kept, then release everything.  After the
 * unpause, as for PV, this work (a 60 MB file written, 128 MiB of foreign
 * mappings and the kernel's copies torn down: page-table updates and TLB
 * flushes in a PV dom0) ran during the guest's first second, where its
 * kernel calibrates the CPU clock against a PIT it does not have (150000
 * VM exits), and where PVH boots triple-faulted in the emulated bed.  This
 * removes the one difference from libxl found there; it did not stop
 * those faults (docs/reliability.md, "Triple faults in the bed").  A failed save
 * only costs the cache entry, as before. */
static void pvh_let_go(struct hv_built *b)
{
	struct agent_err e;

	if (b->cache_out && b->decompressed &&
	    kcache_prepare(b->cache_out) == 0 && hv_built_save_kernel(b, &e) == 1)
		b->saved = true;
	xc_dom_release(b->dom);
	b->dom = NULL;
}

/* The BIOS hvmloader hands control to, as libxl loads it
 * (libxl__load_hvm_firmware_module): the whole file, in memory, as the
 * builder's system firmware module. */
static int read_firmware(const char *path, struct hv_built *b,
			 struct xc_dom_image *dom, struct agent_err *err)
{
	FILE *f = fopen(path, "re");
	long len;
	int rc = 0;

	if (!f)
		return err_sys(err, errno, "firmware %s", path);
	if (fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0) {
		rc = err_sys(err, errno, "firmware %s", path);
		goto out;
	}
	if (len == 0 || len > (16L << 20)) {
		rc = err_set(err, EINVAL, "firmware %s: %s", path,
			     len ? "larger than 16 MiB" : "empty");
		goto out;
	}
	b->firmware = malloc((size_t)len);
	if (!b->firmware) {
		rc = err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	if (fread(b->firmware, 1, (size_t)len, f) != (size_t)len) {
		rc = err_sys(err, errno ? errno : EIO, "firmware %s", path);
		goto out;
	}
	dom->system_firmware_module.data = b->firmware;
	dom->system_firmware_module.length = (uint32_t)len;
out:
	fclose(f);
	return rc;
}

static int hv_build_kind(const struct hv_kind *k, const struct hv_build_args *a,
			 struct hv_build_result *res, struct hv_built **built_r,
			 struct agent_err *err)
{
	xc_interface *xch = NULL;
	struct xc_dom_image *dom = NULL;
	struct hv_built *b = NULL;
	int rc;

	xch = xc_interface_open(NULL, NULL, 0);
	if (!xch)
		return err_sys(err, errno, "open the hypervisor interface");
	b = calloc(1, sizeof(*b));
	if (!b) {
		rc = err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	dom = xc_dom_allocate(xch, a->cmdline, NULL);
	if (!dom) {
		rc = hv_fail(xch, err, errno ? errno : ENOMEM, "allocate builder");
		goto out;
	}
	dom->container_type = k->container;
	BUILD_STEP(xc_dom_kernel_file(dom, a->kernel), "load kernel");
	/* Xen 4.17 has no ramdisk call: the first module is the initrd. */
	if (a->ramdisk)
		BUILD_STEP(xc_dom_module_file(dom, a->ramdisk, NULL),
			   "load ramdisk");
	if (a->firmware && (rc = read_firmware(a->firmware, b, dom, err)) < 0)
		goto out;
	dom->flags = 0;
	dom->console_evtchn = a->console_port;
	dom->console_domid = 0;
	dom->xenstore_evtchn = a->store_port;
	dom->xenstore_domid = 0;
	dom->max_vcpus = a->vcpus;
	if (k->layout)
		k->layout(dom, a->mem_mb);
	BUILD_STEP(xc_dom_boot_xen_init(dom, xch, a->domid), "builder init");
	{
		/* The bzImage loader swaps the file's bytes for the decompressed
		 * ELF: that is what a later build can load directly. */
		const void *raw = dom->kernel_blob;

		BUILD_STEP(xc_dom_parse_image(dom), "parse kernel image");
		b->decompressed = dom->kernel_blob != raw && dom->kernel_size > 4 &&
				  !memcmp(dom->kernel_blob, "\x7f" "ELF", 4);
	}
	BUILD_STEP(xc_dom_mem_init(dom, a->mem_mb), "set up memory");
	BUILD_STEP(xc_dom_boot_mem_init(dom), "allocate guest memory");
	if (k->hw && (rc = k->hw(dom, b, a->vcpus, err)) < 0)
		goto out;
	BUILD_STEP(xc_dom_build_image(dom), "build image");
	BUILD_STEP(xc_dom_boot_image(dom), "boot image");
	/* Seeds the console and xenstore grant entries for dom0; xenstored
	 * maps the ring by grant and refuses the introduce without it. */
	BUILD_STEP(xc_dom_gnttab_init(dom), "grant table init");
	if (k->finish && (rc = k->finish(dom, a->vcpus, err)) < 0)
		goto out;
	/* What xenstore and the introduce want: the ring's frame as the guest
	 * names it -- the PFN in a translated (PVH) guest, the MFN in PV. */
	if (xc_dom_translated(dom)) {
		res->store_mfn = dom->xenstore_pfn;
		res->console_mfn = dom->console_pfn;
	} else {
		res->store_mfn = xc_dom_p2m(dom, dom->xenstore_pfn);
		res->console_mfn = xc_dom_p2m(dom, dom->console_pfn);
	}
	b->xch = xch;
	b->dom = dom;
	b->cache_out = a->kernel_cache_out;
	if (k->let_go)
		k->let_go(b);
	*built_r = b;
	return 0;
out:
	if (dom)
		xc_dom_release(dom);
	xc_interface_close(xch);
	if (b)
		free(b->firmware);
	free(b);
	return rc;
}

/* ---- HVM: an HVM container with a device model ----------------------------
 *
 * What libxl (Xen 4.17) does for an HVM guest with qemu-xen, and the agent
 * does too:
 *  - at creation (libxl__arch_domain_prepare_config): everything emulated
 *    but vPCI; then
 *    (hvm_set_conf_params, libxl__arch_domain_create) HPET on, VPT_ALIGN
 *    on, TIMER_MODE no_delay_for_missed_ticks, ALTP2M off, the paging pool
 *    (libxl_get_required_shadow_memory) and the CPUID policy;
 *  - at build (libxl__build_hvm, libxl__domain_firmware): hvmloader as the
 *    "kernel", SeaBIOS as the system firmware module, RAM from 0 with the
 *    MMIO hole of a guest with a device model (HVM_BELOW_4G_MMIO_LENGTH)
 *    and the VGA hole; the domain's memory map for Xen (XENMEM_memory_map:
 *    libxl__arch_domain_construct_memmap, RAM below the hole and above
 *    4 GiB), which hvmloader reads first and without which it stops at
 *    once (BUG, the domain shuts down with reason crash); libxenguest sets
 *    the special pages' HVM params (STORE_PFN, CONSOLE_PFN, IOREQ pfns,
 *    their event channels) and writes the hvm_info table;
 *  - after it (hvm_build_set_params): the hvm_info table's vCPU fields.
 * hvmloader builds the ACPI tables and the guest's e820 map itself. */

/* LIBXL_VGA_HOLE_SIZE: pages at 0xa0000 left out of the RAM. */
#define HVM_VGA_HOLE_PAGES 0x20

static int hvm_create(xc_interface *xch, unsigned domid,
		      const struct hv_create_args *a, struct agent_err *err)
{
	/* libxl_get_required_shadow_memory: 1 MiB per vCPU, two pages per
	 * MiB of RAM, in KiB. */
	uint64_t pool_kb = 4 * (256 * (uint64_t)a->vcpus + 2 * (a->maxmem_kb / 1024));

	/* viridian = yes: the enlightenments libxl enables for viridian=1
	 * (its "defaults" group, hvm_set_viridian_features): the base set with
	 * the frequency MSRs (no HVMPV_no_freq), the reference counter, APIC
	 * assist, the crash MSRs, no vCPU limit and CPU hotplug. */
	const uint64_t viridian = HVMPV_base_freq | HVMPV_time_ref_count |
		HVMPV_apic_assist | HVMPV_crash_ctl | HVMPV_no_vp_limit |
		HVMPV_cpu_hotplug;

	if (xc_hvm_param_set(xch, domid, HVM_PARAM_HPET_ENABLED, 1) < 0 ||
	    xc_hvm_param_set(xch, domid, HVM_PARAM_VPT_ALIGN, 1) < 0)
		return hv_fail(xch, err, errno, "set HVM params");
	if (a->viridian &&
	    xc_hvm_param_set(xch, domid, HVM_PARAM_VIRIDIAN, viridian) < 0)
		return hv_fail(xch, err, errno, "set HVM param VIRIDIAN");
	return hvm_container_setup(xch, domid, pool_kb, err);
}

static void hvm_layout(struct xc_dom_image *dom, unsigned mem_mb)
{
	uint64_t mem = (uint64_t)mem_mb << 20;
	uint64_t mmio_start = (1ULL << 32) - HVM_BELOW_4G_MMIO_LENGTH;

	dom->target_pages = mem >> XC_PAGE_SHIFT;	/* all of it: no PoD */
	dom->mmio_size = HVM_BELOW_4G_MMIO_LENGTH;
	dom->mmio_start = mmio_start;
	dom->lowmem_end = mem < mmio_start ? mem : mmio_start;
	dom->highmem_end = mem > mmio_start ? (1ULL << 32) + (mem - mmio_start) : 0;
	dom->vga_hole_size = HVM_VGA_HOLE_PAGES;
	dom->device_model = true;
}

/* After the RAM is populated: the memory map Xen gives the guest (what
 * hvmloader starts from), as libxl's for an HVM guest without reserved
 * device memory: the RAM below the MMIO hole, and above 4 GiB if any. */
static int hvm_hw(struct xc_dom_image *dom, struct hv_built *b,
		  unsigned vcpus, struct agent_err *err)
{
	unsigned n = 0;

	(void)vcpus;
	b->e820[n++] = (struct e820entry){ 0, dom->lowmem_end, E820_RAM };
	if (dom->highmem_end)
		b->e820[n++] = (struct e820entry){
			1ULL << 32, dom->highmem_end - (1ULL << 32), E820_RAM };
	if (xc_domain_set_memory_map(dom->xch, dom->guest_domid, b->e820, n) < 0)
		return hv_fail(dom->xch, err, errno, "set memory map");
	dom->e820 = b->e820;
	dom->e820_entries = n;
	return 0;
}

/* The hvm_info table libxenguest wrote: the vCPUs hvmloader brings up. */
static int hvm_info(struct xc_dom_image *dom, unsigned vcpus,
		    struct agent_err *err)
{
	struct hvm_info_table *t;
	uint8_t *page, sum = 0;

	if (vcpus > HVM_MAX_VCPUS)
		return err_set(err, EINVAL, "hvm: at most %d vCPUs", HVM_MAX_VCPUS);
	/* Through the builder's own mapping (released with it). */
	page = xc_dom_pfn_to_ptr(dom, HVM_INFO_PFN, 1);
	if (!page)
		return hv_fail(dom->xch, err, errno, "map the hvm_info table");
	t = (struct hvm_info_table *)(page + HVM_INFO_OFFSET);
	t->apic_mode = 1;
	t->nr_vcpus = vcpus;
	memset(t->vcpu_online, 0, sizeof(t->vcpu_online));
	for (unsigned i = 0; i < vcpus; i++)
		t->vcpu_online[i / 8] |= (uint8_t)(1u << (i % 8));
	for (uint32_t i = 0; i < t->length; i++)
		sum += ((uint8_t *)t)[i];
	t->checksum -= sum;
	return 0;
}

/* As PVH (and libxl): the builder's memory goes before the unpause.  No
 * kernel to cache: the device model loads the guest's. */
static void hvm_let_go(struct hv_built *b)
{
	xc_dom_release(b->dom);
	b->dom = NULL;
}

/* ---- the guest types ----------------------------------------------------- */

/* PV: the guest runs paravirtualised in its own container; nothing is
 * emulated, no firmware tables. */
static const struct hv_kind hv_pv = {
	.name = "pv",
	.container = XC_DOM_PV_CONTAINER,
};

/* PVH is an HVM container without a device model: HAP and the local APIC,
 * nothing else emulated (above: pvh_create, pvh_layout, pvh_hw,
 * pvh_let_go). */
static const struct hv_kind hv_pvh = {
	.name = "pvh",
	.cdf_flags = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap,
	.emu_flags = XEN_X86_EMU_LAPIC,
	.set_tsc = true,
	.created = pvh_create,
	.container = XC_DOM_HVM_CONTAINER,
	.layout = pvh_layout,
	.hw = pvh_hw,
	.let_go = pvh_let_go,
};

/* HVM: everything a device model needs emulated (above: hvm_create,
 * hvm_layout, hvm_hw, hvm_info, hvm_let_go). */
static const struct hv_kind hv_hvm = {
	.name = "hvm",
	.cdf_flags = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap,
	/* Xen 4.17 takes exactly this for an HVM domU (emulation_flags_ok);
	 * USE_PIRQ became optional only later (4.19). */
	.emu_flags = XEN_X86_EMU_ALL & ~XEN_X86_EMU_VPCI,
	.set_tsc = true,
	.created = hvm_create,
	.container = XC_DOM_HVM_CONTAINER,
	.layout = hvm_layout,
	.hw = hvm_hw,
	.finish = hvm_info,
	.let_go = hvm_let_go,
};

int hv_create_pv(struct hv *hv, const struct hv_create_args *a,
		 unsigned *domid_r, struct agent_err *err)
{
	return hv_create_kind(hv, &hv_pv, a, domid_r, err);
}

int hv_build_pv(const struct hv_build_args *a, struct hv_build_result *res,
		struct hv_built **built_r, struct agent_err *err)
{
	return hv_build_kind(&hv_pv, a, res, built_r, err);
}

int hv_create_pvh(struct hv *hv, const struct hv_create_args *a,
		  unsigned *domid_r, struct agent_err *err)
{
	return hv_create_kind(hv, &hv_pvh, a, domid_r, err);
}

int hv_build_pvh(const struct hv_build_args *a, struct hv_build_result *res,
		 struct hv_built **built_r, struct agent_err *err)
{
	return hv_build_kind(&hv_pvh, a, res, built_r, err);
}

int hv_create_hvm(struct hv *hv, const struct hv_create_args *a,
		  unsigned *domid_r, struct agent_err *err)
{
	return hv_create_kind(hv, &hv_hvm, a, domid_r, err);
}

int hv_build_hvm(const struct hv_build_args *a, struct hv_build_result *res,
		 struct hv_built **built_r, struct agent_err *err)
{
	return hv_build_kind(&hv_hvm, a, res, built_r, err);
}

int hv_built_save_kernel(struct hv_built *b, struct agent_err *err)
{
	char tmp[1100];
	FILE *f;
	int rc = 0;

	if (b && b->saved)
		return 1;
	if (!b || !b->dom || !b->cache_out || !b->decompressed)
		return 0;
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", b->cache_out, (int)getpid());
	f = fopen(tmp, "we");
	if (!f)
		return err_sys(err, errno, "kernel cache %s", tmp);
	if (fwrite(b->dom->kernel_blob, 1, b->dom->kernel_size, f) !=
	    b->dom->kernel_size)
		rc = err_sys(err, errno ? errno : EIO, "kernel cache %s", tmp);
	if (fclose(f) != 0 && !rc)
		rc = err_sys(err, errno, "kernel cache %s", tmp);
	if (!rc && rename(tmp, b->cache_out) < 0)
		rc = err_sys(err, errno, "kernel cache %s", b->cache_out);
	if (rc)
		unlink(tmp);
	return rc ? rc : 1;
}

void hv_built_release(struct hv_built *b)
{
	if (!b)
		return;
	if (b->dom)
		xc_dom_release(b->dom);
	xc_interface_close(b->xch);
	free(b->firmware);
	free(b);
}
