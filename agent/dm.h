/* The device model of an HVM guest: Debian's qemu for Xen, run by the agent
 * as a child of its own, in its own process group, as xl runs it.
 *
 * dm_start writes what the device model and the guest's firmware read
 * (hvmloader/ and platform/ under /local/domain/<domid>, the directory
 * /local/domain/0/device-model/<domid>), execs the device model with its
 * output in <log_dir>/qemu-dm-<name>.log and watches
 * /local/domain/0/device-model/<domid>/state.  It never blocks: the
 * outcome comes back through ready, once -- 0 when the device model
 * reports "running", or an error when it exits first (with its log's last
 * line) or does not report within the timeout (then it is killed).
 *
 * A device model that dies after it was running calls died (the owner
 * makes the guest crash: it cannot run without it).  dm_stop kills the
 * group, removes its nodes and detaches the owner; the run stays listed
 * until the agent reaps it (dm_reap), then is freed. */
#ifndef XSAGENT_DM_H
#define XSAGENT_DM_H

#include <stdbool.h>
#include <sys/types.h>

#include "err.h"
#include "loop.h"
#include "store.h"

struct dm;

/* rc is 0 (running) or a negative errno with err filled. */
typedef void dm_ready_fn(void *arg, int rc, const struct agent_err *err);
/* The device model of domid exited (wait() status; -1 for an adopted one,
 * whose status is not ours to collect) after it was running. */
typedef void dm_died_fn(void *arg, unsigned domid, int status);

/* An emulated NIC: qemu makes the tap ifname (vifD.N-emu), which the vif's
 * hotplug script then puts on the vif's bridge. */
struct dm_nic {
	unsigned devid;			/* N of vif.N */
	const char *model;		/* rtl8139, e1000 */
	const char *mac;		/* the PV vif's MAC: one NIC, two faces */
};

/* An emulated IDE disk: the same image as the PV disk; the guest's PV
 * drivers unplug it (the xen-platform device) before they use theirs. */
struct dm_disk {
	unsigned index;			/* IDE 0..3: hda..hdd */
	const char *target;
};

/* A passed-through PCI device: qemu's xen-pci-passthrough takes the host's
 * device (assigned to the domain before the device model starts, pci.c)
 * and puts it on the guest's PCI bus. */
struct dm_pci {
	const char *bdf;		/* the host's dddd:bb:dd.f */
	bool permissive;		/* config space writes qemu does not know */
};

struct dm_args {
	const char *binary;		/* absolute path */
	const char *log_dir;		/* qemu-dm-<name>.log goes there */
	unsigned domid;
	const char *name;
	/* kernel "": no direct boot (the BIOS boots in boot order); ramdisk
	 * and cmdline may be "". */
	const char *kernel, *ramdisk, *cmdline;
	unsigned mem_mb, vcpus;
	const char *vga;		/* qemu's device (VGA, cirrus-vga) or NULL */
	unsigned video_mb;		/* its memory */
	const char *serial;		/* none, pty, file:PATH */
	const char *boot;		/* the BIOS's boot order, e.g. cda */
	const struct dm_nic *nics;
	unsigned nnics;			/* at most DM_MAX_DEVS */
	const struct dm_disk *disks;
	unsigned ndisks;		/* at most DM_MAX_DEVS */
	bool ahci;			/* the disks on an AHCI controller, not IDE */
	const struct dm_pci *pcis;
	unsigned npcis;			/* at most DM_MAX_DEVS */
	unsigned timeout_s;		/* for "running" */
	dm_ready_fn *ready;
	void *ready_arg;
	dm_died_fn *died;
	void *died_arg;
};

#define DM_MAX_DEVS 8

/* The tap qemu makes for the emulated NIC of vif devid of domid (xl's
 * name for it): out holds at least 16 bytes. */
void dm_tap_name(unsigned domid, unsigned devid, char *out, size_t n);

/* The watch token prefix of the state watches (the agent routes events
 * whose token starts with it to dm_event). */
#define DM_TOKEN "dm/"

/* Start it.  Fails (negative errno, err filled, nothing left running) when
 * the binary is missing, or a node, the log, the watch or the fork is
 * refused; otherwise ready is called later, never from within. */
int dm_start(struct loop *l, struct store *s, const struct dm_args *a,
	     struct dm **dm_r, struct agent_err *err);
/* A watch with token DM_TOKEN<domid> fired. */
void dm_event(const char *token);
/* The agent reaped pid: 1 if it was a device model's, else 0. */
int dm_reap(pid_t pid, int status);
/* Kill it (the group, SIGKILL), remove its nodes, and call nothing any
 * more.  NULL is a no-op. */
void dm_stop(struct dm *dm);
pid_t dm_pid(const struct dm *dm);
/* The device model of domid that no run of this agent knows: one started
 * by an earlier run (the agent was killed, then restarted).  Found by
 * /local/domain/<domid>/image/device-model-pid and checked by its command
 * line (-xen-domid <domid>); killed (its group, SIGKILL) and its
 * device-model/<domid> directory removed.  Returns 1 when one was killed,
 * else 0.  Call it before the domain's nodes go. */
int dm_kill_orphan(struct store *s, unsigned domid);
/* Watch the device model of domid that an earlier run started (found and
 * checked as dm_kill_orphan does), for a domain the agent adopts.  It is
 * not a child of this run: its end comes through a pidfd (Linux 5.3; the
 * process is looked at each second where pidfd_open is missing), and died
 * is called with status -1 (unknown: init collects it).  dm_stop
 * kills it as it kills a child.  -ESRCH (err filled) when none runs: the
 * guest has lost its device model. */
int dm_adopt(struct loop *l, struct store *s, unsigned domid,
	     dm_died_fn *died, void *died_arg, struct dm **dm_r,
	     struct agent_err *err);
/* Device models still listed (not reaped). */
unsigned dm_running(void);
/* The agent is exiting: free every run without killing it (a running
 * guest keeps its device model, as it keeps its domain). */
void dm_forget_all(void);

#endif
