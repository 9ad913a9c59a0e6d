/* A VM's devices at run time: the vif and vbd backends the agent writes
 * for a domain, the hotplug scripts it runs for them, and their removal.
 *
 *   /local/domain/D/device/<kind>/<devid>      (nD,r0)  the frontend
 *     backend, backend-id, state=1, and
 *       vif: handle, mac       vbd: virtual-device, device-type=disk
 *   /local/domain/0/backend/<kind>/D/<devid>   (n0,rD)  the backend
 *     frontend, frontend-id, online=1, state=1, and
 *       vif: handle, mac, bridge, script
 *       vbd: params, type=phy, mode, dev, script (as libxl: for a remove
 *            after a restart of the agent, see reconcile.c)
 *
 * The frontend goes first: a backend written before its frontend stays in
 * state 1 for ever.  The hotplug script runs once the backend reached
 * InitWait (2): netback makes the vif interface then. */
#ifndef XSAGENT_DEV_H
#define XSAGENT_DEV_H

#include <stdbool.h>

#include "err.h"
#include "hotplug.h"
#include "loop.h"
#include "store.h"
#include "vm.h"

enum dev_kind { DEV_VIF, DEV_VBD };
enum dev_phase { DEV_WRITTEN, DEV_SCRIPT, DEV_STATUS, DEV_CONNECTED,
		 DEV_FAILED };

struct dev {
	enum dev_kind kind;
	unsigned domid;		/* the frontend's domain */
	int index;		/* N of [vif.N] / [vbd.N] */
	int devid;		/* vif: N; vbd: the vdev number */
	char name[32];		/* "vif 0", "vbd xvda": for messages */
	char fe[96], be[128];	/* frontend and backend paths */
	char script[1100];	/* absolute path */
	char mac[18];
	char node[64];		/* what `block add` set up, for a later remove */
	enum dev_phase phase;
	struct hotplug_run *run;
	bool script_ok;		/* the add script exited 0 */
	bool open_wait;		/* vbd: "connected", blkback not open yet */
	/* vif of an HVM guest: its emulated NIC's tap (vifD.N-emu), made by
	 * the device model, put on the vif's bridge by the vif's script run
	 * a second time with type_if=tap (as libxl does). */
	char tap[32];		/* "" for none */
	struct hotplug_run *tap_run;
	bool tap_started, tap_ok;
};

/* The devices of vm for domain domid; *devs_r is malloc'd (NULL, 0 when the
 * VM has none). */
int dev_plan(const struct vm *vm, unsigned domid, const char *script_dir,
	     struct dev **devs_r, unsigned *n_r, struct agent_err *err);
/* Write a device's frontend and backend in one transaction. */
int dev_write(struct store *s, const struct dev *d, unsigned domid,
	      const struct vm *vm, struct agent_err *err);
/* Run the device's hotplug script: up = add (vbd) / online (vif), else
 * remove / offline, with the conventional environment. */
int dev_script(struct loop *l, struct dev *d, bool up, unsigned timeout_s,
	       hotplug_line_fn *line, hotplug_done_fn *done, void *arg,
	       struct hotplug_run **run_r, struct agent_err *err);
/* Run the vif's hotplug script on its tap (d->tap): add, type_if=tap,
 * vif=<tap>.  The script bridges it and writes no hotplug-status (the PV
 * vif's is the backend's).  The tap goes with the device model (qemu
 * closes it), so there is no remove. */
int dev_tap_script(struct loop *l, struct dev *d, unsigned timeout_s,
		   hotplug_line_fn *line, hotplug_done_fn *done, void *arg,
		   struct hotplug_run **run_r, struct agent_err *err);
/* Has the backend driver taken the device?  1 yes (or not known: a vif,
 * or no xen-backend bus in this kernel's sysfs to ask), 0 not yet.  A vbd's
 * script says "connected" once it wrote physical-device; blkback opens
 * that device afterwards, in a thread of its own, and says so only in
 * sysfs (the physical_device attribute of vbd-<domid>-<devid>, made once
 * the open succeeded) or, failing, by Closing its backend.  Without the
 * wait a guest could be unpaused with a disk blkback cannot open. */
int dev_backend_open(const struct dev *d);
/* Where a backend driver reports a device's failure (xenbus_dev_error):
 * dom0's error/ tree under the backend's path,
 * /local/domain/0/error/backend/<kind>/<domid>/<devid>; "/error" below
 * it holds "<errno> <what failed>". */
void dev_error_path(const struct dev *d, char *buf, size_t n);
/* Remove a device's nodes (and its error node); never fails hard. */
void dev_remove_nodes(struct store *s, const struct dev *d);
/* A domain is gone or going: remove its devices' nodes (the backends then
 * close) and run each script's remove/offline in the background, logging
 * under vm_name; frees devs. */
void dev_teardown(struct store *s, struct loop *l, unsigned timeout_s,
		  const char *vm_name, struct dev *devs, unsigned n);

#endif
