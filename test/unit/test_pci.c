/* [pci.N] sections of VM files: the BDF forms xl takes, the options and
 * their defaults, and every refusal with its file:line (a PVH VM, a bad
 * BDF, a BDF twice in a file); a BDF in two files is a warning only. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "diag.h"
#include "vm.h"

static char dir[] = "/tmp/xsagent-pci-XXXXXX";

static const char *put(const char *name, const char *text)
{
	return tap_put(dir, name, text);
}

#define VM "[vm]\nname = w\nuuid = 00000000-0000-4000-8000-000000000001\nkernel = /k\n"

static struct vm *load(const char *text, struct conf_diag *d)
{
	conf_diag_dispose(d);
	return vm_load_file(put("w.ini", text), dir, d);
}

int main(void)
{
	struct conf_diag d = { 0 };
	char bdf[13];
	struct vm *vm;

	if (!mkdtemp(dir))
		return 2;

	ok(conf_parse_bdf("0000:00:01.0", bdf) == 0, "DDDD:BB:DD.F parses");
	is_str(bdf, "0000:00:01.0", "and stays as it is");
	ok(conf_parse_bdf("0A:1F.7", bdf) == 0, "BB:DD.F parses (xl's short form)");
	is_str(bdf, "0000:0a:1f.7", "in domain 0000, lower case");
	ok(conf_parse_bdf("ffff:FF:00.3", bdf) == 0, "upper-case hex parses");
	is_str(bdf, "ffff:ff:00.3", "canonical lower case");
	ok(conf_parse_bdf("0000:00:20.0", bdf) < 0, "device 0x20 refused (0-1f)");
	ok(conf_parse_bdf("0000:00:01.8", bdf) < 0, "function 8 refused (0-7)");
	ok(conf_parse_bdf("0000:00:01", bdf) < 0, "no function refused");
	ok(conf_parse_bdf("000:00:01.0", bdf) < 0, "short domain refused");
	ok(conf_parse_bdf("0000-00:01.0", bdf) < 0, "wrong separator refused");
	ok(conf_parse_bdf("0000:0g:01.0", bdf) < 0, "non-hex bus refused");
	ok(conf_parse_bdf("0000:00:01.0@5", bdf) < 0, "xl's @vslot is not a BDF");
	ok(conf_parse_bdf("", bdf) < 0, "empty refused");

	vm = load(VM "[pci.0]\nbdf = 0000:00:01.0\n"
		  "[pci.3]\nbdf = 00:02.1\npermissive = yes\nmsitranslate = yes\n"
		  "rdm_policy = relaxed\nseize = yes\n", &d);
	ok(vm && vm->valid && d.n == 0, "PV VM with two pci sections is valid");
	ok(vm->pci_mask == 0x9, "sections pci.0 and pci.3");
	is_str(vm->pci[0].bdf, "0000:00:01.0", "pci.0 bdf");
	ok(vm->pci[0].permissive == 0 && vm->pci[0].msitranslate == 0 &&
	   vm->pci[0].rdm_policy == 0 && vm->pci[0].seize == 0,
	   "defaults: permissive no, msitranslate no, rdm_policy strict, seize no");
	is_str(vm->pci[3].bdf, "0000:00:02.1", "pci.3 bdf, short form canonical");
	ok(vm->pci[3].permissive == 1 && vm->pci[3].msitranslate == 1 &&
	   vm->pci[3].rdm_policy == 1 && vm->pci[3].seize == 1, "options set");
	vm_free(vm);

	vm = load(VM "type = hvm\n[pci.0]\nbdf = 00:01.0\npermissive = yes\n", &d);
	ok(vm && vm->valid && d.n == 0, "HVM VM with a pci section is valid (the device "
	   "model takes it)");
	ok(vm && vm->pci_mask == 1 && vm->pci[0].permissive == 1, "its device and option");
	vm_free(vm);

	vm = load(VM "type = pvh\n[pci.0]\nbdf = 00:01.0\n", &d);	/* [pci.0]: line 6 */
	ok(vm && !vm->valid, "PVH VM with a pci section is invalid");
	ok(has(&d, "w.ini:6: [pci.0] PCI passthrough is not supported for x86 PVH guests"),
	   "and says why, as xl does");
	vm_free(vm);

	vm = load(VM "[pci.0]\nbdf = 0000:00:01.0\n"		/* 5-6 */
		  "[pci.1]\nbdf = 00:01.0\n"			/* 7-8 */
		  "[pci.2]\nbdf = 0000:00:01\n"			/* 9-10 */
		  "[pci.4]\nseize = maybe\n"			/* 11-12 */
		  "[pci.5]\nrdm_policy = loose\nbdf = 00:03.0\n"	/* 13-15 */
		  "[pci.8]\nbdf = 00:04.0\n"			/* 16 */
		  "[pci.6]\nvslot = 3\nbdf = 00:05.0\n", &d);	/* 18-20 */
	ok(vm && !vm->valid, "VM with bad pci sections is invalid");
	ok(has(&d, "w.ini:8: [pci.1] bdf 0000:00:01.0 also used by [pci.0]"),
	   "a BDF twice in one file (either form)");
	ok(has(&d, "w.ini:10: bdf: '0000:00:01' is not a PCI address"), "malformed BDF");
	ok(has(&d, "w.ini:12: seize: 'maybe' is not one of the allowed values"), "bad seize");
	ok(has(&d, "w.ini: [pci.4]: missing key 'bdf'"), "missing bdf");
	ok(has(&d, "w.ini:14: rdm_policy: 'loose' is not one of the allowed values"),
	   "bad rdm_policy");
	ok(has(&d, "w.ini:16: unknown section [pci.8]"), "index out of range");
	ok(has(&d, "w.ini:19: unknown key 'vslot' in [pci.6]"), "unknown key");
	vm_free(vm);
	conf_diag_dispose(&d);

	{
		/* One device in two files: both stay valid (one VM at a time
		 * can hold it), a warning names both. */
		char vd[400];
		struct vm_list l = { 0 };
		struct conf_diag warn = { 0 };

		snprintf(vd, sizeof(vd), "%s/vms", dir);
		mkdir(vd, 0755);
		put("vms/a.ini", "[vm]\nname = a\nuuid = 00000000-0000-4000-8000-000000000401\n"
		    "kernel = /k\n[pci.0]\nbdf = 00:01.0\n");
		put("vms/b.ini", "[vm]\nname = b\nuuid = 00000000-0000-4000-8000-000000000402\n"
		    "kernel = /k\n[pci.2]\nbdf = 0000:00:01.0\n[pci.3]\nbdf = 0000:00:02.0\n");
		ok(vm_load_dir(vd, dir, &l, &d) == 0 && l.n == 2 &&
		   l.head->valid && l.head->next->valid, "a BDF in two files: both valid");
		ok(vm_pci_shared(&l, &warn) == 1, "one shared device reported");
		ok(has(&warn, "a.ini: [pci.0] 0000:00:01.0 also in ") &&
		   has(&warn, "b.ini [pci.2]"), "the warning names both");
		vm_list_dispose(&l);
		conf_diag_dispose(&d);
		conf_diag_dispose(&warn);
		unlink(put("vms/a.ini", ""));
		unlink(put("vms/b.ini", ""));
		rmdir(vd);
	}

	unlink(put("w.ini", ""));
	rmdir(dir);
	return tap_done();
}
