/* The guest types (guest.h). */
#include <stddef.h>

#include "guest.h"

static const struct guest_type guest_types[] = {
	[VM_TYPE_PV] = { "pv", hv_create_pv, hv_build_pv },
	[VM_TYPE_PVH] = { "pvh", hv_create_pvh, hv_build_pvh },
};

const struct guest_type *guest_type(int type)
{
	if (type < 0 || (size_t)type >= sizeof(guest_types) / sizeof(guest_types[0]) ||
	    !guest_types[type].create)
		return NULL;
	return &guest_types[type];
}
