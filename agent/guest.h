/* The guest types as a table: one row per type (conf's "type" key), each
 * with the hooks of the start's two stages that differ by type:
 *
 *   construct  create   the domain, paused, with its limits
 *   init       build    load kernel and ramdisk and set the domain up to
 *                       boot (runs in the builder child)
 *
 * The hooks are the hv layer's per-type entry points; a new type (hvm
 * next) adds a row here and its builder in hv, not branches in start.c. */
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
};

/* The row of type (enum vm_type); NULL for none. */
const struct guest_type *guest_type(int type);

#endif
