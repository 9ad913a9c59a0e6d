/* The start pipeline.
 *
 * xend started a VM in six stages, each owning a slice of the progress
 * (XendDomainInfo.start):
 *
 *   construct     0-30   create the domain (paused), its limits and its
 *                        /local/domain/<domid> directory
 *   init         31-60   event channels, kernel and ramdisk loaded by
 *                        libxenguest, console/store rings published and
 *                        the domain introduced to xenstored
 *   store-vm     61-70   /vm/<uuid>
 *   store-domain 71-80   memory and cpu nodes under /local/domain/<domid>
 *   watches      81-90   ~/control/shutdown
 *   refresh      91-100  the hypervisor's view of the new domain
 *
 * then waited for the devices (waitForDevices) and unpaused it.  Here the
 * wait is a stage too, "devices", run only for a VM that has some: each
 * backend must reach InitWait, its hotplug script must run and
 * hotplug-status must say connected.  Here each stage is a row of stages[]: run() either
 * finishes (0), fails (negative errno, with st->err filled), or returns
 * STAGE_WAIT after handing slow work to a child process or a timer; the
 * loop calls back into the driver when that work reports.  A failure undoes
 * every stage reached, in reverse, so nothing is left behind: no domain, no
 * /local/domain/<domid>, no /vm/<uuid>.
 *
 * An HVM guest's device model (dm.c) is a stage of its own, "device-model",
 * run only for types that have one (guest.h): it starts the device model
 * and waits, without blocking, for it to report running.  A running VM
 * keeps it (vm->dm) until its domain ends (refresh_end_domain).
 *
 * PCI devices ([pci.N], pci.c) are a stage of their own, "pci", run only
 * for a VM that has some: the checks, the pciback backend, the grants and
 * the IOMMU assignment, then a wait (watch) until pciback has exported the
 * devices (backend state Initialised, 3; Connected, 4, needs the guest's
 * pcifront and so the unpause).  An HVM guest's have no backend: the stage
 * ends at the assignment, and the device model's stage, after it, puts
 * them on the guest's bus.  Its undo deassigns and releases them.
 *
 * Only the driver (stage_fail) logs and publishes an error.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "dev.h"
#include "dm.h"
#include "domtree.h"
#include "guest.h"
#include "hotplug.h"
#include "kcache.h"
#include "log.h"
#include "pci.h"
#include "start.h"

#define STAGE_WAIT 1

struct start;
struct stage {
	const char *name;
	unsigned lo, hi;
	int (*run)(struct core *co, struct start *st);
	void (*undo)(struct core *co, struct start *st);
	bool (*needed)(const struct start *st);	/* NULL: always */
};

struct build_msg {
	int rc;
	uint64_t build_ms;		/* as the child measured it */
	struct agent_err err;
	struct hv_build_result res;
};

struct start {
	struct core *co;
	struct task *t;
	struct vm *vm;
	const struct guest_type *type;	/* its construct and init hooks */
	int stage;			/* index into stages[] being run */
	bool held;			/* the test hook held this stage once */
	char uuid[37];
	int domid;			/* -1 until created */
	unsigned store_port, console_port;
	pid_t child;			/* builder, 0 when none */
	bool build_waiting;		/* init waits for a builder slot */
	int child_fd;			/* -1 when none */
	struct loop_timer timer;	/* builder timeout or test hold */
	bool watching;
	struct dev *devs;		/* planned and written in init */
	unsigned ndevs;
	bool dev_watching;
	char dev_token[96];
	struct loop_timer dev_poll;	/* a vbd waits for blkback's open */
	struct dm *dm;			/* the device model, when started */
	struct pci_set *pci;		/* PCI devices, attached by stage pci */
	bool pci_watching;
	uint64_t stage_t0;
	uint64_t stage_ms[10];
	uint64_t build_ms;
	uint64_t reserved_kb;		/* counted in co->reserved_kb until built */
	struct agent_err err;
};

static int construct_run(struct core *co, struct start *st);
static void construct_undo(struct core *co, struct start *st);
static int init_run(struct core *co, struct start *st);
static void init_undo(struct core *co, struct start *st);
static int store_vm_run(struct core *co, struct start *st);
static void store_vm_undo(struct core *co, struct start *st);
static int store_domain_run(struct core *co, struct start *st);
static int watches_run(struct core *co, struct start *st);
static void watches_undo(struct core *co, struct start *st);
static int refresh_run(struct core *co, struct start *st);
static int devices_run(struct core *co, struct start *st);
static void devices_undo(struct core *co, struct start *st);
static bool devices_needed(const struct start *st);
static int dm_stage_run(struct core *co, struct start *st);
static void dm_stage_undo(struct core *co, struct start *st);
static bool dm_stage_needed(const struct start *st);
static int pci_stage_run(struct core *co, struct start *st);
static void pci_stage_undo(struct core *co, struct start *st);
static bool pci_stage_needed(const struct start *st);

static const struct stage stages[] = {
	{ "construct", 0, 30, construct_run, construct_undo, NULL },
	{ "init", 31, 60, init_run, init_undo, NULL },
	{ "store-vm", 61, 70, store_vm_run, store_vm_undo, NULL },
	{ "store-domain", 71, 80, store_domain_run, NULL, NULL },
	{ "watches", 81, 90, watches_run, watches_undo, NULL },
	{ "refresh", 91, 100, refresh_run, NULL, NULL },
	{ "pci", 91, 100, pci_stage_run, pci_stage_undo, pci_stage_needed },
	{ "device-model", 91, 100, dm_stage_run, dm_stage_undo, dm_stage_needed },
	{ "devices", 91, 100, devices_run, devices_undo, devices_needed },
};
#define NSTAGES ((int)(sizeof(stages) / sizeof(stages[0])))

