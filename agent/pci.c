#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pci.h"

#define PCI_TX_TRIES 8

const char *pci_sysfs = "/sys/bus/pci";
#define IORESOURCE_IO 0x100	/* linux/ioport.h: the BAR is I/O ports */

/* ---- sysfs ------------------------------------------------------------------ */

static void dev_path(char *out, size_t n, const char *bdf, const char *file)
{
	snprintf(out, n, "%s/devices/%s%s%s", pci_sysfs, bdf, *file ? "/" : "", file);
}

/* Write s to a sysfs file: 0 or -errno. */
static int sys_write(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int e;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	e = n < 0 ? errno : n == (ssize_t)strlen(s) ? 0 : EIO;
	close(fd);
	return -e;
}

/* The driver the device is bound to ("" when none); -ENOENT when there is
 * no such device. */
static int driver_of(const char *bdf, char *out, size_t n)
{
	char p[256], link[512];
	ssize_t len;

	*out = '\0';
	dev_path(p, sizeof(p), bdf, "");
	if (access(p, F_OK) < 0)
		return -errno;
	dev_path(p, sizeof(p), bdf, "driver");
	len = readlink(p, link, sizeof(link) - 1);
	if (len < 0)
		return errno == ENOENT ? 0 : -errno;
	link[len] = '\0';
	snprintf(out, n, "%s", strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
	return 0;
}

/* Hand the device to pciback as `xl pci-assignable-add` does: unbind it
 * from its driver, add its slot to pciback's table, bind it. */
static int seize(struct pci_dev *d, const char *drv, struct agent_err *err)
{
	char p[256];
	int rc;

	snprintf(p, sizeof(p), "%s/drivers/pciback", pci_sysfs);
	if (access(p, F_OK) < 0)
		return err_set(err, ENODEV, "%s: xen-pciback is not loaded in dom0", d->bdf);
	if (*drv) {
		dev_path(p, sizeof(p), d->bdf, "driver/unbind");
		if ((rc = sys_write(p, d->bdf)) < 0)
			return err_sys(err, -rc, "%s: unbind from %s", d->bdf, drv);
	}
	snprintf(p, sizeof(p), "%s/drivers/pciback/new_slot", pci_sysfs);
	/* EEXIST-like failures: the slot may be in pciback's table already. */
	sys_write(p, d->bdf);
	snprintf(p, sizeof(p), "%s/drivers/pciback/bind", pci_sysfs);
	if ((rc = sys_write(p, d->bdf)) < 0)
		return err_sys(err, -rc, "%s: bind to pciback", d->bdf);
	log_info("%s: given to pciback (seize = yes; was %s)", d->bdf,
		 *drv ? drv : "bound to no driver");
	d->seized = true;
	return 0;
}

/* BARs (the first 7 lines of resource: 6 BARs and the ROM) and irq. */
static int read_resources(struct pci_dev *d, struct agent_err *err)
{
	unsigned long long start, end, flags;
	char p[256], line[256];
	FILE *f;

	dev_path(p, sizeof(p), d->bdf, "resource");
	if (!(f = fopen(p, "re")))
		return err_sys(err, errno, "%s: %s", d->bdf, p);
	d->nbars = 0;
	for (int i = 0; i < 7 && fgets(line, sizeof(line), f); i++) {
		if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) != 3 ||
		    !start || end < start || d->nbars >= 6)
			continue;
		d->bars[d->nbars].start = start;
		d->bars[d->nbars].size = end - start + 1;
		d->bars[d->nbars].io = flags & IORESOURCE_IO;
		d->nbars++;
	}
	fclose(f);
	dev_path(p, sizeof(p), d->bdf, "irq");
	d->irq = 0;
	if ((f = fopen(p, "re"))) {
		if (fscanf(f, "%u", &d->irq) != 1)
			d->irq = 0;
		fclose(f);
	}
	return 0;
}

/* Reset the device where the kernel can (a reset method: FLR, PM, bus);
 * pciback also resets it when the backend lets go of it. */
static void reset(const char *bdf)
{
	char p[256];
	int rc;

	dev_path(p, sizeof(p), bdf, "reset");
	if (access(p, F_OK) < 0) {
		log_debug("%s: the kernel has no reset for it (no %s)", bdf, p);
		return;
	}
	if ((rc = sys_write(p, "1")) < 0)
		log_warn("%s: reset: %s", bdf, strerror(-rc));
}

