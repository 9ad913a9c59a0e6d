/* The guest types (guest.h). */
#include <errno.h>
#include <stddef.h>
#include <unistd.h>

#include "guest.h"

/* HVM: the builder loads hvmloader and its BIOS; the device model loads
 * the VM's kernel and ramdisk (direct boot). */
static int hvm_build_args(const struct agent_conf *ac, const struct vm_conf *c,
			  struct hv_build_args *a, struct agent_err *err)
{
	(void)c;
	if (access(ac->hvmloader, R_OK) < 0)
		return err_sys(err, errno, "hvmloader %s", ac->hvmloader);
	if (access(ac->seabios, R_OK) < 0)
		return err_sys(err, errno, "BIOS %s", ac->seabios);
	a->kernel = ac->hvmloader;
	a->firmware = ac->seabios;
	a->ramdisk = NULL;
	a->cmdline = NULL;
	a->kernel_cache_out = NULL;
	return 0;
}

unsigned guest_video_mb(const struct vm_conf *c)
{
	if (c->type != VM_TYPE_HVM)
		return 0;
	return c->vga == VGA_STD ? 16 : c->vga == VGA_CIRRUS ? 8 : 0;
}

static const struct guest_type guest_types[] = {
	[VM_TYPE_PV] = { "pv", hv_create_pv, hv_build_pv, NULL, false },
	[VM_TYPE_PVH] = { "pvh", hv_create_pvh, hv_build_pvh, NULL, false },
	[VM_TYPE_HVM] = { "hvm", hv_create_hvm, hv_build_hvm, hvm_build_args,
			  true },
};

const struct guest_type *guest_type(int type)
{
	if (type < 0 || (size_t)type >= sizeof(guest_types) / sizeof(guest_types[0]) ||
	    !guest_types[type].create)
		return NULL;
	return &guest_types[type];
}