static void stage_next(struct core *co, struct start *st);
static void stage_fail(struct core *co, struct start *st);

/* ---- construct ---------------------------------------------------------- */

static int construct_run(struct core *co, struct start *st)
{
	const struct vm_conf *c = &st->vm->conf;
	/* The device model allocates a graphics card's video memory from the
	 * domain: it comes on top of the guest's RAM, in the ceiling and in
	 * what the host must have free. */
	uint64_t video_kb = (uint64_t)guest_video_mb(c) * 1024;
	struct hv_create_args args = {
		.vcpus = (unsigned)c->vcpus,
		.maxmem_kb = (uint64_t)(c->maxmem ? c->maxmem : c->memory) * 1024 +
			     video_kb,
		.tsc_mode = c->tsc_mode,
		.rtc_offset = (long)c->rtc_timeoffset,
		.viridian = c->type == VM_TYPE_HVM && c->viridian,
		.weight = (unsigned)c->cpu_weight,
		.cap = (unsigned)c->cap,
		.passthrough = st->vm->pci_mask != 0,
	};
	uint64_t free_kb;
	unsigned domid;
	int rc;

	/* Refuse before creating anything: Xen would fail half-way through
	 * populating memory with a less helpful message. */
	if ((rc = hv_free_kb(co->hv, &free_kb, &st->err)) < 0)
		return rc;
	/* Starts run side by side: memory the builders of other starts are
	 * about to populate is not free. */
	free_kb = free_kb > co->reserved_kb ? free_kb - co->reserved_kb : 0;
	if ((uint64_t)c->memory * 1024 + video_kb > free_kb)
		return err_set(&st->err, ENOMEM,
			       "%s needs %llu MiB but the host has %llu MiB free",
			       st->vm->name,
			       (unsigned long long)(c->memory + video_kb / 1024),
			       (unsigned long long)(free_kb / 1024));
	st->reserved_kb = (uint64_t)c->memory * 1024 + video_kb;
	co->reserved_kb += st->reserved_kb;
	memcpy(args.uuid, c->uuid, 16);
	if ((rc = st->type->create(co->hv, &args, &domid, &st->err)) < 0)
		return rc;
	st->domid = (int)domid;
	st->vm->domid = st->domid;
	task_put(st->t, "domid", "%u", domid);
	return domtree_make(co->store, domid, st->vm->name, st->uuid, &st->err);
}

static void construct_undo(struct core *co, struct start *st)
{
	struct agent_err e;

	if (st->domid < 0)
		return;
	if (hv_destroy(co->hv, (unsigned)st->domid, &e) < 0)
		log_error("task %s: rollback: %s", st->t->id, e.msg);
	if (domtree_remove(co->store, st->domid, NULL, &e) < 0)
		log_error("task %s: rollback: %s", st->t->id, e.msg);
	st->vm->domid = -1;
	st->domid = -1;
}

/* ---- init: the builder runs in a child ---------------------------------- */

/* What the builder child gets (a copy, by fork). */
struct build_job {
	const struct guest_type *type;
	struct hv_build_args args;
};

static int build_child(void *arg, int fd)
{
	const struct build_job *job = arg;
	const struct hv_build_args *args = &job->args;
	struct hv_built *built = NULL;
	struct build_msg msg = { 0 };

	uint64_t t0 = loop_now_ms();

	msg.rc = job->type->build(args, &msg.res, &built, &msg.err);
	msg.build_ms = loop_now_ms() - t0;
	/* Report first: keeping the decompressed kernel and releasing the
	 * builder's mappings take a while and the parent need not wait. */
	child_write_all(fd, &msg, sizeof(msg));
	close(fd);
	if (built && args->kernel_cache_out) {
		struct agent_err e;
		int src = kcache_prepare(args->kernel_cache_out);

		err_clear(&e);
		if (src < 0)
			log_warn("kernel cache %s: %s", args->kernel_cache_out, strerror(-src));
		else if ((src = hv_built_save_kernel(built, &e)) == 1)
			kcache_prune(args->kernel_cache_out);
		else if (src < 0)
			log_warn("%s", e.msg);
		else
			log_warn("kernel cache %s: nothing to keep (the builder did not "
				 "decompress the kernel)", args->kernel_cache_out);
	}
	hv_built_release(built);
	return msg.rc ? 1 : 0;
}

static void child_stop(struct core *co, struct start *st)
{
	if (st->child_fd >= 0) {
		loop_del(co->loop, st->child_fd);
		close(st->child_fd);
		st->child_fd = -1;
	}
	loop_timer_disarm(co->loop, &st->timer);
}

static void build_reported(void *arg, int fd, short revents)
{
	struct start *st = arg;
	struct core *co = st->co;
	struct build_msg msg;
	ssize_t n;
	int rc;

	(void)revents;
	n = read(fd, &msg, sizeof(msg));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	child_stop(co, st);
	co->reserved_kb -= st->reserved_kb;	/* populated now, or never */
	st->reserved_kb = 0;
	if (n != (ssize_t)sizeof(msg)) {
		/* The child died before reporting (killed, or crashed). */
		err_set(&st->err, EIO, "domain builder exited without a result");
		stage_fail(co, st);
		return;
	}
	st->build_ms = msg.build_ms;
	if (msg.rc < 0) {
		st->err = msg.err;
		stage_fail(co, st);
		return;
	}
	/* Console nodes go in before the introduce: xenconsoled reads them
	 * when @introduceDomain fires and would otherwise read again. */
	rc = domtree_rings(co->store, (unsigned)st->domid, st->console_port,
			   msg.res.console_mfn, st->store_port,
			   msg.res.store_mfn, &st->err);
	if (!rc)
		rc = store_introduce(co->store, (unsigned)st->domid,
				     (unsigned long)msg.res.store_mfn,
				     st->store_port, &st->err);
	/* Devices, as xend wrote them in init: frontend and backend nodes;
	 * the devices stage waits for them. */
	if (!rc)
		rc = dev_plan(st->vm, (unsigned)st->domid, co->conf->script_dir,
			      &st->devs, &st->ndevs, &st->err);
	for (unsigned i = 0; !rc && i < st->ndevs; i++)
		rc = dev_write(co->store, &st->devs[i], (unsigned)st->domid, st->vm,
			       &st->err);
	if (rc < 0) {
		stage_fail(co, st);
		return;
	}
	stage_next(co, st);
}