/* ---- plan ---------------------------------------------------------------------- */

/* A PV guest's devices: pciback's backend and pcifront's frontend.  An HVM
 * guest's: the device model's, with no nodes for pciback (which would take
 * the device from qemu, as libxl learnt); be is then only the agent's
 * record of them, in dom0's own tree. */
static void set_paths(struct pci_set *set)
{
	if (set->hvm) {
		set->fe[0] = '\0';
		snprintf(set->be, sizeof(set->be), PCI_HVM_RECORD "/%u", set->domid);
		return;
	}
	snprintf(set->fe, sizeof(set->fe), "/local/domain/%u/device/pci/0", set->domid);
	snprintf(set->be, sizeof(set->be), "/local/domain/0/backend/pci/%u/0", set->domid);
}

static struct pci_set *plan(const struct vm *vm, unsigned domid)
{
	struct pci_set *set;

	if (!vm->pci_mask)
		return NULL;
	set = calloc(1, sizeof(*set));
	if (!set)
		return NULL;
	set->domid = domid;
	set->hvm = vm->conf.type == VM_TYPE_HVM;
	snprintf(set->name, sizeof(set->name), "%s", vm->name);
	set_paths(set);
	for (int i = 0; i < VM_MAX_DEVS; i++) {
		const struct pci_conf *c = &vm->pci[i];
		struct pci_dev *d;
		unsigned dom, bus, dv, fn;

		if (!(vm->pci_mask & 1u << i) || !c->bdf ||
		    sscanf(c->bdf, "%4x:%2x:%2x.%1x", &dom, &bus, &dv, &fn) != 4)
			continue;
		d = &set->dev[set->n++];
		snprintf(d->bdf, sizeof(d->bdf), "%s", c->bdf);
		d->sbdf = dom << 16 | bus << 8 | dv << 3 | fn;
		d->index = i;
		d->seize = c->seize;
		d->permissive = c->permissive;
		d->msitranslate = c->msitranslate;
		d->relaxed = c->rdm_policy == 1;
		d->pirq = -1;
	}
	return set;
}

int pci_plan(const struct vm *vm, unsigned domid, struct pci_set **set_r,
	     struct agent_err *err)
{
	*set_r = plan(vm, domid);
	if (vm->pci_mask && !*set_r)
		return err_set(err, ENOMEM, "out of memory");
	return 0;
}

bool pci_set_has(const struct pci_set *set, const char *bdf)
{
	for (unsigned i = 0; set && i < set->n; i++)
		if (!strcmp(set->dev[i].bdf, bdf))
			return true;
	return false;
}

/* The BDFs a domain's record names: dir/num_devs and dir/dev-N, where dir
 * is backend/pci/D/0 (PV) or the HVM record (dom0's nodes, but a crash may
 * have cut them: each is checked), at most max. */
static unsigned record_bdfs(struct store *s, unsigned domid, bool hvm,
			    char bdfs[][13], unsigned max)
{
	struct pci_set where = { .domid = domid, .hvm = hvm };
	char p[160], v[32];
	unsigned n, k = 0;

	set_paths(&where);
	snprintf(p, sizeof(p), "%s/num_devs", where.be);
	store_read_str(s, STORE_NOTX, p, v, sizeof(v));
	n = (unsigned)atoi(v);
	for (unsigned i = 0; i < n && i < max; i++) {
		snprintf(p, sizeof(p), "%s/dev-%u", where.be, i);
		store_read_str(s, STORE_NOTX, p, v, sizeof(v));
		if (conf_parse_bdf(v, bdfs[k]) == 0)
			k++;
	}
	return k;
}

struct pci_set *pci_recover(struct store *s, const struct vm *vm, unsigned domid)
{
	char bdfs[VM_MAX_DEVS][13];
	bool hvm = vm->conf.type == VM_TYPE_HVM;
	unsigned n = record_bdfs(s, domid, hvm, bdfs, VM_MAX_DEVS);
	struct pci_set *set;

