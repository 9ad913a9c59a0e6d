/* pci.c against a sysfs tree of its own (pci_sysfs), the in-memory
 * xenstored and Xen (fake_store.c, fake_hv.c): the refusals of a start
 * (no IOMMU, unknown BDF, not assignable, held by a VM or by a foreign
 * domain), seize, the backend's nodes, the grants and the assignment, the
 * undo of each, pci_ready, and the reconciliation of a gone domain. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "fake.h"
#include "pci.h"

static char dir[] = "/tmp/xsagent-pcidev-XXXXXX";
static char path[600];

static const char *at(const char *rel)
{
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return path;
}

static void put(const char *rel, const char *text)
{
	FILE *f = fopen(at(rel), "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static char *get(const char *rel)
{
	static char buf[256];
	FILE *f = fopen(at(rel), "r");

	buf[0] = '\0';
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	return buf;
}

/* The device bound to drv ("" none): driver -> ../../drivers/drv. */
static void bind_to(const char *drv)
{
	unlink(at("devices/0000:00:01.0/driver"));
	if (*drv) {
		char target[300];

		snprintf(target, sizeof(target), "../../drivers/%s", drv);
		if (symlink(target, at("devices/0000:00:01.0/driver")) < 0)
			perror("symlink");
	}
}

static const char *held_by;
static const char *holder(void *arg, const char *bdf)
{
	(void)arg;
	return held_by && !strcmp(bdf, "0000:00:01.0") ? held_by : NULL;
}

static struct vm *make_vm(const char *bdf, bool seize)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	snprintf(vm->name, sizeof(vm->name), "pv1");
	vm->pci_mask = 1;
	vm->pci[0].bdf = strdup(bdf);
	vm->pci[0].seize = seize;
	vm->pci[0].permissive = 1;
	return vm;
}

static void free_vm(struct vm *vm)
{
	free(vm->pci[0].bdf);
	free(vm);
}