static void build_timeout(void *arg)
{
	struct start *st = arg;

	if (st->child > 0)
		kill(st->child, SIGKILL);
	child_stop(st->co, st);
	err_set(&st->err, ETIMEDOUT, "domain builder timed out after %lld s",
		st->co->conf->build_timeout);
	stage_fail(st->co, st);
}

static int init_run(struct core *co, struct start *st)
{
	const struct vm_conf *c = &st->vm->conf;
	char use[1100], fill[1100];
	struct build_job job = { .type = st->type };
	struct hv_build_args args = {
		.domid = (unsigned)st->domid,
		.kernel = use,
		.kernel_cache_out = fill,
		.ramdisk = *c->ramdisk ? c->ramdisk : NULL,
		.cmdline = c->cmdline,
		.mem_mb = (unsigned)c->memory,
		.vcpus = (unsigned)c->vcpus,
	};
	int rc;

	/* Too many builders at once exhaust dom0's memory (seen: 50 starts
	 * at once, the OOM killer took builders and xenstored): wait for a
	 * slot; build_wake runs this stage again when a builder is reaped. */
	if (co->nbuilders >= (unsigned)co->conf->build_max) {
		if (!st->build_waiting)
			log_debug("task %s: waiting for a domain builder (%u running)",
				  st->t->id, co->nbuilders);
		st->build_waiting = true;
		return STAGE_WAIT;
	}
	st->build_waiting = false;
	/* Say which file is wrong in plain words before libxenguest does. */
	if (*c->kernel && access(c->kernel, R_OK) < 0)
		return err_sys(&st->err, errno, "kernel %s", c->kernel);
	if (*c->kernel && *c->ramdisk && access(c->ramdisk, R_OK) < 0)
		return err_sys(&st->err, errno, "ramdisk %s", c->ramdisk);
	use[0] = fill[0] = '\0';
	if (*c->kernel)	/* none: an HVM guest that boots from its disk */
		kcache_lookup(co->conf->kernel_cache, c->kernel, use, sizeof(use),
			      fill, sizeof(fill));
	if (!*fill)
		args.kernel_cache_out = NULL;
	if (st->type->build_args &&
	    (rc = st->type->build_args(co->conf, c, &args, &st->err)) < 0)
		return rc;
	log_info("task %s: %s %s%s", st->t->id, st->type->build_args ?
		 "builder loads" : "kernel", args.kernel,
		 args.kernel_cache_out ? " (decompressed copy will be cached)" : "");
	if ((rc = hv_evtchn_alloc(co->hv, (unsigned)st->domid, &st->store_port,
				  &st->err)) < 0 ||
	    (rc = hv_evtchn_alloc(co->hv, (unsigned)st->domid,
				  &st->console_port, &st->err)) < 0)
		return rc;
	args.store_port = st->store_port;
	args.console_port = st->console_port;
	/* fork() gives the child its own copy of the job. */
	job.args = args;
	rc = child_fork(build_child, &job, &st->child, &st->child_fd, &st->err);
	if (rc < 0)
		return rc;
	co->builders[co->nbuilders++] = st->child;
	if ((rc = loop_add(co->loop, st->child_fd, build_reported, st)) < 0) {
		kill(st->child, SIGKILL);
		child_stop(co, st);
		return err_sys(&st->err, -rc, "watch the domain builder");
	}
	loop_timer_init(&st->timer, build_timeout, st);
	loop_timer_arm(co->loop, &st->timer,
		       loop_now_ms() + (uint64_t)co->conf->build_timeout * 1000);
	return STAGE_WAIT;
}

static void init_undo(struct core *co, struct start *st)
{
	st->build_waiting = false;
	/* The domain goes with construct's undo; a builder still running must
	 * die first so that nothing maps the domain's memory any more. */
	if (st->child > 0 && st->child_fd >= 0)
		kill(st->child, SIGKILL);
	child_stop(co, st);
	core_devices_teardown(co, st->vm->name, st->devs, st->ndevs);
	st->devs = NULL;
	st->ndevs = 0;
}

/* ---- store-vm, store-domain, watches, refresh ---------------------------- */

static int store_vm_run(struct core *co, struct start *st)
{
	return domtree_vm_details(co->store, &st->vm->conf, st->uuid, &st->err);
}

static void store_vm_undo(struct core *co, struct start *st)
{
	struct agent_err e;

	if (domtree_remove(co->store, -1, st->uuid, &e) < 0)
		log_error("task %s: rollback: %s", st->t->id, e.msg);
}

static int store_domain_run(struct core *co, struct start *st)
{
	return domtree_dom_details(co->store, (unsigned)st->domid, &st->vm->conf,
				   &st->err);
}

/* xend watched ~/control/shutdown to time a guest's response to a
 * shutdown request.  The watch belongs to the VM, not the task: it lives as
 * long as the domain (the agent drops it when the domain goes). */
static int watches_run(struct core *co, struct start *st)
{
	int rc = domtree_watch_shutdown(co->store, st->vm, true, &st->err);

	st->watching = !rc;
	return rc;
}

