/* A test double of the hypervisor layer (agent/hv.h) for the host test of
 * the agent's core (test_agent.c): no Xen runs on the test host.
 *
 * A list of fake domains: dom0 always, and those hv_create_pv/_pvh made, with
 * domids from 1 up (never reused, as Xen's), the handle (the VM's UUID),
 * paused on creation; hv_destroy removes a domain at once; hv_list and
 * hv_getinfo report them with the shutdown and dying flags the test sets.
 * Free memory is a number the test sets.  hv_build_pv/_pvh run in the builder
 * child the agent forks (start.c): it only reads what was set before the
 * fork (a delay and a failure per domid) and returns a fake result. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hv.h"

#define FH_MAX_DOMS 64

#include "fake.h"	/* the test-side helpers */

const char *const hv_shutdown_names[] = {
	[HV_SD_POWEROFF] = "poweroff", [HV_SD_REBOOT] = "reboot",
	[HV_SD_SUSPEND] = "suspend", [HV_SD_CRASH] = "crash",
	[HV_SD_WATCHDOG] = "watchdog", [HV_SD_SOFT_RESET] = "soft_reset",
};

struct hv {
	int unused;
};

struct fdom {
	struct hv_dominfo info;
	unsigned next_port;
	unsigned weight, cap;	/* the scheduler's, as created */
};

struct fbuild {
	unsigned domid;
	unsigned delay_ms;
	char fail[200];		/* "" : succeed */
};

static struct fdom fh_doms[FH_MAX_DOMS];
static unsigned fh_ndoms;
static unsigned fh_next_domid = 1;
static uint64_t fh_free_kb = 8ULL << 20;	/* 8 GiB */
static unsigned fh_created, fh_destroyed, fh_handles;
static struct fbuild fh_builds[16];
static unsigned fh_nbuilds;

static struct fdom *dom_find(unsigned domid)
{
	for (unsigned i = 0; i < fh_ndoms; i++)
		if (fh_doms[i].info.domid == domid)
			return &fh_doms[i];
	return NULL;
}

static void dom0_ensure(void)
{
	if (dom_find(0))
		return;
	memmove(&fh_doms[1], &fh_doms[0], fh_ndoms * sizeof(fh_doms[0]));
	memset(&fh_doms[0], 0, sizeof(fh_doms[0]));
	fh_doms[0].info.mem_kb = 1 << 20;
	fh_doms[0].info.vcpus_online = 1;
	fh_ndoms++;
}

int hv_open(struct hv **hv_r, struct agent_err *err)
{
	struct hv *hv = calloc(1, sizeof(*hv));

	if (!hv)
		return err_set(err, ENOMEM, "out of memory");
	dom0_ensure();
	fh_handles++;
	*hv_r = hv;
	return 0;
}

void hv_close(struct hv *hv)
{
	if (!hv)
		return;
	fh_handles--;
	free(hv);
}

int hv_list(struct hv *hv, struct hv_dominfo **infos_r, unsigned *n_r,
	    struct agent_err *err)
{
	struct hv_dominfo *v = calloc(fh_ndoms + 1, sizeof(*v));

	(void)hv;
	if (!v)
		return err_set(err, ENOMEM, "out of memory");
	for (unsigned i = 0; i < fh_ndoms; i++)
		v[i] = fh_doms[i].info;
	*infos_r = v;
	*n_r = fh_ndoms;
	return 0;
}

int hv_getinfo(struct hv *hv, unsigned domid, struct hv_dominfo *info,
	       struct agent_err *err)
{
	struct fdom *d = dom_find(domid);

	(void)hv;
	if (!d) {
		err_set(err, ENOENT, "domain %u does not exist", domid);
		return -ENOENT;
	}
	*info = d->info;
	return 0;
}

int hv_free_kb(struct hv *hv, uint64_t *kb_r, struct agent_err *err)
{
	(void)hv;
	(void)err;
	*kb_r = fh_free_kb;
	return 0;
}

static int fh_create(struct hv *hv, const struct hv_create_args *a, bool hvm,
		     unsigned *domid_r, struct agent_err *err)
{
	struct fdom *d;

	(void)hv;
	if (fh_ndoms == FH_MAX_DOMS)
		return err_set(err, ENOSPC, "create domain: fake: too many domains");
	if (a->maxmem_kb > fh_free_kb)
		return err_set(err, ENOMEM, "create domain: out of memory");
	d = &fh_doms[fh_ndoms++];
	memset(d, 0, sizeof(*d));
	d->info.domid = fh_next_domid++;
	memcpy(d->info.handle, a->uuid, 16);
	d->info.paused = true;
	d->info.hvm = hvm;
	d->info.mem_kb = a->maxmem_kb;
	d->info.vcpus_online = a->vcpus;
	d->next_port = 1;
	d->weight = a->weight;
	d->cap = a->cap;
	fh_free_kb -= a->maxmem_kb;
	fh_created++;
	*domid_r = d->info.domid;
	return 0;
}