	if (!n || !(set = calloc(1, sizeof(*set))))
		return NULL;
	set->domid = domid;
	set->hvm = hvm;
	snprintf(set->name, sizeof(set->name), "%s", vm->name);
	set_paths(set);
	set->written = true;
	/* As attached: the teardown deassigns and revokes what it can (the
	 * pirq is the irq: a PV guest gets the same number). */
	for (unsigned i = 0; i < n; i++) {
		struct pci_dev *d = &set->dev[set->n++];
		unsigned dom, bus, dv, fn;
		struct agent_err err;

		snprintf(d->bdf, sizeof(d->bdf), "%s", bdfs[i]);
		sscanf(d->bdf, "%4x:%2x:%2x.%1x", &dom, &bus, &dv, &fn);
		d->sbdf = dom << 16 | bus << 8 | dv << 3 | fn;
		d->index = (int)i;
		d->pirq = -1;
		d->assigned = true;
		if (read_resources(d, &err) == 0) {
			d->bars_granted = d->nbars;
			d->irq_granted = d->irq != 0;
			d->pirq = (int)d->irq;
		}
	}
	return set;
}

/* ---- nodes ---------------------------------------------------------------------- */

/* path made (if missing) with perm, n entries: owner first. */
static int mkdir_perm(struct store *s, store_tx tx, const char *path,
		      const struct store_perm *perm, unsigned n, struct agent_err *err)
{
	int rc;

	if ((rc = store_mkdir(s, tx, path, err)) < 0)
		return rc;
	return store_set_perms(s, tx, path, perm, n, err);
}

#define PUT(dir, key, ...) do { \
		snprintf(p, sizeof(p), "%s/%s", dir, key); \
		if ((rc = store_writef(s, tx, p, err, __VA_ARGS__)) < 0) \
			return rc; \
	} while (0)

/* An HVM guest's record: its BDFs, readable by dom0 alone. */
static int write_hvm_tx(struct store *s, store_tx tx, const struct pci_set *set,
			struct agent_err *err)
{
	const struct store_perm perm[] = { { 0, 'n' } };
	char p[200];
	int rc;

	if ((rc = store_rm(s, tx, set->be, err)) < 0 ||
	    (rc = mkdir_perm(s, tx, set->be, perm, 1, err)) < 0)
		return rc;
	for (unsigned i = 0; i < set->n; i++) {
		char key[16];

		snprintf(key, sizeof(key), "dev-%u", i);
		PUT(set->be, key, "%s", set->dev[i].bdf);
	}
	PUT(set->be, "num_devs", "%u", set->n);
	return 0;
}

static int write_tx(struct store *s, store_tx tx, const struct pci_set *set,
		    struct agent_err *err)
{
	const struct store_perm fe_perm[] = { { set->domid, 'n' }, { 0, 'r' } };
	const struct store_perm be_perm[] = { { 0, 'n' }, { set->domid, 'r' } };
	char p[200], parent[128];
	int rc;

	if (set->hvm)
		return write_hvm_tx(s, tx, set, err);
	/* What an earlier domain of this domid may have left. */
	if ((rc = store_rm(s, tx, set->be, err)) < 0)
		return rc;
	snprintf(parent, sizeof(parent), "/local/domain/%u/device/pci", set->domid);
	if ((rc = mkdir_perm(s, tx, parent, fe_perm, 2, err)) < 0 ||
	    (rc = mkdir_perm(s, tx, set->fe, fe_perm, 2, err)) < 0)
		return rc;
	snprintf(parent, sizeof(parent), "/local/domain/0/backend/pci/%u", set->domid);
	if ((rc = mkdir_perm(s, tx, parent, be_perm, 2, err)) < 0 ||
	    (rc = mkdir_perm(s, tx, set->be, be_perm, 2, err)) < 0)
		return rc;
	PUT(set->fe, "backend", "%s", set->be);
	PUT(set->fe, "backend-id", "0");
	PUT(set->fe, "state", "1");
	PUT(set->be, "frontend", "%s", set->fe);
	PUT(set->be, "frontend-id", "%u", set->domid);
	PUT(set->be, "online", "1");
	PUT(set->be, "domain", "%s", set->name);
	for (unsigned i = 0; i < set->n; i++) {
		const struct pci_dev *d = &set->dev[i];
		char key[16];

		snprintf(key, sizeof(key), "key-%u", i);
		PUT(set->be, key, "%s", d->bdf);
		snprintf(key, sizeof(key), "dev-%u", i);
		PUT(set->be, key, "%s", d->bdf);
		snprintf(key, sizeof(key), "opts-%u", i);
		PUT(set->be, key, "msitranslate=%d,power_mgmt=0,permissive=%d,rdm_policy=%s",
		    d->msitranslate, d->permissive, d->relaxed ? "relaxed" : "strict");
		snprintf(key, sizeof(key), "state-%u", i);
		PUT(set->be, key, "1");
	}
	PUT(set->be, "num_devs", "%u", set->n);
	/* state last: pciback reads the devices when it sees InitWait. */
	PUT(set->be, "state", "1");
	return 0;
}
#undef PUT