static void watches_undo(struct core *co, struct start *st)
{
	struct agent_err e;

	if (st->watching)
		domtree_watch_shutdown(co->store, st->vm, false, &e);
	st->watching = false;
}

static int refresh_run(struct core *co, struct start *st)
{
	struct hv_dominfo info;
	int rc;

	rc = hv_getinfo(co->hv, (unsigned)st->domid, &info, &st->err);
	if (rc == -ENOENT)
		return err_set(&st->err, ESRCH, "domain %d vanished during the start",
			       st->domid);
	if (rc < 0)
		return rc;
	if (info.dying || info.shutdown)
		return err_set(&st->err, ESRCH, "domain %d %s during the start",
			       st->domid, info.dying ? "is dying" :
			       hv_shutdown_names[info.shutdown_reason % 6]);
	return 0;
}

/* ---- device-model ---------------------------------------------------------- */

static bool dm_stage_needed(const struct start *st)
{
	return st->type->device_model;
}

static void dm_ready(void *arg, int rc, const struct agent_err *err)
{
	struct start *st = arg;

	if (rc < 0) {
		st->err = *err;
		stage_fail(st->co, st);
		return;
	}
	stage_next(st->co, st);
}

static int dm_stage_run(struct core *co, struct start *st)
{
	static const char *const vga_devices[] = {
		[VGA_NONE] = NULL, [VGA_STD] = "VGA", [VGA_CIRRUS] = "cirrus-vga",
	};
	const struct vm *vm = st->vm;
	const struct vm_conf *c = &vm->conf;
	struct dm_nic nics[DM_MAX_DEVS];
	struct dm_disk disks[DM_MAX_DEVS];
	struct dm_pci pcis[DM_MAX_DEVS];
	char macs[DM_MAX_DEVS][18];
	unsigned nnics = 0, ndisks = 0, npcis = 0;

	/* Every vif gets an emulated NIC with its MAC; a writable disk
	 * xvda..xvdd gets an IDE disk hda..hdd (libxl emulates the first four
	 * and no read-only IDE disk; the rest are PV only). */
	for (int i = 0; i < VM_MAX_DEVS && i < DM_MAX_DEVS; i++) {
		if (vm->vif_mask & 1u << i) {
			vm_vif_mac(vm, i, macs[nnics]);
			nics[nnics] = (struct dm_nic){ .devid = (unsigned)i,
				.model = conf_nic_models[vm->vif[i].model],
				.mac = macs[nnics] };
			nnics++;
		}
		if (vm->vbd_mask & 1u << i) {
			int idx = (conf_vdev_devid(vm->vbd[i].vdev) >> 4) & 0xf;

			if (idx < 4 && vm->vbd[i].mode == VBD_MODE_W)
				disks[ndisks++] = (struct dm_disk){
					.index = (unsigned)idx, .target = vm->vbd[i].target };
		}
	}
	/* The PCI devices stage pci assigned to the domain. */
	for (unsigned i = 0; st->pci && i < st->pci->n && i < DM_MAX_DEVS; i++)
		pcis[npcis++] = (struct dm_pci){ .bdf = st->pci->dev[i].bdf,
			.permissive = st->pci->dev[i].permissive };
	struct dm_args a = {
		.binary = co->conf->device_model,
		.log_dir = co->conf->dm_log_dir,
		.domid = (unsigned)st->domid,
		.name = st->vm->name,
		.kernel = c->kernel,
		.ramdisk = c->ramdisk,
		.cmdline = c->cmdline,
		.mem_mb = (unsigned)(c->maxmem ? c->maxmem : c->memory),
		.vcpus = (unsigned)c->vcpus,
		.vga = vga_devices[c->vga],
		.video_mb = guest_video_mb(c),
		.serial = c->serial,
		.boot = c->boot,
		.nics = nics,
		.nnics = nnics,
		.disks = disks,
		.ndisks = ndisks,
		.ahci = c->hdtype == HD_AHCI,
		.pcis = pcis,
		.npcis = npcis,
		.timeout_s = (unsigned)co->conf->dm_timeout,
		.ready = dm_ready,
		.ready_arg = st,
		.died = core_dm_died,
		.died_arg = co,
	};
	int rc = dm_start(co->loop, co->store, &a, &st->dm, &st->err);

	return rc < 0 ? rc : STAGE_WAIT;
}

static void dm_stage_undo(struct core *co, struct start *st)
{
	(void)co;
	dm_stop(st->dm);
	st->dm = NULL;
}

/* ---- pci: passthrough devices (pci.c) ----------------------------------------- */

static bool pci_stage_needed(const struct start *st)
{
	return st->vm->pci_mask != 0;
}

/* pci_attach's holder: a running VM, or another start in flight, that has
 * the device. */
static const char *pci_holder(void *arg, const char *bdf)
{
	struct start *st = arg;

	for (struct vm *vm = st->co->vms.head; vm; vm = vm->next)
		if (vm != st->vm && pci_set_has(vm->pci_set, bdf))
			return vm->name;
	for (struct task *t = st->co->tasks.head; t; t = t->next)
		if (t->start && t->start != st && pci_set_has(t->start->pci, bdf))
			return t->start->vm->name;
	return NULL;
}

static void pci_publish(struct start *st, const char *what)
{
	for (unsigned i = 0; st->pci && i < st->pci->n; i++) {
		char key[32];

		/* [pci.N]'s N: a BDF's ':' and '.' are no node names. */
		snprintf(key, sizeof(key), "devices/pci-%d", st->pci->dev[i].index);
		task_put(st->t, key, "%s", what);
	}
}

