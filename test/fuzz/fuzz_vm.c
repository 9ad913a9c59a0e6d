/* libFuzzer harness: VM files (vm_load_file, vm_load_dir in agent/vm.c)
 * through the real reader, as the agent loads them at start-up and on
 * SIGHUP.
 *
 * The input is one VM file's bytes, loaded as the only file of a VM
 * directory; when it holds a line "%%", the parts before and after are two
 * files of the directory (a.ini, b.ini), which adds the checks between
 * files (names, UUIDs, MACs).  Besides the sanitizers (leaks count: everything is freed):
 * a valid VM has every required key, a name that is a name, devices whose
 * keys are set; an invalid one has its first problem in vm->error; lookup
 * by its name finds it; the MAC of each vif is a unicast MAC. */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "conf.h"
#include "fuzz_util.h"
#include "vm.h"

static FILE *devnull;
static char scripts[128];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[128];

	(void)argc, (void)argv;
	fuzz_make_dir();
	devnull = fopen("/dev/null", "w");
	/* The default scripts (fuzz_util.h); "vms" holds the directory
	 * loads. */
	fuzz_make_scripts(scripts);
	fuzz_write("disk.img", "", 0, path);
	snprintf(path, sizeof(path), "%s/vms", fuzz_dir);
	fuzz_check(mkdir(path, 0700) == 0, "mkdir vms");
	return 0;
}

static void check_vm(const struct vm *vm, const struct conf_diag *diag,
		     unsigned before)
{
	char mac[18];
	unsigned char raw[6];

	fuzz_check(vm->name[0] || !vm->conf.name, "a name");
	fuzz_check(memchr(vm->name, '\0', sizeof(vm->name)) != NULL, "name terminated");
	if (!vm->valid) {
		fuzz_check(vm->error != NULL, "an invalid VM says why");
		fuzz_check(diag->n > before, "its problems are in diag");
		return;
	}
	fuzz_check(vm->error == NULL, "no error on a valid VM");
	fuzz_check(vm->conf.name && conf_valid_name(vm->conf.name) &&
		   !strcmp(vm->name, vm->conf.name), "a valid VM's name");
	/* No kernel only for an HVM VM with a disk (its BIOS boots it). */
	fuzz_check(vm->conf.kernel && (vm->conf.kernel[0] == '/' ||
		   (!vm->conf.kernel[0] && vm->conf.type == VM_TYPE_HVM &&
		    vm->vbd_mask)), "kernel path");
	fuzz_check(!strcmp(vm->conf.serial, "none") || !strcmp(vm->conf.serial, "pty") ||
		   (!strncmp(vm->conf.serial, "file:/", 6) &&
		    !strchr(vm->conf.serial, ',')), "serial is none, pty or file:/PATH");
	fuzz_check(vm->conf.boot[0] && strspn(vm->conf.boot, "cdna") ==
		   strlen(vm->conf.boot), "boot order");
	fuzz_check(vm->conf.type == VM_TYPE_HVM ||
		   (vm->conf.vga == VGA_NONE && !vm->conf.viridian &&
		    !strcmp(vm->conf.serial, "none") && !strcmp(vm->conf.boot, "cda")),
		   "the emulated machine's keys only in an HVM VM");
	fuzz_check(!vm->conf.maxmem || vm->conf.maxmem >= vm->conf.memory,
		   "maxmem at least memory");
	for (int i = 0; i < VM_MAX_DEVS; i++) {
		if (vm->vif_mask & 1u << i) {
			fuzz_check(vm->vif[i].mac && vm->vif[i].bridge && vm->vif[i].script,
				   "vif keys set");
			vm_vif_mac(vm, i, mac);
			fuzz_check(conf_parse_mac(mac, raw) == 0, "a vif's MAC is unicast");
		}
		if (vm->vbd_mask & 1u << i)
			fuzz_check(vm->vbd[i].target && vm->vbd[i].vdev &&
				   conf_vdev_devid(vm->vbd[i].vdev) >= 0, "vbd keys set");
	}
	conf_dump(devnull, conf_vm_keys, conf_vm_nkeys, &vm->conf);
}

/* One file alone in the directory: vm_load_dir, which is vm_load_file
 * and the checks within the file (a vif's MAC against its other vifs). */
static void one_file(const uint8_t *data, size_t size)
{
	struct conf_diag diag = { 0 };
	struct vm_list list = { 0 };
	char path[128], dir[128];
	struct vm *vm;
	int rc;

	fuzz_write("vms/a.ini", data, size, path);
	snprintf(dir, sizeof(dir), "%s/vms/b.ini", fuzz_dir);
	unlink(dir);
	snprintf(dir, sizeof(dir), "%s/vms", fuzz_dir);
	rc = vm_load_dir(dir, scripts, &list, &diag);
	fuzz_check(list.n == 1 && list.head && !list.head->next, "the file loaded");
	vm = list.head;
	check_vm(vm, &diag, 0);
	fuzz_check((rc == 0) == vm->valid, "0 exactly when the file is valid");
	fuzz_check(vm_lookup(&list, vm->name, NULL) == vm, "found by its name");
	vm_list_dispose(&list);
	conf_diag_dispose(&diag);
}

static void two_files(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
	struct conf_diag diag = { 0 };
	struct vm_list list = { 0 };
	char path[128], dir[128];
	int rc;

	fuzz_write("vms/a.ini", a, na, path);
	fuzz_write("vms/b.ini", b, nb, path);
	snprintf(dir, sizeof(dir), "%s/vms", fuzz_dir);
	rc = vm_load_dir(dir, scripts, &list, &diag);
	fuzz_check(list.n == 2 && list.head && list.head->next, "both files loaded");
	for (struct vm *vm = list.head; vm; vm = vm->next)
		check_vm(vm, &diag, 0);
	fuzz_check(rc == 0 || diag.n > 0, "a refused directory says why");
	fuzz_check(rc < 0 || (list.head->valid && list.head->next->valid),
		   "0 only when both are valid");
	if (list.head->valid && list.head->next->valid)
		fuzz_check(strcmp(list.head->name, list.head->next->name) &&
			   memcmp(list.head->conf.uuid, list.head->next->conf.uuid, 16),
			   "two valid VMs differ in name and UUID");
	/* No two vifs of valid VMs share a MAC. */
	for (struct vm *x = list.head; x; x = x->next)
		for (struct vm *y = x; y; y = y->next)
			for (int i = 0; x->valid && y->valid && i < VM_MAX_DEVS; i++)
				for (int j = x == y ? i + 1 : 0; j < VM_MAX_DEVS; j++) {
					char mx[18], my[18];

					if (!(x->vif_mask & 1u << i) || !(y->vif_mask & 1u << j))
						continue;
					vm_vif_mac(x, i, mx);
					vm_vif_mac(y, j, my);
					fuzz_check(strcasecmp(mx, my) != 0, "MACs of valid VMs differ");
				}
	vm_list_dispose(&list);
	conf_diag_dispose(&diag);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sep[] = "\n%%\n";
	const uint8_t *cut = memmem(data, size, sep, sizeof(sep) - 1);

	if (!cut) {
		one_file(data, size);
		return 0;
	}
	size_t na = (size_t)(cut - data) + 1;	/* keep the newline */
	size_t skip = na + sizeof(sep) - 2;

	two_files(data, na, data + skip, size - skip);
	return 0;
}
