/* The xl.cfg importer (ctl/import.c): every file under test/import is
 * imported; a good one must load in the agent's real VM file loader
 * (vm_load_file) with the values checked below, a bad one must be refused
 * with the offending key in err and nothing written. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "import.h"
#include "tap.h"
#include "vm.h"

static char dir[] = "/tmp/xsagent-import-XXXXXX";
static char scripts[300];
static const char *src = "test/import";

/* test/import/name with @DIR@ replaced by the scratch directory, written
 * there; returns its path (a static buffer). */
static const char *stage(const char *name)
{
	static char path[400];
	char in[400], line[1024];
	FILE *f, *o;

	snprintf(in, sizeof(in), "%s/%s", src, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(in, "r");
	o = fopen(path, "w");
	if (!f || !o) {
		printf("# cannot stage %s\n", in);
		exit(2);
	}
	while (fgets(line, sizeof(line), f)) {
		for (char *p = line, *at; *p; p = at + 5) {
			at = strstr(p, "@DIR@");
			if (!at) {
				fputs(p, o);
				break;
			}
			fprintf(o, "%.*s%s", (int)(at - p), p, dir);
		}
	}
	fclose(f);
	fclose(o);
	return path;
}

static char out_text[8192];

/* Import name into dir/name.ini and load that with the agent's loader.
 * Returns the VM (valid or not), or NULL when the import failed (err says
 * why, *wrote the bytes written to the output all the same). */
static struct vm *import_load(const char *name, char *err, size_t errlen,
			      long *wrote)
{
	struct conf_diag d = { 0 };
	char ini[400];
	const char *cfg = stage(name);
	struct vm *vm = NULL;
	FILE *o;
	size_t n;
	int rc;

	snprintf(ini, sizeof(ini), "%s/%s.ini", dir, name);
	o = fopen(ini, "w+");
	if (!o)
		exit(2);
	err[0] = '\0';
	rc = import_xlcfg(cfg, o, err, errlen);
	*wrote = ftell(o);
	rewind(o);
	n = fread(out_text, 1, sizeof(out_text) - 1, o);
	out_text[n] = '\0';
	fclose(o);
	if (rc == 0) {
		vm = vm_load_file(ini, scripts, &d);
		for (unsigned i = 0; i < d.n; i++)
			printf("#   %s: %s\n", name, d.lines[i]);
		if (vm && !vm->valid)
			printf("# generated file:\n%s", out_text);
	} else if (!err[0]) {
		snprintf(err, errlen, "(import failed with an empty err)");
	}
	conf_diag_dispose(&d);
	return vm;
}

static const char *tsc(const struct vm *vm)
{
	return conf_tsc_modes[vm->conf.tsc_mode];
}

static const char *in_dir(const char *file)
{
	static char p[400];

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	return p;
}

static void good(void)
{
	char err[256], uuid[37], uuid2[37];
	struct vm *vm, *vm2;
	long wrote;

	vm = import_load("good-minimal-pv.cfg", err, sizeof(err), &wrote);
	ok(vm && vm->valid, "minimal PV imports and loads (%s)", err);
	if (vm && vm->valid) {
		is_str(vm->conf.name, "min1", "minimal: name");
		ok(vm->conf.type == VM_TYPE_PV && vm->conf.memory == 256 &&
		   vm->conf.vcpus == 1, "minimal: pv, 256 MiB, 1 vcpu");
		is_str(vm->conf.kernel, "/boot/vmlinuz-6.1.0-18-amd64", "minimal: kernel");
		ok((vm->conf.uuid[6] >> 4) == 4 && (vm->conf.uuid[8] & 0xc0) == 0x80,
		   "minimal: the UUID made is a version 4 one");
		ok(strstr(out_text, "; uuid: none in the xl.cfg") != NULL,
		   "minimal: the file says the UUID was made");
		conf_format_uuid(vm->conf.uuid, uuid);
		vm2 = import_load("good-minimal-pv.cfg", err, sizeof(err), &wrote);
		if (vm2 && vm2->valid) {
			conf_format_uuid(vm2->conf.uuid, uuid2);
			ok(strcmp(uuid, uuid2) != 0, "minimal: a second import makes "
			   "another UUID (%s, %s)", uuid, uuid2);
		} else {
			ok(0, "minimal: second import (%s)", err);
		}
		vm_free(vm2);
	}
	vm_free(vm);

	vm = import_load("good-pci.cfg", err, sizeof(err), &wrote);
	ok(vm && vm->valid, "pci= imports and loads (%s)", err);
	if (vm && vm->valid) {
		ok(vm->pci_mask == 3, "pci: [pci.0] and [pci.1]");
		is_str(vm->pci[0].bdf, "0000:03:00.0", "pci.0 bdf");
		ok(vm->pci[0].permissive == 1 && vm->pci[0].msitranslate == 1 &&
		   vm->pci[0].rdm_policy == 0 && vm->pci[0].seize == 0,
		   "pci.0: pci_permissive's default, xl's msitranslate default (1), strict");
		is_str(vm->pci[1].bdf, "0000:04:00.1", "pci.1 bdf, short form canonical");
		ok(vm->pci[1].permissive == 0 && vm->pci[1].msitranslate == 0 &&
		   vm->pci[1].rdm_policy == 1 && vm->pci[1].seize == 1,
		   "pci.1: its own options over the defaults");
	}
	vm_free(vm);

	vm = import_load("good-pvh.cfg", err, sizeof(err), &wrote);
	ok(vm && vm->valid, "PVH imports and loads (%s)", err);
	if (vm && vm->valid) {
		conf_format_uuid(vm->conf.uuid, uuid);
		is_str(vm->conf.name, "pvh-web_2", "pvh: name");
		is_str(uuid, "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "pvh: uuid kept");
		ok(vm->conf.type == VM_TYPE_PVH, "pvh: type pvh");
		ok(vm->conf.memory == 512 && vm->conf.maxmem == 1024 && vm->conf.vcpus == 2,
		   "pvh: memory 512, maxmem 1024, vcpus 2");
		is_str(vm->conf.ramdisk, "/var/lib/xen/pvh/initrd.img", "pvh: ramdisk");
		is_str(vm->conf.cmdline, "console=hvc0 root=/dev/xvda1 ro", "pvh: cmdline");
		ok(vm->conf.on_poweroff == VM_ACT_DESTROY && vm->conf.on_reboot == VM_ACT_RESTART &&
		   vm->conf.on_crash == VM_ACT_PRESERVE, "pvh: on_* destroy, restart, preserve");
		is_str(tsc(vm), "native", "pvh: tsc_mode");
		ok(vm->conf.rtc_timeoffset == -3600, "pvh: rtc_timeoffset -3600");
		ok(vm->conf.cpu_weight == 512 && vm->conf.cap == 150,
		   "pvh: cpu_weight 512, cap 150");
		ok(!vm->vif_mask && !vm->vbd_mask, "pvh: no devices");
	}
	vm_free(vm);

	vm = import_load("good-xend-linux.cfg", err, sizeof(err), &wrote);
	ok(vm && vm->valid, "xen-tools style (builder=linux) imports and loads (%s)", err);
	if (vm && vm->valid) {
		ok(vm->conf.type == VM_TYPE_PV && vm->conf.memory == 256 &&
		   vm->conf.vcpus == 1, "xend: pv, quoted numbers");
		is_str(vm->conf.ramdisk, "/boot/initrd.img-6.1.0-18-amd64", "xend: ramdisk");
		is_str(vm->conf.cmdline, "root=/dev/xvda ro elevator=noop",
		       "xend: root= prepended to extra");
		ok(vm->conf.on_crash == VM_ACT_RESTART, "xend: on_crash restart");
		ok(vm->vbd_mask == 3, "xend: two disks");
		is_str(vm->vbd[0].target, in_dir("db1-disk"), "xend: phy: target");
		is_str(vm->vbd[0].vdev, "xvda", "xend: vdev");
		ok(vm->vbd[0].mode == VBD_MODE_W && vm->vbd[1].mode == VBD_MODE_W,
		   "xend: disks writable");
		is_str(vm->vbd[1].target, in_dir("db1-swap.img"), "xend: file: target");
		ok(vm->vif_mask == 1, "xend: one vif");
		is_str(vm->vif[0].mac, "00:16:3E:4B:1A:2C", "xend: vif mac");
		is_str(vm->vif[0].bridge, "xenbr0", "xend: vif bridge");
		ok(strstr(out_text, "; ignored: dhcp") != NULL, "xend: dhcp ignored, said so");
	}
	vm_free(vm);

	vm = import_load("good-disks.cfg", err, sizeof(err), &wrote);
	ok(vm && vm->valid, "disks in every style import and load (%s)", err);
	if (vm && vm->valid) {
		static const char *const t[] = { "root.img", "data.img", "old.img",
						 "lv-home", "iso.img", "scr.img" };
		static const char *const v[] = { "xvda", "xvdb", "xvdc", "xvdd", "xvde",
						 "xvdf" };
		static const int m[] = { VBD_MODE_W, VBD_MODE_W, VBD_MODE_W, VBD_MODE_R,
					 VBD_MODE_R, VBD_MODE_W };
		int good_disks = 0;

		ok(vm->vbd_mask == 0x3f, "disks: six disks");
		for (int i = 0; i < 6; i++) {
			int g = vm->vbd[i].target && !strcmp(vm->vbd[i].target, in_dir(t[i])) &&
				vm->vbd[i].vdev && !strcmp(vm->vbd[i].vdev, v[i]) &&
				(int)vm->vbd[i].mode == m[i];

			if (!g)
				printf("#   disk %d: %s %s %d\n", i, vm->vbd[i].target,
				       vm->vbd[i].vdev, vm->vbd[i].mode);
			good_disks += g;
		}
		ok(good_disks == 6, "disks: target, vdev and mode of each");
		is_str(vm->vbd[5].script, "block", "disks: script path -> its name");
	}
	vm_free(vm);

	vm = import_load("good-vifs.cfg", err, sizeof(err), &wrote);
	ok(vm && vm->valid, "vifs import and load (%s)", err);
	if (vm && vm->valid) {
		ok(vm->vif_mask == 0xf, "vifs: four, the empty spec one too");
		is_str(vm->vif[0].mac, "00:16:3e:00:00:01", "vifs: mac");
		is_str(vm->vif[0].bridge, "br0", "vifs: bridge");
		is_str(vm->vif[1].bridge, "xenbr1", "vifs: bridge of the second");
		is_str(vm->vif[1].script, "vif-bridge", "vifs: script path -> its name");
		is_str(vm->vif[2].bridge, "xenbr0", "vifs: '' takes the defaults");
		is_str(vm->vif[3].mac, "aa:00:00:00:00:02", "vifs: type=vif accepted");
	}
	vm_free(vm);

	vm = import_load("good-odd.cfg", err, sizeof(err), &wrote);
	ok(vm && vm->valid, "comments, odd spacing, lists across lines (%s)", err);
	if (vm && vm->valid) {
		is_str(vm->conf.name, "odd", "odd: name before ';'");
		ok(vm->conf.memory == 128 && vm->conf.vcpus == 3, "odd: memory 0x80, vcpus 3");
		is_str(vm->conf.cmdline, "quiet msg=\"hello world\" it's",
		       "odd: escaped quotes and +=");
		ok(vm->vbd_mask == 1 && vm->vif_mask == 1, "odd: a disk and a vif");
		is_str(vm->vbd[0].target, in_dir("odd.img"), "odd: disk target");
	}
	vm_free(vm);

	vm = import_load("good-root-only.cfg", err, sizeof(err), &wrote);
	ok(vm && vm->valid, "root alone, xend-era hints (%s)", err);
	if (vm && vm->valid) {
		is_str(vm->conf.cmdline, "root=/dev/xvda1", "root only: root=...");
		ok(vm->conf.memory == 128, "root only: memory defaults");
		ok(strstr(out_text, "; ignored: gateway") && strstr(out_text, "; ignored: ip,"),
		   "root only: the ignored keys are listed");
	}
	vm_free(vm);
}

static void bad(void)
{
	static const struct {
		const char *file, *want;
	} cases[] = {
		{ "bad-pygrub.cfg", "bootloader: a bootloader (pygrub) is not supported" },
		{ "bad-pci-pvh.cfg", "pci[0]: PCI passthrough is not supported for x86 PVH" },
		{ "bad-pci-vslot.cfg", "pci[0]: a virtual slot (@VSLOT) is not supported" },
		{ "bad-pci-dup.cfg", "pci[1]: 0000:03:00.0 also used by pci[0]" },
		{ "bad-pci-junk.cfg", "pci[0]: 'eth0' is not a PCI device" },
		{ "bad-pci-overrun.cfg", "pci[1]: '0:00003:00,1' is not a PCI device" },
		{ "bad-hvm.cfg", "type: hvm is not supported yet" },
		{ "bad-builder-hvm.cfg", "builder: hvm is not supported yet" },
		{ "bad-unknown.cfg", "memroy: unknown or unsupported key" },
		{ "bad-disk.cfg", "disk[0]: unknown value for format" },
		{ "bad-dot-name.cfg", "name: 'web1.example.com' has a '.'" },
		{ "bad-device-model.cfg", "device_model_version: a device model" },
		{ "bad-qcow2.cfg", "disk[1]: format=qcow2 is not supported" },
		{ "bad-dup-vdev.cfg", "disk[2]: vdev xvdb also used by disk[1]" },
		{ "bad-vif-model.cfg", "vif[1]: 'model' is not supported" },
		{ "bad-coredump.cfg", "on_crash: 'coredump-destroy' is not supported" },
		{ "bad-hotplug.cfg", "maxvcpus: 8 differs from vcpus (2)" },
		{ "bad-syntax.cfg", "bad-syntax.cfg:2: config parsing error" },
		{ "bad-python.cfg", "bad-python.cfg:1: config parsing error" },
		{ "bad-cmdline-extra.cfg", "extra: xl ignores it when cmdline is set" },
		{ "bad-relative-kernel.cfg", "kernel: 'vmlinuz' is not an absolute path" },
		{ "bad-maxmem.cfg", "maxmem: 512 is below memory (1024)" },
		{ "bad-cap.cfg", "cap: 201 is above 100 x vcpus (200)" },
		{ "bad-cpu-weight.cfg", "cpu_weight" },
		{ "bad-comment-in-extra.cfg", "extra: 'quiet ;rest'" },
		{ "bad-no-name.cfg", "name: missing" },
		{ "bad-empty-kernel.cfg", "kernel: missing" },
		{ "bad-newline-name.cfg", "name: 'web?line2.example' has a '.'" },
		{ "bad-vdev.cfg", "disk[0]: vdev: 'hda' is not xvda .. xvdp" },
		{ "bad-partition-vdev.cfg", "disk[0]: vdev: 'xvda2' is not xvda .. xvdp" },
		{ "bad-mac.cfg", "vif[0]: mac: '01:00:5e:00:00:01'" },
	};
	char err[256];
	long wrote;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vm *vm = import_load(cases[i].file, err, sizeof(err), &wrote);

		ok(!vm && strstr(err, cases[i].want) && wrote == 0,
		   "%s refused: %s", cases[i].file, err);
		if (vm || !strstr(err, cases[i].want))
			printf("#   want '%s'\n", cases[i].want);
		vm_free(vm);
	}

	/* A file that is not there, and one too large to be a config. */
	{
		FILE *o = tmpfile();
		char big[400];
		FILE *f;

		ok(o && import_xlcfg("/nonexistent/x.cfg", o, err, sizeof(err)) == -ENOENT &&
		   strstr(err, "/nonexistent/x.cfg") && ftell(o) == 0,
		   "a missing file: -ENOENT, named (%s)", err);
		snprintf(big, sizeof(big), "%s/big.cfg", dir);
		f = fopen(big, "w");
		for (int i = 0; f && i < 100000; i++)
			fputs("# padding.\n", f);
		if (f)
			fclose(f);
		ok(o && import_xlcfg(big, o, err, sizeof(err)) == -EFBIG && ftell(o) == 0,
		   "a file over 1 MiB: -EFBIG (%s)", err);
		unlink(big);
		/* libxlutil aborts on a NUL inside a string (fuzz_import found
		 * it): the importer refuses the file first. */
		f = fopen(big, "w");
		if (f) {
			fwrite("name = \"a\"\nkernel = \"/k\0x\"\n", 1, 27, f);
			fclose(f);
		}
		ok(o && import_xlcfg(big, o, err, sizeof(err)) == -EINVAL &&
		   strstr(err, "big.cfg:2: a NUL byte") && ftell(o) == 0,
		   "a NUL byte: refused with its line (%s)", err);
		unlink(big);
		if (o)
			fclose(o);
	}
}

int main(void)
{
	static const char *const files[] = {
		"root.img", "data.img", "old.img", "lv-home", "iso.img", "scr.img",
		"db1-disk", "db1-swap.img", "odd.img", "q.qcow2", "part-disk",
		"part-swap",
	};
	char cmd[512];

	if (getenv("IMPORT_DIR"))
		src = getenv("IMPORT_DIR");
	if (!mkdtemp(dir))
		return 2;
	/* The agent's loader checks that disk targets exist and scripts are
	 * executable in its script directory. */
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		tap_put(dir, files[i], "");
	snprintf(scripts, sizeof(scripts), "%s/scripts", dir);
	if (mkdir(scripts, 0700) < 0)
		return 2;
	chmod(tap_put(scripts, "vif-bridge", "#!/bin/sh\n"), 0700);
	chmod(tap_put(scripts, "block", "#!/bin/sh\n"), 0700);

	good();
	bad();

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}