static void pci_check(struct core *co, struct start *st)
{
	int rc = pci_ready(co->store, st->pci, &st->err);

	if (rc == 0)
		return;
	pci_publish(st, rc > 0 ? "connected" : "failed");
	if (rc < 0) {
		stage_fail(co, st);
		return;
	}
	loop_timer_disarm(co->loop, &st->timer);
	store_unwatch(co->store, st->pci->be, st->dev_token);
	st->pci_watching = false;
	stage_next(co, st);
}

static void pci_timeout(void *arg)
{
	struct start *st = arg;

	pci_publish(st, "failed");
	err_set(&st->err, ETIMEDOUT, "pci backend of %s did not export the devices "
		"within %lld s (is xen-pciback loaded?)", st->vm->name,
		st->co->conf->hotplug_timeout);
	stage_fail(st->co, st);
}

static int pci_stage_run(struct core *co, struct start *st)
{
	int rc;

	if ((rc = pci_plan(st->vm, (unsigned)st->domid, &st->pci, &st->err)) < 0)
		return rc;
	pci_publish(st, "attaching");
	if ((rc = pci_attach(co->hv, co->store, st->pci, pci_holder, st, &st->err)) < 0) {
		pci_publish(st, "failed");
		return rc;
	}
	/* An HVM guest's devices have no backend to wait for: the device
	 * model (the next stage) takes them, and they are its. */
	if (st->pci->hvm) {
		pci_publish(st, "assigned");
		return 0;
	}
	snprintf(st->dev_token, sizeof(st->dev_token), "dev/%s", st->t->id);
	if ((rc = store_watch(co->store, st->pci->be, st->dev_token, &st->err)) < 0)
		return rc;
	st->pci_watching = true;
	pci_publish(st, "waiting");
	loop_timer_init(&st->timer, pci_timeout, st);
	loop_timer_arm(co->loop, &st->timer,
		       loop_now_ms() + (uint64_t)co->conf->hotplug_timeout * 1000);
	return STAGE_WAIT;	/* the watch fires at once: pci_check */
}

static void pci_stage_undo(struct core *co, struct start *st)
{
	loop_timer_disarm(co->loop, &st->timer);
	if (st->pci_watching)
		store_unwatch(co->store, st->pci->be, st->dev_token);
	st->pci_watching = false;
	pci_detach(co->hv, co->store, st->pci);
	st->pci = NULL;
}

/* ---- devices: xend's waitForDevices --------------------------------------- */

static bool devices_needed(const struct start *st)
{
	return st->ndevs > 0;
}

static void dev_publish(struct start *st, const struct dev *d,
			const char *what)
{
	char key[64];

	snprintf(key, sizeof(key), "devices/%s-%s",
		 d->kind == DEV_VIF ? "vif" : "vbd", strchr(d->name, ' ') + 1);
	task_put(st->t, key, "%s", what);
}

/* Read backend key of d into buf ("" when absent). */
static void be_read(struct core *co, const struct dev *d, const char *key,
		    char *buf, size_t n)
{
	char p[200];

	snprintf(p, sizeof(p), "%s/%s", d->be, key);
	store_read_str(co->store, STORE_NOTX, p, buf, n);
}

static void devices_fail(struct core *co, struct start *st, const struct dev *d,
			 const char *fmt, const char *detail)
{
	char msg[200];

	snprintf(msg, sizeof(msg), fmt, detail);
	err_set(&st->err, EIO, "%s of %s: %s", d->name, st->vm->name, msg);
	dev_publish(st, d, "failed");
	stage_fail(co, st);
}

/* The backend's XenbusState as its driver wrote it; 0 (Unknown) when it is
 * absent or not a number of 0-8. */
static int be_state(struct core *co, const struct dev *d)
{
	char state[16], *end;
	long v;

	be_read(co, d, "state", state, sizeof(state));
	v = strtol(state, &end, 10);
	return end == state || *end || v < 0 || v > 8 ? 0 : (int)v;
}

/* Closing (5) or Closed (6) while the guest is still paused: the driver
 * gave the device up (blkback cannot open what the script set up, say).
 * Its reason is where xenbus_dev_error puts it, dom0's error/ tree under
 * the backend's path.  Without this a vbd whose script wrote "connected"
 * would count as connected, dead. */
static bool be_closed(struct core *co, struct start *st, const struct dev *d,
		      int state)
{
	char p[240], e[160], why[200], *text;
	long num;

	if (state != 5 && state != 6)
		return false;
	dev_error_path(d, p, sizeof(p));
	strncat(p, "/error", sizeof(p) - strlen(p) - 1);
	store_read_str(co->store, STORE_NOTX, p, e, sizeof(e));
	/* "<errno> <what failed>": the errno as words. */
	num = strtol(e, &text, 10);
	if (text != e && *text == ' ' && num > 0 && num < 4096)
		snprintf(why, sizeof(why), "the backend driver closed it (state %d): "
			 "%s: %s", state, text + 1, strerror((int)num));
	else
		snprintf(why, sizeof(why), "the backend driver closed it (state %d): %s",
			 state, *e ? e : "no error given");
	devices_fail(co, st, d, "%s", why);
	return true;
}

static void devices_check(struct core *co, struct start *st);

static void dev_script_line(void *arg, const char *line)
{
	struct dev *d = arg;

	log_info("%s: hotplug: %s", d->name, line);
}

/* hotplug_done_fn gets one pointer: find the start the device is in. */
static struct start *dev_owner(struct core *co, const struct dev *d)
{
	for (struct task *t = co->tasks.head; t; t = t->next)
		if (t->start && t->start->devs && d >= t->start->devs &&
		    d < t->start->devs + t->start->ndevs)
			return t->start;
	return NULL;
}

static struct core *dev_core;	/* the one core (for script callbacks) */

