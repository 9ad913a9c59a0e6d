/* The guest types as a table: one row per type (conf's "type" key), each
 * with the hooks of the start's stages that differ by type:
 *
 *   construct     create      the domain, paused, with its limits
 *   init          build_args  what the builder loads, when it is not the
 *                             VM's kernel and ramdisk (NULL: those)
 *                 build       load it and set the domain up to boot (runs
 *                             in the builder child)
 *   device-model  device_model  whether the type has one (dm.c); the stage
 *                             runs only for such types
 *
 * The hooks are the hv layer's per-type entry points; a new type adds a
 * row here and its builder in hv, not branches in start.c. */
#ifndef XSAGENT_GUEST_H
#define XSAGENT_GUEST_H

#include "conf.h"
#include "hv.h"

struct guest_type {
	const char *name;
	int (*create)(struct hv *hv, const struct hv_create_args *a,
		      unsigned *domid_r, struct agent_err *err);
	int (*build)(const struct hv_build_args *a, struct hv_build_result *res,
		     struct hv_built **built_r, struct agent_err *err);
	/* Adjust the builder's arguments, filled in for the VM's kernel;
	 * 0 or -errno (a missing file, in plain words). */
	int (*build_args)(const struct agent_conf *ac, const struct vm_conf *c,
			  struct hv_build_args *a, struct agent_err *err);
	bool device_model;
};

/* MiB of video memory the device model adds to an HVM guest with a
 * graphics card (libxl's defaults for qemu-xen: std 16, cirrus 8), on top
 * of the guest's RAM; 0 without one. */
unsigned guest_video_mb(const struct vm_conf *c);

/* The row of type (enum vm_type); NULL for none. */
const struct guest_type *guest_type(int type);

#endif
