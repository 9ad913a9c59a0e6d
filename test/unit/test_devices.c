/* [vif.N] and [vbd.N] sections of VM files: defaults, and every bad value
 * the devices issue names, each with its file:line. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "diag.h"
#include "vm.h"

static char dir[] = "/tmp/xsagent-dev-XXXXXX";
static char scripts[300], disk[300];

static const char *put(const char *name, const char *text)
{
	return tap_put(dir, name, text);
}

#define VM "[vm]\nname = w\nuuid = 00000000-0000-4000-8000-000000000001\nkernel = /k\n"

static struct vm *load(const char *text, struct conf_diag *d)
{
	conf_diag_dispose(d);
	return vm_load_file(put("w.ini", text), scripts, d);
}

int main(void)
{
	struct conf_diag d = { 0 };
	unsigned char mac[6];
	char text[1024];
	struct vm *vm;

	if (!mkdtemp(dir))
		return 2;
	snprintf(scripts, sizeof(scripts), "%s/scripts", dir);
	mkdir(scripts, 0755);
	chmod(put("scripts/block", "#!/bin/sh\n"), 0755);
	chmod(put("scripts/vif-bridge", "#!/bin/sh\n"), 0755);
	put("scripts/noexec", "#!/bin/sh\n");
	snprintf(disk, sizeof(disk), "%s", put("disk.img", "MARKER\n"));

	snprintf(text, sizeof(text), VM "[vif.0]\n[vbd.0]\ntarget = %s\nvdev = xvda\n"
		 "[vif.3]\nmac = 00:16:3e:01:02:03\nbridge = br-test\n", disk);
	vm = load(text, &d);
	ok(vm && vm->valid && d.n == 0, "VM with devices is valid");
	ok(vm->vif_mask == 0x9 && vm->vbd_mask == 0x1, "sections vif.0, vif.3, vbd.0");
	is_str(vm->vif[0].bridge, "xenbr0", "vif bridge default");
	is_str(vm->vif[0].script, "vif-bridge", "vif script default");
	is_str(vm->vif[0].mac, "", "vif mac default: generated later");
	is_str(vm->vif[3].mac, "00:16:3e:01:02:03", "vif mac set");
	ok(vm->vbd[0].mode == VBD_MODE_W, "vbd mode default w");
	is_str(vm->vbd[0].script, "block", "vbd script default");
	ok(conf_vdev_devid("xvda") == 51712 && conf_vdev_devid("xvdb") == 51728 &&
	   conf_vdev_devid("xvdp") == 51952, "vdev numbers (202 << 8 | n << 4)");
	ok(conf_vdev_devid("sda") < 0 && conf_vdev_devid("xvdq") < 0 &&
	   conf_vdev_devid("xvdaa") < 0, "other vdevs refused");
	ok(conf_parse_mac("00:16:3E:aa:bb:cc", mac) == 0 && mac[3] == 0xaa,
	   "MAC parses, either case");
	vm_free(vm);

	snprintf(text, sizeof(text), VM
		 "[vif.0]\nmac = 01:16:3e:00:00:01\n"		/* line 6 */
		 "[vif.1]\nmac = 00:16:3e:00:01\n"		/* line 8 */
		 "[vif.2]\nbridge = a-very-long-bridge-name\n"	/* line 10 */
		 "[vif.4]\nscript = nosuch\n"			/* line 12 */
		 "[vif.5]\nscript = noexec\n"			/* line 14 */
		 "[vif.6]\nscript = ../bin/sh\n"		/* line 16 */
		 "[vbd.0]\ntarget = %s\nvdev = xvda\nmode = rw\n"	/* 18-20 */
		 "[vbd.1]\ntarget = %s\nvdev = xvda\n"		/* 22-23 */
		 "[vbd.2]\ntarget = /nonexistent.img\nvdev = sda\n"	/* 25-26 */
		 "[vbd.3]\ntarget = /proc\nvdev = xvdd\n"	/* 28 */
		 "[vbd.4]\nvdev = xvde\n"
		 "[vbd.9]\ntarget = /x\n"			/* header: line 32 */
		 "[vif.0]\ncolour = red\n",			/* line 35 */
		 disk, disk);
	vm = load(text, &d);
	ok(vm && !vm->valid, "VM with bad devices is invalid");
	ok(has(&d, "w.ini:6: mac: '01:16:3e:00:00:01' is not a unicast MAC"), "multicast MAC");
	ok(has(&d, "w.ini:8: mac: '00:16:3e:00:01' is not a unicast MAC"), "short MAC");
	ok(has(&d, "w.ini:10: bridge: 'a-very-long-bridge-name' is not an interface name"),
	   "bridge name too long");
	ok(has(&d, "w.ini:12: [vif.4] script ") && has(&d, "scripts/nosuch: No such file"),
	   "unknown script");
	ok(has(&d, "w.ini:14: [vif.5] script ") && has(&d, "noexec: Permission denied"),
	   "script not executable");
	ok(has(&d, "w.ini:16: script: '../bin/sh' is not a script name"), "script path refused");
	ok(has(&d, "w.ini:20: mode: 'rw' is not one of the allowed values"), "bad mode");
	ok(has(&d, "w.ini:23: [vbd.1] vdev xvda also used by [vbd.0]"), "duplicate vdev");
	ok(has(&d, "w.ini:25: [vbd.2] target /nonexistent.img: No such file or directory"),
	   "missing disk file");
	ok(has(&d, "w.ini:26: vdev: 'sda' is not xvda .. xvdp"), "bad vdev");
	ok(has(&d, "w.ini:28: [vbd.3] target /proc is neither a file nor a block device"),
	   "directory as disk");
	ok(has(&d, "w.ini: [vbd.4]: missing key 'target'"), "missing target");
	ok(has(&d, "w.ini:32: unknown section [vbd.9]"), "device index out of range");
	ok(has(&d, "w.ini:35: unknown key 'colour' in [vif.0]"), "unknown device key");
	vm_free(vm);
	conf_diag_dispose(&d);

	{
		/* Generated MACs: neighbouring UUIDs (the last byte plus the
		 * vif index was one byte of the MAC) must not collide; a MAC
		 * two files use makes both invalid. */
		char vd[400], m1[18], m2[18];
		struct vm_list l = { 0 };

		snprintf(vd, sizeof(vd), "%s/vms", dir);
		mkdir(vd, 0755);
		put("vms/a.ini", "[vm]\nname = a\nuuid = 00000000-0000-4000-8000-000000000401\n"
		    "kernel = /k\n[vif.0]\n[vif.1]\n");
		put("vms/b.ini", "[vm]\nname = b\nuuid = 00000000-0000-4000-8000-000000000402\n"
		    "kernel = /k\n[vif.0]\n");
		conf_diag_dispose(&d);
		ok(vm_load_dir(vd, scripts, &l, &d) == 0 && l.n == 2 &&
		   l.head->valid && l.head->next->valid,
		   "neighbouring UUIDs: no generated MAC clash");
		vm_vif_mac(l.head, 1, m1);
		vm_vif_mac(l.head->next, 0, m2);
		ok(strcmp(m1, m2) && !strncmp(m1, "00:16:3e:", 9),
		   "a [vif.1] %s, b [vif.0] %s", m1, m2);
		vm_list_dispose(&l);
		snprintf(text, sizeof(text), "[vm]\nname = b\nuuid = 00000000-0000-4000-"
			 "8000-000000000402\nkernel = /k\n[vif.0]\nmac = %s\n", m1);
		put("vms/b.ini", text);
		conf_diag_dispose(&d);
		ok(vm_load_dir(vd, scripts, &l, &d) < 0 && l.n == 2 &&
		   !l.head->valid && !l.head->next->valid,
		   "a MAC used by two files makes both invalid");
		ok(has(&d, "b.ini: [vif.0] MAC ") && has(&d, "also used by"),
		   "and says which");
		vm_list_dispose(&l);
		conf_diag_dispose(&d);
		unlink(put("vms/a.ini", ""));
		unlink(put("vms/b.ini", ""));
		rmdir(vd);
	}

	unlink(put("scripts/block", ""));
	unlink(put("scripts/vif-bridge", ""));
	unlink(put("scripts/noexec", ""));
	rmdir(scripts);
	unlink(disk);
	unlink(put("w.ini", ""));
	rmdir(dir);
	return tap_done();
}