static void dev_script_done(void *arg, int status, const char *last)
{
	struct dev *d = arg;
	struct core *co = dev_core;
	struct start *st = dev_owner(co, d);
	char hs[32], he[160];

	d->run = NULL;
	if (!st)
		return;
	be_read(co, d, "hotplug-status", hs, sizeof(hs));
	be_read(co, d, "hotplug-error", he, sizeof(he));
	if (status == -ETIMEDOUT) {
		char t[32];

		snprintf(t, sizeof(t), "%lld", co->conf->hotplug_timeout);
		devices_fail(co, st, d, "hotplug script timed out after %s s", t);
		return;
	}
	/* The status decides, even when the script exited 0 (xl then wrongly
	 * reports success). */
	if (!strcmp(hs, "error") || !strcmp(hs, "busy")) {
		devices_fail(co, st, d, !strcmp(hs, "busy") ? "busy: %s" : "%s",
			     *he ? he : "hotplug-status is error");
		return;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		char why[200];

		snprintf(why, sizeof(why), "hotplug script failed (status %d): %s",
			 WIFEXITED(status) ? WEXITSTATUS(status) : status,
			 *he ? he : *last ? last : "no message");
		devices_fail(co, st, d, "%s", why);
		return;
	}
	d->script_ok = true;
	if (d->kind == DEV_VBD)
		be_read(co, d, "node", d->node, sizeof(d->node));
	d->phase = DEV_STATUS;
	devices_check(co, st);
}

static void tap_script_line(void *arg, const char *line)
{
	struct dev *d = arg;

	log_info("%s: hotplug (%s): %s", d->name, d->tap, line);
}

/* The vif's script on the emulated NIC's tap ended. */
static void tap_script_done(void *arg, int status, const char *last)
{
	struct dev *d = arg;
	struct core *co = dev_core;
	struct start *st = dev_owner(co, d);
	char why[300], he[160];

	d->tap_run = NULL;
	if (!st)
		return;
	if (status == -ETIMEDOUT) {
		snprintf(why, sizeof(why), "emulated NIC %s: hotplug script timed "
			 "out after %lld s", d->tap, co->conf->hotplug_timeout);
		devices_fail(co, st, d, "%s", why);
		return;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		be_read(co, d, "hotplug-error", he, sizeof(he));
		snprintf(why, sizeof(why), "emulated NIC %s: hotplug script failed "
			 "(status %d): %s", d->tap,
			 WIFEXITED(status) ? WEXITSTATUS(status) : status,
			 *he ? he : *last ? last : "no message");
		devices_fail(co, st, d, "%s", why);
		return;
	}
	d->tap_ok = true;
	devices_check(co, st);
}

static void devices_poll(void *arg)
{
	struct start *st = arg;

	devices_check(st->co, st);
}

/* Move every device on as far as the store says it can go. */
static void devices_check(struct core *co, struct start *st)
{
	unsigned connected = 0;
	bool poll = false;

	for (unsigned i = 0; i < st->ndevs; i++) {
		struct dev *d = &st->devs[i];
		char hs[32];

		/* The device model is running (its stage came first): its tap
		 * is there to bridge, beside the PV vif's own script. */
		if (d->tap[0] && !d->tap_started) {
			if (dev_tap_script(co->loop, d,
					   (unsigned)co->conf->hotplug_timeout,
					   tap_script_line, tap_script_done, d,
					   &d->tap_run, &st->err) < 0) {
				err_prefix(&st->err, "%s of %s: ", d->name, st->vm->name);
				stage_fail(co, st);
				return;
			}
			d->tap_started = true;
		}
		if (d->phase == DEV_WRITTEN) {
			int bs = be_state(co, d);

			if (be_closed(co, st, d, bs))
				return;
			if (bs >= 2) {
				if (dev_script(co->loop, d, true,
					       (unsigned)co->conf->hotplug_timeout,
					       dev_script_line, dev_script_done, d,
					       &d->run, &st->err) < 0) {
					err_prefix(&st->err, "%s of %s: ", d->name, st->vm->name);
					stage_fail(co, st);
					return;
				}
				d->phase = DEV_SCRIPT;
				dev_publish(st, d, "script");
			}
		}
		if (d->phase == DEV_STATUS) {
			int bs = be_state(co, d);

			if (be_closed(co, st, d, bs))
				return;
			be_read(co, d, "hotplug-status", hs, sizeof(hs));
			/* netback (Linux 6.1) keeps hotplug-status; older ones
			 * deleted it right after reading: Connected (4) says the
			 * same. */
			bool up = !strcmp(hs, "connected") ||
				  (d->kind == DEV_VIF && bs == 4);

			d->open_wait = up && !dev_backend_open(d);
			if (up && !d->open_wait) {
				d->phase = DEV_CONNECTED;
				dev_publish(st, d, "connected");
			} else if (d->open_wait) {
				/* blkback tells only sysfs: look again soon
				 * (a failure comes as Closing, by the watch). */
				poll = true;
			} else if (!strcmp(hs, "error") || !strcmp(hs, "busy")) {
				char he[160];

				be_read(co, d, "hotplug-error", he, sizeof(he));
				devices_fail(co, st, d, "%s", *he ? he : hs);
				return;
			}
		}
		connected += d->phase == DEV_CONNECTED && (!d->tap[0] || d->tap_ok);
	}
	if (connected == st->ndevs) {
		devices_undo(co, st);	/* drop the watches and the timers */
		stage_next(co, st);
	} else if (poll) {
		loop_timer_arm(co->loop, &st->dev_poll, loop_now_ms() + 10);
	}
}

