/* The config engine: agent settings, VM files, file:line diagnostics. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "diag.h"
#include "conf.h"
#include "vm.h"

static char dir[] = "/tmp/xsagent-unit-XXXXXX";

static const char *put(const char *name, const char *text)
{
	return tap_put(dir, name, text);
}

#define GOOD_VM "[vm]\nname = web1\nuuid = 6B1F3C52-8d0e-4a7b-9e21-3f5c7a9d0b14\n" \
		"kernel = /boot/vmlinuz\nmemory = 256\n"

int main(void)
{
	struct agent_conf c;
	struct conf_diag d = { 0 };
	struct vm *vm;
	char uuid[37];
	const char *p;

	if (!mkdtemp(dir))
		return 2;

	p = put("a.ini", "[agent]\ncontrol_root = /x\ntask_retention = 5\n");
	ok(conf_load_agent(p, &c, &d) == 0 && d.n == 0, "agent file loads");
	is_str(c.control_root, "/x", "control_root set");
	ok(c.task_retention == 5, "task_retention set");
	is_str(c.vm_dir, XSAGENT_SYSCONFDIR "/xsagent/vms", "vm_dir defaulted");
	ok(c.log_level == LOG_LVL_INFO, "log_level defaulted");
	is_str(c.lock_file, "/run/xsagent/xsagent.lock", "lock_file defaulted");
	is_str(c.device_model, "/usr/libexec/xen-qemu-system-i386",
	       "device_model defaulted (Debian's qemu-system-xen)");
	ok(c.dm_timeout == 60, "dm_timeout defaulted");
	conf_dispose(conf_agent_keys, conf_agent_nkeys, &c);

	p = put("b.ini", "[agent]\n; comment\ncolor = red\ntask_max = 0\n"
			 "log_level = loud\ntask_max = 3\n[other]\nx = 1\nnot a pair\n");
	ok(conf_load_agent(p, &c, &d) < 0, "bad agent file refused");
	ok(has(&d, "b.ini:3: unknown key 'color'"), "unknown key with line");
	ok(has(&d, "b.ini:4: task_max: 0 is outside 1..10000"), "range with line");
	ok(has(&d, "b.ini:5: log_level: 'loud' is not one of"), "enum with line");
	ok(has(&d, "b.ini:6: duplicate key 'task_max'"), "duplicate with line");
	ok(has(&d, "b.ini:7: unknown section [other]") ||
	   has(&d, "b.ini:8: unknown section [other]"), "unknown section");
	ok(has(&d, "b.ini:9: syntax error"), "syntax error with line");
	conf_dispose(conf_agent_keys, conf_agent_nkeys, &c);
	conf_diag_dispose(&d);

	/* A refused load leaves nothing to free: main() exits on it without
	 * a dispose (the sanitized agent's `-c /nonexistent` leaked the
	 * defaults and aborted). */
	ok(conf_load_agent("/nonexistent/x.ini", &c, &d) < 0 &&
	   has(&d, "No such file"), "missing file named");
	ok(!c.control_root && !c.vm_dir && !c.script_dir && !c.lock_file,
	   "a refused load holds no strings");
	conf_diag_dispose(&d);

	p = put("web1.ini", GOOD_VM);
	vm = vm_load_file(p, "/nonexistent", &d);
	ok(vm && vm->valid && d.n == 0, "good VM file is valid");
	is_str(vm->name, "web1", "name");
	conf_format_uuid(vm->conf.uuid, uuid);
	is_str(uuid, "6b1f3c52-8d0e-4a7b-9e21-3f5c7a9d0b14", "uuid normalised");
	ok(vm->conf.memory == 256 && vm->conf.vcpus == 1 && vm->conf.maxmem == 0,
	   "memory set, vcpus and maxmem defaulted");
	ok(vm->conf.on_reboot == VM_ACT_RESTART && vm->conf.type == VM_TYPE_PV,
	   "enum defaults");
	ok(vm->conf.autostart == 0, "autostart defaults to no");
	vm_free(vm);

	p = put("auto.ini", GOOD_VM "autostart = yes\n");
	vm = vm_load_file(p, "/nonexistent", &d);
	ok(vm && vm->valid && vm->conf.autostart == 1, "autostart = yes");
	vm_free(vm);
	p = put("hvm.ini", GOOD_VM "type = hvm\n");
	vm = vm_load_file(p, "/nonexistent", &d);
	ok(vm && vm->valid && vm->conf.type == VM_TYPE_HVM, "type = hvm");
	ok(vm->conf.vga == VGA_NONE && !strcmp(vm->conf.serial, "none") &&
	   vm->conf.viridian == 0 && !strcmp(vm->conf.boot, "cda") &&
	   vm->conf.hdtype == HD_IDE,
	   "HVM keys default: vga none, serial none, viridian no, boot cda, hdtype ide");
	vm_free(vm);
	conf_diag_dispose(&d);

	put("vif-bridge", "#!/bin/sh\n");
	{
		char sp[300];

		snprintf(sp, sizeof(sp), "%s/vif-bridge", dir);
		chmod(sp, 0755);
	}
	p = put("hvm2.ini", GOOD_VM "type = hvm\nvga = cirrus\nserial = file:/var/log/s.log\n"
			    "viridian = yes\nboot = dc\nhdtype = ahci\n[vif.0]\nmodel = e1000\n[vif.1]\n");
	vm = vm_load_file(p, dir, &d);
	ok(vm && vm->valid && d.n == 0, "HVM keys set");
	ok(vm->conf.vga == VGA_CIRRUS && vm->conf.viridian == 1 &&
	   !strcmp(vm->conf.serial, "file:/var/log/s.log") &&
	   !strcmp(vm->conf.boot, "dc") && vm->conf.hdtype == HD_AHCI,
	   "vga, serial, viridian, boot, hdtype read");
	ok(!strcmp(conf_nic_models[vm->vif[0].model], "e1000") &&
	   !strcmp(conf_nic_models[vm->vif[1].model], "rtl8139"),
	   "vif model set, and rtl8139 by default (as xl)");
	vm_free(vm);
	conf_diag_dispose(&d);

	p = put("hvm3.ini", GOOD_VM "type = hvm\nvga = vesa\nserial = /dev/ttyS0\n"
			    "viridian = maybe\nboot = cc\nhdtype = scsi\n[vif.0]\nmodel = virtio\n");
	vm = vm_load_file(p, "/nonexistent", &d);
	ok(vm && !vm->valid, "bad HVM keys refused");
	ok(has(&d, "hvm3.ini:7: vga: 'vesa' is not one of"), "vga = vesa refused with its line");
	ok(has(&d, "hvm3.ini:8: serial: '/dev/ttyS0' is not none, pty or file:PATH"),
	   "serial = a host device refused with its line");
	ok(has(&d, "hvm3.ini:9: viridian: 'maybe' is not one of"), "viridian = maybe refused");
	ok(has(&d, "hvm3.ini:10: boot: 'cc' is not a boot order"), "boot = cc refused");
	ok(has(&d, "hvm3.ini:11: hdtype: 'scsi' is not one of"), "hdtype = scsi refused");
	ok(has(&d, "hvm3.ini:13: model: 'virtio' is not one of"), "vif model virtio refused");
	vm_free(vm);
	conf_diag_dispose(&d);

	p = put("hvm4.ini", GOOD_VM "serial = file:relative\nboot = \n");
	vm = vm_load_file(p, "/nonexistent", &d);
	ok(vm && !vm->valid && has(&d, "hvm4.ini:6: serial: 'file:relative'") &&
	   has(&d, "hvm4.ini:7: boot: empty"), "relative serial file and empty boot refused");
	vm_free(vm);
	conf_diag_dispose(&d);

	{
		char text[600];

		snprintf(text, sizeof(text), "[vm]\nname = d\n"
			 "uuid = 6B1F3C52-8d0e-4a7b-9e21-3f5c7a9d0b15\ntype = hvm\n"
			 "[vbd.0]\ntarget = %s/vif-bridge\nvdev = xvda\nscript = vif-bridge\n", dir);
		p = put("hvmdisk.ini", text);
	}
	vm = vm_load_file(p, dir, &d);
	ok(vm && vm->valid && !*vm->conf.kernel,
	   "an HVM VM with a disk needs no kernel (it boots from the disk)");
	vm_free(vm);
	conf_diag_dispose(&d);
	p = put("hvmnodisk.ini", "[vm]\nname = d\nuuid = 6B1F3C52-8d0e-4a7b-9e21-3f5c7a9d0b15\n"
				 "type = hvm\n");
	vm = vm_load_file(p, dir, &d);
	ok(vm && !vm->valid && has(&d, "hvmnodisk.ini: missing key 'kernel' (an HVM guest "
				   "without one boots from a disk, and it has no [vbd.N])"),
	   "an HVM VM with neither a kernel nor a disk refused");
	vm_free(vm);
	conf_diag_dispose(&d);

	p = put("pvvga.ini", GOOD_VM "vga = std\nviridian = no\nhdtype = ahci\n[vif.0]\nmodel = e1000\n");
	vm = vm_load_file(p, dir, &d);
	ok(vm && !vm->valid && has(&d, "pvvga.ini: vga is only for type = hvm") &&
	   has(&d, "pvvga.ini: viridian is only for type = hvm") &&
	   has(&d, "pvvga.ini: hdtype is only for type = hvm") &&
	   has(&d, "pvvga.ini:10: [vif.0] model is only for type = hvm"),
	   "HVM keys in a PV VM refused, each named");
	vm_free(vm);
	conf_diag_dispose(&d);

	p = put("auto2.ini", GOOD_VM "autostart = maybe\n");
	vm = vm_load_file(p, "/nonexistent", &d);
	ok(vm && !vm->valid && has(&d, "auto2.ini:6: autostart: 'maybe' is not one of"),
	   "autostart = maybe refused with its line");
	vm_free(vm);
	conf_diag_dispose(&d);

	p = put("bad.ini", "[vm]\nname = bad vm\nuuid = nope\nmemory = lots\n"
			   "vcpus = 0\nkernel = vmlinuz\ntype = hvm2\non_crash = explode\n"
			   "cmdline = a\tb\n");
	vm = vm_load_file(p, "/nonexistent", &d);
	ok(vm && !vm->valid, "bad VM file is invalid");
	ok(has(&d, "bad.ini:2: name: 'bad vm' is not a name"), "bad name");
	ok(has(&d, "bad.ini:3: uuid: 'nope' is not a UUID"), "bad uuid");
	ok(has(&d, "bad.ini:4: memory: 'lots' is not a whole number"), "bad number");
	ok(has(&d, "bad.ini:5: vcpus: 0 is outside 1..128"), "vcpus range");
	ok(has(&d, "bad.ini:6: kernel: 'vmlinuz' is not an absolute path"),
	   "relative kernel");
	ok(has(&d, "bad.ini:7: type: 'hvm2'"), "unknown type");
	ok(has(&d, "bad.ini:8: on_crash: 'explode'"), "unknown action");
	ok(has(&d, "bad.ini:9: cmdline: not printable"), "control char in cmdline");
	is_str(vm->name, "bad", "an invalid VM is named after its file");
	ok(vm->error && strstr(vm->error, "bad.ini:2:"), "first error kept");
	vm_free(vm);
	conf_diag_dispose(&d);

	p = put("empty.ini", "[vm]\nmemory = 64\n");
	vm = vm_load_file(p, "/nonexistent", &d);
	ok(vm && !vm->valid && has(&d, "empty.ini: missing key 'name'") &&
	   has(&d, "empty.ini: missing key 'uuid'") &&
	   has(&d, "empty.ini: missing key 'kernel'"), "missing required keys named");
	vm_free(vm);
	conf_diag_dispose(&d);

	p = put("cap.ini", GOOD_VM "vcpus = 2\ncap = 201\n");
	vm = vm_load_file(p, "/nonexistent", &d);
	ok(vm && !vm->valid && has(&d, "cap.ini: cap (201) is above 100 x vcpus (200)"),
	   "a cap above the VM's vCPUs refused");
	vm_free(vm);
	conf_diag_dispose(&d);
	p = put("weight.ini", GOOD_VM "cpu_weight = 0\n");
	vm = vm_load_file(p, "/nonexistent", &d);
	ok(vm && !vm->valid && has(&d, "cpu_weight"), "cpu_weight 0 refused");
	vm_free(vm);
	conf_diag_dispose(&d);
	p = put("sched.ini", GOOD_VM "vcpus = 2\ncap = 200\ncpu_weight = 65535\n");
	vm = vm_load_file(p, "/nonexistent", &d);
	ok(vm && vm->valid && vm->conf.cap == 200 && vm->conf.cpu_weight == 65535,
	   "cap 100 x vcpus and cpu_weight 65535 taken");
	vm_free(vm);
	conf_diag_dispose(&d);
	p = put("nosched.ini", GOOD_VM);
	vm = vm_load_file(p, "/nonexistent", &d);
	ok(vm && vm->valid && vm->conf.cap == 0 && vm->conf.cpu_weight == 256,
	   "defaults: cpu_weight 256, no cap");
	vm_free(vm);
	conf_diag_dispose(&d);

	p = put("mm.ini", GOOD_VM "maxmem = 128\n");
	vm = vm_load_file(p, "/nonexistent", &d);
	ok(vm && !vm->valid && has(&d, "maxmem (128) is below memory (256)"),
	   "maxmem below memory refused");
	vm_free(vm);
	conf_diag_dispose(&d);

	{
		char line[3000];

		memset(line, 'a', sizeof(line));
		memcpy(line, "[vm]\ncmdline = ", 15);
		strcpy(line + 2980, "\nname = x\n");
		p = put("long.ini", line);
		vm = vm_load_file(p, "/nonexistent", &d);
		ok(vm && !vm->valid && has(&d, "long.ini:2: line longer than"),
		   "over-long line reported with its line");
		vm_free(vm);
		conf_diag_dispose(&d);
	}

	{
		/* A NUL early in a long line: fgets stopped the line at the
		 * NUL, and the line's tail past 2047 bytes became a line of its
		 * own with a key in it that -n never saw. */
		char buf[2600];
		size_t n = 0;
		FILE *f;
		char path[300];

		size_t start = strlen(GOOD_VM);

		n += (size_t)sprintf(buf, "%s", GOOD_VM "cmdline = x");
		buf[n++] = '\0';
		while (n - start < 2047)	/* what one fgets of 2048 takes */
			buf[n++] = 'y';
		n += (size_t)sprintf(buf + n, "ramdisk = /smuggled\n");
		snprintf(path, sizeof(path), "%s/nul.ini", dir);
		f = fopen(path, "w");
		fwrite(buf, 1, n, f);
		fclose(f);
		vm = vm_load_file(path, "/nonexistent", &d);
		ok(vm && !vm->valid && has(&d, "nul.ini:6: NUL byte in the line"),
		   "a NUL byte in a line is refused with its line number");
		ok(vm && strcmp(vm->conf.ramdisk, "/smuggled"),
		   "and the line's tail is not read as a key");
		vm_free(vm);
		conf_diag_dispose(&d);
		unlink(path);
	}

	unlink(put("a.ini", ""));
	unlink(put("b.ini", ""));
	unlink(put("web1.ini", ""));
	unlink(put("auto.ini", ""));
	unlink(put("auto2.ini", ""));
	unlink(put("bad.ini", ""));
	unlink(put("mm.ini", ""));
	unlink(put("empty.ini", ""));
	unlink(put("long.ini", ""));
	rmdir(dir);
	return tap_done();
}