int hv_evtchn_alloc(struct hv *hv, unsigned domid, unsigned *port_r,
		    struct agent_err *err)
{
	struct fdom *d = dom_find(domid);

	(void)hv;
	if (!d)
		return err_set(err, ESRCH, "event channel for domain %u: no such "
			       "domain", domid);
	*port_r = d->next_port++;
	return 0;
}

static int set_paused(unsigned domid, bool paused, struct agent_err *err)
{
	struct fdom *d = dom_find(domid);

	if (!d || !domid)
		return err_set(err, ESRCH, "%s domain %u: no such domain",
			       paused ? "pause" : "unpause", domid);
	d->info.paused = paused;
	return 0;
}

/* The domain shuts down with that reason, as if it had itself. */
int hv_shutdown(struct hv *hv, unsigned domid, enum hv_shutdown reason,
		struct agent_err *err)
{
	struct fdom *d = dom_find(domid);

	(void)hv;
	if (!d || !domid)
		return err_set(err, ESRCH, "shut down domain %u: no such domain",
			       domid);
	d->info.shutdown = true;
	d->info.shutdown_reason = reason;
	return 0;
}

int hv_unpause(struct hv *hv, unsigned domid, struct agent_err *err)
{
	(void)hv;
	return set_paused(domid, false, err);
}

int hv_pause(struct hv *hv, unsigned domid, struct agent_err *err)
{
	(void)hv;
	return set_paused(domid, true, err);
}

int hv_destroy(struct hv *hv, unsigned domid, struct agent_err *err)
{
	struct fdom *d = dom_find(domid);

	(void)hv;
	if (!domid)
		return err_set(err, EPERM, "destroy domain 0");
	if (!d)
		return 0;	/* gone already: not an error */
	fh_free_kb += d->info.mem_kb;
	*d = fh_doms[--fh_ndoms];
	fh_destroyed++;
	return 0;
}

/* Runs in the builder child: reads only what the parent set before the
 * fork, allocates nothing. */
static int fh_build(const struct hv_build_args *a, struct hv_build_result *res,
		    struct hv_built **built_r, struct agent_err *err)
{
	const struct fbuild *b = NULL;