static int write_nodes(struct store *s, struct pci_set *set, struct agent_err *err)
{
	int rc = -EAGAIN;

	for (int i = 0; i < PCI_TX_TRIES && rc == -EAGAIN; i++) {
		struct agent_err ignore;
		store_tx tx;

		if ((rc = store_tx_start(s, &tx, err)) < 0)
			return rc;
		if ((rc = write_tx(s, tx, set, err)) < 0) {
			store_tx_end(s, tx, true, &ignore);
			return rc;
		}
		rc = store_tx_end(s, tx, false, err);
	}
	if (!rc)
		set->written = true;
	return rc;
}

static void remove_nodes(struct store *s, unsigned domid)
{
	struct agent_err err;
	char p[128];

	snprintf(p, sizeof(p), "/local/domain/%u/device/pci", domid);
	store_rm(s, STORE_NOTX, p, &err);
	snprintf(p, sizeof(p), "/local/domain/0/backend/pci/%u", domid);
	store_rm(s, STORE_NOTX, p, &err);
	snprintf(p, sizeof(p), "/local/domain/0/error/backend/pci/%u", domid);
	store_rm(s, STORE_NOTX, p, &err);
	snprintf(p, sizeof(p), PCI_HVM_RECORD "/%u", domid);
	store_rm(s, STORE_NOTX, p, &err);
}

/* ---- attach, detach -------------------------------------------------------------- */

/* Step 2 for one device: it exists, pciback holds it (or takes it now),
 * nobody else has it. */
static int check_dev(struct hv *hv, struct pci_set *set, struct pci_dev *d,
		     const char *(*holder)(void *arg, const char *bdf), void *arg,
		     struct agent_err *err)
{
	const char *other;
	char drv[64];
	int rc;

	if ((rc = driver_of(d->bdf, drv, sizeof(drv))) < 0) {
		if (rc == -ENOENT)
			return err_set(err, ENODEV, "[pci.%d] no PCI device %s on this host",
				       d->index, d->bdf);
		return err_sys(err, -rc, "[pci.%d] %s", d->index, d->bdf);
	}
	if ((other = holder(arg, d->bdf)))
		return err_set(err, EBUSY, "[pci.%d] %s is held by VM %s", d->index,
			       d->bdf, other);
	if (strcmp(drv, "pciback")) {
		if (!d->seize)
			return err_set(err, EBUSY,
				       "[pci.%d] %s is not assignable: %s%s (xl pci-assignable-add "
				       "it, or set seize = yes)", d->index, d->bdf,
				       *drv ? "bound to driver " : "bound to no driver", drv);
		if ((rc = seize(d, drv, err)) < 0)
			return err_prefix(err, "[pci.%d] ", d->index);
	}
	if ((rc = hv_pci_test_assign(hv, set->domid, d->sbdf, err)) < 0)
		return err_prefix(err, "[pci.%d] %s is held by another domain: ",
				  d->index, d->bdf);
	return 0;
}

/* Step 4 for one device. */
static int grant_dev(struct hv *hv, struct pci_set *set, struct pci_dev *d,
		     struct agent_err *err)
{
	char p[256];
	int rc;

	if ((rc = read_resources(d, err)) < 0)
		return rc;
	for (; d->bars_granted < d->nbars; d->bars_granted++) {
		const struct pci_bar *b = &d->bars[d->bars_granted];

		rc = b->io ? hv_ioport_permit(hv, set->domid, (unsigned)b->start,
					      (unsigned)b->size, true, err)
			   : hv_iomem_permit(hv, set->domid, b->start >> 12,
					     (b->size + 4095) >> 12, true, err);
		if (rc < 0)
			return err_prefix(err, "%s: ", d->bdf);
	}
	if (d->irq) {
		if ((rc = hv_irq_grant(hv, set->domid, d->irq, &d->pirq, err)) < 0)
			return err_prefix(err, "%s: irq %u: ", d->bdf, d->irq);
		d->irq_granted = true;
	}
	/* An HVM guest's permissive is the device model's (dm.c). */
	if (d->permissive && !set->hvm) {
		snprintf(p, sizeof(p), "%s/drivers/pciback/permissive", pci_sysfs);
		if ((rc = sys_write(p, d->bdf)) < 0)
			return err_sys(err, -rc, "%s: pciback permissive", d->bdf);
	}
	if ((rc = hv_pci_assign(hv, set->domid, d->sbdf, d->relaxed, err)) < 0)
		return err_prefix(err, "%s: ", d->bdf);
	d->assigned = true;
	return 0;
}