static void devices_timeout(void *arg)
{
	struct start *st = arg;

	for (unsigned i = 0; i < st->ndevs; i++) {
		struct dev *d = &st->devs[i];

		if (d->phase == DEV_WRITTEN || d->phase == DEV_STATUS) {
			char t[32];

			snprintf(t, sizeof(t), "%lld", st->co->conf->hotplug_timeout);
			devices_fail(st->co, st, d, d->phase == DEV_WRITTEN ?
				     "backend did not reach InitWait in %s s" :
				     d->open_wait ? "hotplug-status connected, but blkback "
				     "did not open the device within %s s" :
				     "no hotplug-status connected within %s s", t);
			return;
		}
	}
}

static int devices_run(struct core *co, struct start *st)
{
	int rc;

	dev_core = co;
	loop_timer_init(&st->dev_poll, devices_poll, st);
	snprintf(st->dev_token, sizeof(st->dev_token), "dev/%s", st->t->id);
	for (unsigned i = 0; i < st->ndevs; i++) {
		dev_publish(st, &st->devs[i], "waiting");
		if ((rc = store_watch(co->store, st->devs[i].be, st->dev_token,
				      &st->err)) < 0)
			return rc;
	}
	st->dev_watching = true;
	/* Scripts have their own timeout; this bounds the waits around them
	 * (a backend that never probes, a status that never comes). */
	loop_timer_init(&st->timer, devices_timeout, st);
	loop_timer_arm(co->loop, &st->timer,
		       loop_now_ms() + (uint64_t)co->conf->hotplug_timeout * 2000);
	return STAGE_WAIT;	/* the watches fire at once: devices_check */
}

static void devices_undo(struct core *co, struct start *st)
{
	loop_timer_disarm(co->loop, &st->timer);
	loop_timer_disarm(co->loop, &st->dev_poll);
	if (st->dev_watching)
		for (unsigned i = 0; i < st->ndevs; i++)
			store_unwatch(co->store, st->devs[i].be, st->dev_token);
	st->dev_watching = false;
	for (unsigned i = 0; i < st->ndevs; i++) {
		if (st->devs[i].run) {
			hotplug_cancel(st->devs[i].run);
			st->devs[i].run = NULL;
		}
		if (st->devs[i].tap_run) {
			hotplug_cancel(st->devs[i].tap_run);
			st->devs[i].tap_run = NULL;
		}
	}
}

void start_dev_event(struct core *co, const char *task_id)
{
	struct task *t = task_find(&co->tasks, task_id);

	if (t && t->start && t->start->pci_watching)
		pci_check(co, t->start);
	else if (t && t->start && t->start->dev_watching)
		devices_check(co, t->start);
}

/* ---- the driver ---------------------------------------------------------- */

static void start_times(struct start *st, int upto, char *out, size_t n)
{
	uint64_t total = 0;
	size_t o = 0;

	out[0] = '\0';
	for (int i = 0; i < upto && i < NSTAGES; i++) {
		if (stages[i].needed && !stages[i].needed(st))
			continue;
		o += (size_t)snprintf(out + o, n - o, "%s=%llu ", stages[i].name,
				      (unsigned long long)st->stage_ms[i]);
		total += st->stage_ms[i];
		if (o >= n)
			return;
	}
	snprintf(out + o, n - o, "build=%llu total=%llu",
		 (unsigned long long)st->build_ms,
		 (unsigned long long)(loop_now_ms() - st->t->created_ms));
	(void)total;
}

static void start_end(struct core *co, struct start *st, bool ok)
{
	struct task *t = st->t;
	char times[256];

	start_times(st, st->stage + (ok ? 0 : 1), times, sizeof(times));
	if (st->reserved_kb) {
		co->reserved_kb -= st->reserved_kb;
		st->reserved_kb = 0;
	}
	if (ok) {
		st->vm->state = VM_RUNNING;
		st->vm->start_time = (long long)time(NULL);
		st->vm->devs = st->devs;
		st->vm->ndevs = st->ndevs;
		st->devs = NULL;
		st->vm->dm = st->dm;
		st->dm = NULL;
		st->vm->pci_set = st->pci;
		st->pci = NULL;
	} else {
		st->vm->state = VM_HALTED;
		st->vm->domid = -1;
	}
	task_end(t, ok ? NULL : &st->err, times);
	st->vm->busy = NULL;
	rec_publish_vm(&co->rec, st->vm);
	t->start = NULL;
	free(st);
	core_task_ended(co, t);
}

/* A stage failed: say where and why, once, then undo in reverse. */
static void stage_fail(struct core *co, struct start *st)
{
	loop_timer_disarm(co->loop, &st->timer);
	err_prefix(&st->err, "%s: ", stages[st->stage].name);
	st->stage_ms[st->stage] += loop_now_ms() - st->stage_t0;
	for (int i = st->stage; i >= 0; i--)
		if (stages[i].undo)
			stages[i].undo(co, st);
	start_end(co, st, false);
}

static void hold_over(void *arg)
{
	struct start *st = arg;

	st->held = true;
	stage_next(st->co, st);
}

/* Run stages from st->stage on until one waits, one fails, or all are
 * done; then unpause the domain. */
static void stage_run_from(struct core *co, struct start *st)
{
	int rc;

	while (st->stage < NSTAGES) {
		const struct stage *sg = &stages[st->stage];

		if (sg->needed && !sg->needed(st)) {
			st->stage++;
			continue;
		}
		/* Test hook: hold the start before a named stage, so tests can
		 * act at a known point (kill the agent, start the same VM). */
		if (!st->held && co->conf->stage_hook_delay &&
		    !strcmp(co->conf->stage_hook, sg->name)) {
			log_info("task %s: holding before %s for %lld s (stage_hook)",
				 st->t->id, sg->name, co->conf->stage_hook_delay);
			loop_timer_init(&st->timer, hold_over, st);
			loop_timer_arm(co->loop, &st->timer,
				       loop_now_ms() + co->conf->stage_hook_delay * 1000);
			return;
		}
		st->held = false;
		task_progress(st->t, sg->name, sg->lo);
		st->stage_t0 = loop_now_ms();
		log_debug("task %s: stage %s", st->t->id, sg->name);
		rc = sg->run(co, st);
		if (rc == STAGE_WAIT)
			return;
		if (rc < 0) {
			stage_fail(co, st);
			return;
		}
		st->stage_ms[st->stage] = loop_now_ms() - st->stage_t0;
		st->stage++;
	}
	if (hv_unpause(co->hv, (unsigned)st->domid, &st->err) < 0) {
		st->stage = NSTAGES - 1;
		stage_fail(co, st);
		return;
	}
	start_end(co, st, true);
}