	*built_r = NULL;
	for (unsigned i = 0; i < fh_nbuilds; i++)
		if (fh_builds[i].domid == a->domid)
			b = &fh_builds[i];
	if (b && b->delay_ms) {
		struct timespec ts = { b->delay_ms / 1000,
				       (long)(b->delay_ms % 1000) * 1000000 };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	if (b && b->fail[0])
		return err_set(err, EINVAL, "%s", b->fail);
	res->store_mfn = 0x10000 + a->domid;
	res->console_mfn = 0x20000 + a->domid;
	return 0;
}

/* The per-type entry points of hv.h: the fake has one domain model. */
int hv_create_pv(struct hv *hv, const struct hv_create_args *a,
		 unsigned *domid_r, struct agent_err *err)
{
	return fh_create(hv, a, false, domid_r, err);
}

int hv_create_pvh(struct hv *hv, const struct hv_create_args *a,
		  unsigned *domid_r, struct agent_err *err)
{
	return fh_create(hv, a, true, domid_r, err);
}

int hv_create_hvm(struct hv *hv, const struct hv_create_args *a,
		  unsigned *domid_r, struct agent_err *err)
{
	return fh_create(hv, a, true, domid_r, err);
}

int hv_build_hvm(const struct hv_build_args *a, struct hv_build_result *res,
		 struct hv_built **built_r, struct agent_err *err)
{
	return fh_build(a, res, built_r, err);
}

int hv_build_pv(const struct hv_build_args *a, struct hv_build_result *res,
		struct hv_built **built_r, struct agent_err *err)
{
	return fh_build(a, res, built_r, err);
}

int hv_build_pvh(const struct hv_build_args *a, struct hv_build_result *res,
		 struct hv_built **built_r, struct agent_err *err)
{
	return fh_build(a, res, built_r, err);
}

void hv_built_release(struct hv_built *b)
{
	(void)b;
}

int hv_built_save_kernel(struct hv_built *b, struct agent_err *err)
{
	(void)b;
	(void)err;
	return 0;
}

/* ---- the test's side ------------------------------------------------------- */

void fake_hv_reset(void)
{
	fh_ndoms = 0;
	fh_next_domid = 1;
	fh_free_kb = 8ULL << 20;
	fh_created = fh_destroyed = 0;
	fh_nbuilds = 0;
}

void fake_hv_set_free_kb(uint64_t kb)
{
	fh_free_kb = kb;
}

/* The build of domain domid takes delay_ms and, with fail, fails with that
 * message.  Set before the start forks its builder. */
void fake_hv_set_build(unsigned domid, unsigned delay_ms, const char *fail)
{
	struct fbuild *b = NULL;

	for (unsigned i = 0; i < fh_nbuilds; i++)
		if (fh_builds[i].domid == domid)
			b = &fh_builds[i];
	if (!b) {
		if (fh_nbuilds == sizeof(fh_builds) / sizeof(fh_builds[0]))
			abort();
		b = &fh_builds[fh_nbuilds++];
	}
	b->domid = domid;
	b->delay_ms = delay_ms;
	snprintf(b->fail, sizeof(b->fail), "%s", fail ? fail : "");
}

/* The guest shut down with reason (enum hv_shutdown): 0, or -ENOENT. */
int fake_hv_shutdown(unsigned domid, unsigned reason)
{
	struct fdom *d = dom_find(domid);

	if (!d)
		return -ENOENT;
	d->info.shutdown = true;
	d->info.shutdown_reason = reason;
	return 0;
}

int fake_hv_set_dying(unsigned domid)
{
	struct fdom *d = dom_find(domid);

	if (!d)
		return -ENOENT;
	d->info.dying = true;
	return 0;
}

/* 1 with *info filled when the domain exists, else 0. */
int fake_hv_get(unsigned domid, struct hv_dominfo *info)
{
	struct fdom *d = dom_find(domid);

	if (d && info)
		*info = d->info;
	return d != NULL;
}

/* The weight and cap the domain was created with: 1, or 0 (no such domain). */
int fake_hv_sched(unsigned domid, unsigned *weight_r, unsigned *cap_r)
{
	struct fdom *d = dom_find(domid);

	if (d) {
		*weight_r = d->weight;
		*cap_r = d->cap;
	}
	return d != NULL;
}

/* Domains besides dom0. */
unsigned fake_hv_ndomains(void)
{
	return fh_ndoms - (dom_find(0) != NULL);
}

unsigned fake_hv_ncreated(void)
{
	return fh_created;
}

unsigned fake_hv_ndestroyed(void)
{
	return fh_destroyed;
}

unsigned fake_hv_open_handles(void)
{
	return fh_handles;
}

/* PCI passthrough: an IOMMU (off with fake_hv_pci(false, ...)), one
 * device that may be "held" by a foreign domain, an assignment that may be
 * made to fail; the grants and assignments live are counted, so that a
 * test sees every undo. */
static bool fh_iommu = true;
static uint32_t fh_busy_sbdf = UINT32_MAX, fh_fail_assign = UINT32_MAX;
static int fh_pci_live;	/* assignments + grants not undone */
static unsigned fh_pci_assigned;

void fake_hv_pci(bool iommu, uint32_t busy_sbdf, uint32_t fail_assign_sbdf)
{
	fh_iommu = iommu;
	fh_busy_sbdf = busy_sbdf;
	fh_fail_assign = fail_assign_sbdf;
}

int fake_hv_pci_live(void)
{
	return fh_pci_live;
}

unsigned fake_hv_pci_assigned(void)
{
	return fh_pci_assigned;
}

int hv_iommu(struct hv *hv, bool *on_r, struct agent_err *err)
{
	(void)hv, (void)err;
	*on_r = fh_iommu;
	return 0;
}

int hv_pci_test_assign(struct hv *hv, unsigned domid, uint32_t sbdf,
		       struct agent_err *err)
{
	(void)hv, (void)domid;
	if (sbdf == fh_busy_sbdf)
		return err_sys(err, EINVAL, "Xen cannot assign it");
	return 0;
}

int hv_pci_assign(struct hv *hv, unsigned domid, uint32_t sbdf, bool relaxed,
		  struct agent_err *err)
{
	(void)hv, (void)domid, (void)relaxed;
	if (sbdf == fh_fail_assign)
		return err_set(err, EIO, "assign device: fake failure");
	fh_pci_live++;
	fh_pci_assigned++;
	return 0;
}

int hv_pci_deassign(struct hv *hv, unsigned domid, uint32_t sbdf,
		    struct agent_err *err)
{
	(void)hv, (void)domid, (void)sbdf, (void)err;
	fh_pci_live--;
	return 0;
}

int hv_iomem_permit(struct hv *hv, unsigned domid, uint64_t first_mfn,
		    uint64_t nr, bool allow, struct agent_err *err)
{
	(void)hv, (void)domid, (void)first_mfn, (void)nr, (void)err;
	fh_pci_live += allow ? 1 : -1;
	return 0;
}

int hv_ioport_permit(struct hv *hv, unsigned domid, unsigned first,
		     unsigned nr, bool allow, struct agent_err *err)
{
	(void)hv, (void)domid, (void)first, (void)nr, (void)err;
	fh_pci_live += allow ? 1 : -1;
	return 0;
}

int hv_irq_grant(struct hv *hv, unsigned domid, unsigned irq, int *pirq_r,
		 struct agent_err *err)
{
	(void)hv, (void)domid, (void)err;
	*pirq_r = (int)irq;
	fh_pci_live++;
	return 0;
}

void hv_irq_revoke(struct hv *hv, unsigned domid, int pirq)
{
	(void)hv, (void)domid, (void)pirq;
	fh_pci_live--;
}