int pci_attach(struct hv *hv, struct store *s, struct pci_set *set,
	       const char *(*holder)(void *arg, const char *bdf), void *arg,
	       struct agent_err *err)
{
	bool iommu;
	int rc;

	if ((rc = hv_iommu(hv, &iommu, err)) < 0)
		return rc;
	if (!iommu)
		return err_set(err, EOPNOTSUPP,
			       "PCI passthrough needs an IOMMU, and Xen runs without one "
			       "(no I/O virtualisation: boot Xen with iommu=1 on a host "
			       "with VT-d or AMD-Vi)");
	for (unsigned i = 0; i < set->n; i++)
		if ((rc = check_dev(hv, set, &set->dev[i], holder, arg, err)) < 0)
			return rc;
	for (unsigned i = 0; i < set->n; i++)
		reset(set->dev[i].bdf);
	if ((rc = write_nodes(s, set, err)) < 0)
		return err_prefix(err, "pci backend: ");
	for (unsigned i = 0; i < set->n; i++)
		if ((rc = grant_dev(hv, set, &set->dev[i], err)) < 0)
			return err_prefix(err, "[pci.%d] ", set->dev[i].index);
	return 0;
}

int pci_ready(struct store *s, const struct pci_set *set, struct agent_err *err)
{
	char p[160], state[16];
	int st;

	if (set->hvm)
		return 1;	/* no backend: the device model takes them */
	snprintf(p, sizeof(p), "%s/state", set->be);
	store_read_str(s, STORE_NOTX, p, state, sizeof(state));
	st = atoi(state);
	if (st == 3 || st == 4)
		return 1;
	if (st >= 5 || (!*state && set->written)) {
		char e[160];

		snprintf(p, sizeof(p), "/local/domain/0/error/backend/pci/%u/0/error",
			 set->domid);
		store_read_str(s, STORE_NOTX, p, e, sizeof(e));
		return err_set(err, EIO, "pci backend: %s", *e ? e :
			       *state ? "pciback closed the backend" : "backend gone");
	}
	return 0;
}

void pci_detach(struct hv *hv, struct store *s, struct pci_set *set)
{
	if (!set)
		return;
	/* Nodes first: pciback lets go of the devices (and resets them,
	 * pcistub_put_pci_dev), then Xen's side in reverse order. */
	if (set->written)
		remove_nodes(s, set->domid);
	for (unsigned k = set->n; k-- > 0;) {
		struct pci_dev *d = &set->dev[k];
		struct agent_err err;

		if (d->assigned && hv_pci_deassign(hv, set->domid, d->sbdf, &err) < 0)
			log_warn("%s of %s: %s", d->bdf, set->name, err.msg);
		if (d->irq_granted)
			hv_irq_revoke(hv, set->domid, d->pirq);
		while (d->bars_granted > 0) {
			const struct pci_bar *b = &d->bars[--d->bars_granted];

			if (b->io)
				hv_ioport_permit(hv, set->domid, (unsigned)b->start,
						 (unsigned)b->size, false, &err);
			else
				hv_iomem_permit(hv, set->domid, b->start >> 12,
						(b->size + 4095) >> 12, false, &err);
		}
		if (d->assigned || d->seized)
			reset(d->bdf);
		if (d->assigned)
			log_info("%s: %s released by domain %u", set->name, d->bdf,
				 set->domid);
	}
	free(set);
}

void pci_reconcile(struct store *s, unsigned domid)
{
	char bdfs[2 * VM_MAX_DEVS][13];
	unsigned n = record_bdfs(s, domid, false, bdfs, VM_MAX_DEVS);

	n += record_bdfs(s, domid, true, bdfs + n, VM_MAX_DEVS);
	/* The domain's end released the devices in Xen; pciback releases
	 * them when the backend goes: nodes first, then the resets. */
	remove_nodes(s, domid);
	for (unsigned i = 0; i < n; i++) {
		log_warn("reconcile: domain %u is gone; %s goes back to pciback", domid,
			 bdfs[i]);
		reset(bdfs[i]);
	}
}