/* The stage that waited has finished its work: close its clock and go on. */
static void stage_next(struct core *co, struct start *st)
{
	if (st->held) {
		stage_run_from(co, st);
		return;
	}
	st->stage_ms[st->stage] = loop_now_ms() - st->stage_t0;
	st->stage++;
	stage_run_from(co, st);
}

/* Set the task running and give it a pipeline state; NULL (the task ended)
 * when out of memory. */
static struct start *start_new(struct core *co, struct task *t)
{
	struct start *st;

	t->state = TASK_RUNNING;
	if (!t->published_running)
		task_put(t, "state", "running");
	t->published_running = true;
	st = calloc(1, sizeof(*st));
	if (!st) {
		struct agent_err e;

		err_set(&e, ENOMEM, "lookup: out of memory");
		task_end(t, &e, NULL);
		core_task_ended(co, t);
		return NULL;
	}
	st->co = co;
	st->t = t;
	st->domid = -1;
	st->child_fd = -1;
	return st;
}

void start_vm(struct core *co, struct task *t, struct vm *vm)
{
	struct start *st = start_new(co, t);
	char uuid[37];

	if (st && !(st->type = guest_type(vm->conf.type))) {
		struct agent_err e;

		/* conf accepts only types with a row: a bug if seen. */
		free(st);
		st = NULL;
		err_set(&e, EINVAL, "lookup: %s: no guest type %d", vm->name,
			vm->conf.type);
		task_end(t, &e, NULL);
		core_task_ended(co, t);
	}
	if (!st) {
		if (vm->busy == t)
			vm->busy = NULL;
		return;
	}
	conf_format_uuid(vm->conf.uuid, uuid);
	memcpy(st->uuid, uuid, sizeof(uuid));
	st->vm = vm;
	t->start = st;
	vm->busy = t;
	vm->state = VM_STARTING;
	rec_publish_vm(&co->rec, vm);
	log_info("task %s: starting %s (%s)", t->id, vm->name, st->uuid);
	stage_run_from(co, st);
}

void start_run(struct core *co, struct task *t)
{
	struct agent_err err = { 0 };
	struct vm *vm;

	vm = vm_lookup(&co->vms, t->req.arg, NULL);
	/* A file renamed while its VM ran is known by the new name once
	 * that VM, halted now, takes it. */
	for (struct vm *o = co->vms.head; !vm && o; o = o->next)
		if (o->next_def && !strcmp(o->next_def->name, t->req.arg))
			vm = o;
	if (vm && vm->state == VM_HALTED && !vm->busy)
		rec_take_next_def(&co->rec, vm);
	if (!vm)
		err_set(&err, ENOENT, "lookup: no VM named '%s' (by name, "
			"domid or UUID)", t->req.arg);
	else if (!vm->valid)
		err_set(&err, EINVAL, "lookup: VM file of %s is invalid: %s",
			vm->name, vm->error);
	else if (vm->busy)
		err_set(&err, EBUSY, "lookup: %s is busy with task %s",
			vm->name, vm->busy->id);
	else if (vm->state != VM_HALTED)
		err_set(&err, EBUSY, "lookup: %s is %s as domid %d", vm->name,
			vm_state_names[vm->state], vm->domid);
	if (err.errnum) {
		t->state = TASK_RUNNING;
		task_end(t, &err, NULL);
		core_task_ended(co, t);
		return;
	}
	start_vm(co, t, vm);
}

/* A builder slot is free: run the init stage of the starts waiting for
 * one, oldest first, while slots last.  From a timer, not from the reaping
 * itself: a start that runs (or fails) here may end tasks and start others. */
static void build_wake(void *arg)
{
	struct core *co = arg;

	while (co->nbuilders < (unsigned)co->conf->build_max) {
		struct start *next = NULL;

		for (struct task *t = co->tasks.head; t; t = t->next)
			if (t->start && t->start->build_waiting &&
			    (!next || t->created_ms < next->t->created_ms))
				next = t->start;
		if (!next)
			return;
		/* As after a test hold: run the stage again, not the hook. */
		next->held = true;
		stage_run_from(co, next);
	}
}

bool start_child_exited(struct core *co, pid_t pid, int status)
{
	bool builder = false;

	for (unsigned i = 0; i < co->nbuilders; i++)
		if (co->builders[i] == pid) {
			builder = true;
			co->builders[i] = co->builders[--co->nbuilders];
			if (!co->build_wake.fn)
				loop_timer_init(&co->build_wake, build_wake, co);
			loop_timer_arm(co->loop, &co->build_wake, loop_now_ms());
			break;
		}
	for (struct task *t = co->tasks.head; t; t = t->next) {
		struct start *st = t->start;

		if (!st || st->child != pid)
			continue;
		st->child = 0;
		if (WIFSIGNALED(status))
			log_debug("task %s: builder ended by signal %d", t->id,
				  WTERMSIG(status));
		return true;
	}
	return builder;
}

void start_abort(struct core *co, struct task *t, const char *why)
{
	struct start *st = t->start;

	if (!st)
		return;
	err_set(&st->err, EINTR, "%s", why);
	stage_fail(co, st);
}