int main(void)
{
	struct agent_err err;
	struct pci_set *set;
	struct store *s;
	struct hv *hv;
	struct vm *vm;
	int live0;
	unsigned assigned0;
	char *v;

	if (!mkdtemp(dir))
		return 2;
	mkdir(at("devices"), 0755);
	mkdir(at("devices/0000:00:01.0"), 0755);
	mkdir(at("drivers"), 0755);
	mkdir(at("drivers/pciback"), 0755);
	mkdir(at("drivers/edu"), 0755);
	put("devices/0000:00:01.0/resource",
	    "0x00000000fea00000 0x00000000feafffff 0x0000000000040200\n"
	    "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
	    "0x000000000000c000 0x000000000000c01f 0x0000000000040101\n");
	put("devices/0000:00:01.0/irq", "21\n");
	/* sysfs attributes exist before anyone writes them. */
	put("drivers/edu/unbind", "");
	put("drivers/pciback/new_slot", "");
	put("drivers/pciback/bind", "");
	put("drivers/pciback/permissive", "");
	pci_sysfs = dir;
	fake_store_reset();
	fake_hv_reset();
	if (store_open(&s, &err) < 0 || hv_open(&hv, &err) < 0)
		return 2;
	fake_store_write("/local/domain/5", "");

	/* Refusals: nothing is left, nothing granted. */
	vm = make_vm("0000:00:01.0", false);
	fake_hv_pci(false, UINT32_MAX, UINT32_MAX);
	ok(pci_plan(vm, 5, &set, &err) == 0 && set && set->n == 1, "planned");
	ok(pci_attach(hv, s, set, holder, NULL, &err) == -EOPNOTSUPP &&
	   strstr(err.msg, "needs an IOMMU"), "no IOMMU: %s", err.msg);
	pci_detach(hv, s, set);
	fake_hv_pci(true, UINT32_MAX, UINT32_MAX);

	bind_to("");
	pci_plan(vm, 5, &set, &err);
	ok(pci_attach(hv, s, set, holder, NULL, &err) == -EBUSY &&
	   strstr(err.msg, "[pci.0] 0000:00:01.0 is not assignable: bound to no driver"),
	   "no driver, no seize: %s", err.msg);
	pci_detach(hv, s, set);
	bind_to("edu");
	pci_plan(vm, 5, &set, &err);
	ok(pci_attach(hv, s, set, holder, NULL, &err) == -EBUSY &&
	   strstr(err.msg, "bound to driver edu"), "another driver: %s", err.msg);
	pci_detach(hv, s, set);
	ok(!fake_store_exists("/local/domain/0/backend/pci/5"), "no backend after refusals");
	free_vm(vm);

	vm = make_vm("0000:00:1f.7", false);
	pci_plan(vm, 5, &set, &err);
	ok(pci_attach(hv, s, set, holder, NULL, &err) == -ENODEV &&
	   strstr(err.msg, "no PCI device 0000:00:1f.7 on this host"), "unknown: %s", err.msg);
	pci_detach(hv, s, set);
	free_vm(vm);

	/* seize: unbound from edu, given to pciback. */
	vm = make_vm("0000:00:01.0", true);
	bind_to("edu");
	held_by = "other";
	pci_plan(vm, 5, &set, &err);
	ok(pci_attach(hv, s, set, holder, NULL, &err) == -EBUSY &&
	   strstr(err.msg, "0000:00:01.0 is held by VM other"), "held by a VM: %s", err.msg);
	pci_detach(hv, s, set);
	held_by = NULL;
	fake_hv_pci(true, 1 << 3, UINT32_MAX);	/* 0000:00:01.0 */
	pci_plan(vm, 5, &set, &err);
	ok(pci_attach(hv, s, set, holder, NULL, &err) == -EINVAL &&
	   strstr(err.msg, "held by another domain: Xen cannot assign it"),
	   "held by a foreign domain: %s", err.msg);
	is_str(get("drivers/edu/unbind"), "0000:00:01.0", "seize unbound it from edu");
	is_str(get("drivers/pciback/new_slot"), "0000:00:01.0", "seize: pciback new_slot");
	is_str(get("drivers/pciback/bind"), "0000:00:01.0", "seize: pciback bind");
	pci_detach(hv, s, set);
	ok(fake_hv_pci_live() == 0, "nothing granted");

	/* The assignment fails: everything before it is undone. */
	bind_to("pciback");
	fake_hv_pci(true, UINT32_MAX, 1 << 3);
	pci_plan(vm, 5, &set, &err);
	ok(pci_attach(hv, s, set, holder, NULL, &err) == -EIO, "assign fails: %s", err.msg);
	ok(fake_hv_pci_live() == 3, "BAR memory, BAR ports and irq were granted");
	ok(fake_store_exists("/local/domain/0/backend/pci/5/0/dev-0"), "the record was written first");
	pci_detach(hv, s, set);
	ok(fake_hv_pci_live() == 0, "undo revoked all three");
	ok(!fake_store_exists("/local/domain/0/backend/pci/5") &&
	   !fake_store_exists("/local/domain/5/device/pci"), "undo removed the nodes");

	/* Attached. */
	fake_hv_pci(true, UINT32_MAX, UINT32_MAX);
	pci_plan(vm, 5, &set, &err);
	ok(pci_attach(hv, s, set, holder, NULL, &err) == 0, "attached");
	ok(fake_hv_pci_live() == 4 && fake_hv_pci_assigned() == 1,
	   "granted: memory, ports, irq; assigned");
	ok(pci_set_has(set, "0000:00:01.0") && !pci_set_has(set, "0000:00:02.0"), "set_has");
	is_str(get("drivers/pciback/permissive"), "0000:00:01.0", "permissive written");
#define BE "/local/domain/0/backend/pci/5/0/"
	is_str((v = fake_store_read(BE "dev-0")), "0000:00:01.0", "dev-0");
	free(v);
	is_str((v = fake_store_read(BE "opts-0")),
	       "msitranslate=0,power_mgmt=0,permissive=1,rdm_policy=strict", "opts-0");
	free(v);
	is_str((v = fake_store_read(BE "num_devs")), "1", "num_devs");
	free(v);
	is_str((v = fake_store_read(BE "frontend")), "/local/domain/5/device/pci/0", "frontend");
	free(v);
	is_str((v = fake_store_read("/local/domain/5/device/pci/0/backend")),
	       "/local/domain/0/backend/pci/5/0", "frontend's backend");
	free(v);
	ok(pci_ready(s, set, &err) == 0, "state 1: not ready");
	fake_store_write(BE "state", "2");
	ok(pci_ready(s, set, &err) == 0, "InitWait: not ready");
	fake_store_write(BE "state", "3");
	ok(pci_ready(s, set, &err) == 1, "Initialised: ready");
	fake_store_write(BE "state", "5");
	fake_store_write("/local/domain/0/error/backend/pci/5/0/error", "no such device");
	ok(pci_ready(s, set, &err) == -EIO && strstr(err.msg, "no such device"),
	   "Closing: failed with pciback's error: %s", err.msg);
	pci_detach(hv, s, set);
	ok(fake_hv_pci_live() == 0, "detach: deassigned and revoked");
	fake_hv_pci(true, UINT32_MAX, UINT32_MAX);
	ok(!fake_store_exists("/local/domain/0/backend/pci/5") &&
	   !fake_store_exists("/local/domain/0/error/backend/pci/5"), "detach: nodes gone");

	/* An adopted domain: the set read back from its backend. */
	fake_store_write(BE "num_devs", "2");
	fake_store_write(BE "dev-0", "0000:00:01.0");
	fake_store_write(BE "dev-1", "junk");
	set = pci_recover(s, vm, 5);
	ok(set && set->n == 1 && !strcmp(set->dev[0].bdf, "0000:00:01.0") &&
	   set->dev[0].sbdf == 1 << 3 && set->dev[0].assigned && set->dev[0].irq == 21,
	   "recovered from the backend's record (junk skipped)");
	pci_detach(hv, s, set);
	ok(!fake_store_exists("/local/domain/0/backend/pci/5"), "its detach removed the nodes");
	ok(pci_recover(s, vm, 6) == NULL, "no backend: nothing to recover");

	/* A gone domain's backend; a cut record is skipped. */
	fake_store_write(BE "num_devs", "2");
	fake_store_write(BE "dev-0", "0000:00:01.0");
	fake_store_write(BE "dev-1", "junk");
	fake_store_write("/local/domain/5/device/pci/0/state", "4");
	pci_reconcile(s, 5);
	ok(!fake_store_exists("/local/domain/0/backend/pci/5") &&
	   !fake_store_exists("/local/domain/5/device/pci"), "reconcile removed the nodes");
	free_vm(vm);

	/* An HVM guest: the same checks, grants and assignment, no backend
	 * for pciback, the agent's record instead (and no pciback
	 * permissive: that is the device model's). */
#define REC PCI_HVM_RECORD "/5/"
	vm = make_vm("0000:00:01.0", false);
	vm->conf.type = VM_TYPE_HVM;
	bind_to("pciback");
	put("drivers/pciback/permissive", "");
	fake_hv_pci(true, UINT32_MAX, UINT32_MAX);
	/* (The fake counts what the adopted set's detach above revoked.) */
	live0 = fake_hv_pci_live();
	assigned0 = fake_hv_pci_assigned();
	ok(pci_plan(vm, 5, &set, &err) == 0 && set && set->hvm, "HVM: planned");
	ok(pci_attach(hv, s, set, holder, NULL, &err) == 0, "HVM: attached");
	ok(fake_hv_pci_live() - live0 == 4 && fake_hv_pci_assigned() - assigned0 == 1,
	   "HVM: granted memory, ports, irq; assigned");
	ok(!fake_store_exists("/local/domain/0/backend/pci/5") &&
	   !fake_store_exists("/local/domain/5/device/pci"), "HVM: no backend, no frontend");
	is_str((v = fake_store_read(REC "dev-0")), "0000:00:01.0", "HVM: record dev-0");
	free(v);
	is_str((v = fake_store_read(REC "num_devs")), "1", "HVM: record num_devs");
	free(v);
	is_str(get("drivers/pciback/permissive"), "", "HVM: pciback's permissive untouched");
	ok(pci_ready(s, set, &err) == 1, "HVM: ready at once (no backend to wait for)");
	pci_detach(hv, s, set);
	ok(fake_hv_pci_live() == live0 && !fake_store_exists(PCI_HVM_RECORD "/5"),
	   "HVM: detach revoked all and removed the record");
	fake_hv_pci(true, UINT32_MAX, UINT32_MAX);
	/* Adopted: read back from the record; a gone one reconciled. */
	fake_store_write(REC "num_devs", "1");
	fake_store_write(REC "dev-0", "0000:00:01.0");
	set = pci_recover(s, vm, 5);
	ok(set && set->hvm && set->n == 1 && set->dev[0].assigned,
	   "HVM: recovered from the record");
	pci_detach(hv, s, set);
	ok(!fake_store_exists(PCI_HVM_RECORD "/5"), "HVM: its detach removed the record");
	fake_store_write(REC "num_devs", "1");
	fake_store_write(REC "dev-0", "0000:00:01.0");
	pci_reconcile(s, 5);
	ok(!fake_store_exists(PCI_HVM_RECORD "/5"), "HVM: reconcile removed the record");
	free_vm(vm);

	store_close(s);
	hv_close(hv);
	fake_store_reset();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 2;
	}
	return tap_done();
}
