#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dev.h"
#include "dm.h"
#include "log.h"

#define DEV_TX_TRIES 8

int dev_plan(const struct vm *vm, unsigned domid, const char *script_dir,
	     struct dev **devs_r, unsigned *n_r, struct agent_err *err)
{
	unsigned n = 0;
	struct dev *devs;

	*devs_r = NULL;
	*n_r = 0;
	for (int i = 0; i < VM_MAX_DEVS; i++)
		n += !!(vm->vif_mask & 1u << i) + !!(vm->vbd_mask & 1u << i);
	if (!n)
		return 0;
	devs = calloc(n, sizeof(*devs));
	if (!devs)
		return err_set(err, ENOMEM, "out of memory");
	n = 0;
	for (int i = 0; i < VM_MAX_DEVS; i++) {
		struct dev *d;

		if (vm->vif_mask & 1u << i) {
			const struct vif_conf *c = &vm->vif[i];

			d = &devs[n++];
			d->kind = DEV_VIF;
			d->index = i;
			d->devid = i;
			snprintf(d->name, sizeof(d->name), "vif %d", i);
			snprintf(d->script, sizeof(d->script), "%s/%s", script_dir, c->script);
			vm_vif_mac(vm, i, d->mac);
			if (vm->conf.type == VM_TYPE_HVM)
				dm_tap_name(domid, (unsigned)i, d->tap, sizeof(d->tap));
		}
	}
	for (int i = 0; i < VM_MAX_DEVS; i++) {
		struct dev *d;

		if (!(vm->vbd_mask & 1u << i))
			continue;
		d = &devs[n++];
		d->kind = DEV_VBD;
		d->index = i;
		d->devid = conf_vdev_devid(vm->vbd[i].vdev);
		snprintf(d->name, sizeof(d->name), "vbd %s", vm->vbd[i].vdev);
		snprintf(d->script, sizeof(d->script), "%s/%s", script_dir,
			 vm->vbd[i].script);
	}
	for (unsigned i = 0; i < n; i++) {
		const char *k = devs[i].kind == DEV_VIF ? "vif" : "vbd";

		devs[i].domid = domid;
		snprintf(devs[i].fe, sizeof(devs[i].fe), "/local/domain/%u/device/%s/%d",
			 domid, k, devs[i].devid);
		snprintf(devs[i].be, sizeof(devs[i].be),
			 "/local/domain/0/backend/%s/%u/%d", k, domid, devs[i].devid);
	}
	*devs_r = devs;
	*n_r = n;
	return 0;
}

/* Write key=value pairs under dir, in tx. */
static int put_all(struct store *s, store_tx tx, const char *dir,
		   const char *const kv[], struct agent_err *err)
{
	char p[256];
	int rc;

	for (int i = 0; kv[i]; i += 2) {
		snprintf(p, sizeof(p), "%s/%s", dir, kv[i]);
		if ((rc = store_write(s, tx, p, kv[i + 1], err)) < 0)
			return rc;
	}
	return 0;
}

static int write_tx(struct store *s, store_tx tx, const struct dev *d,
		    unsigned domid, const struct vm *vm, struct agent_err *err)
{
	const struct store_perm fe_perm[] = { { domid, 'n' }, { 0, 'r' } };
	const struct store_perm be_perm[] = { { 0, 'n' }, { domid, 'r' } };
	char devid[16], fid[16], parent[128];
	int rc;

	snprintf(devid, sizeof(devid), "%d", d->devid);
	snprintf(fid, sizeof(fid), "%u", domid);
	/* A backend an earlier domain of this domid left (a kill between two
	 * lines of its teardown) would hand this one its physical-device,
	 * node and hotplug-status: `block add` would take its loop device. */
	if ((rc = store_rm(s, tx, d->be, err)) < 0)
		return rc;
	/* And its driver's error node: the devices stage would report an
	 * earlier domain's failure as this one's. */
	dev_error_path(d, parent, sizeof(parent));
	if ((rc = store_rm(s, tx, parent, err)) < 0)
		return rc;
	/* Parent directories first, with the owners the drivers expect. */
	snprintf(parent, sizeof(parent), "%.*s", (int)(strrchr(d->fe, '/') - d->fe), d->fe);
	if ((rc = store_mkdir(s, tx, parent, err)) < 0 ||
	    (rc = store_set_perms(s, tx, parent, fe_perm, 2, err)) < 0)
		return rc;
	snprintf(parent, sizeof(parent), "%.*s", (int)(strrchr(d->be, '/') - d->be), d->be);
	if ((rc = store_mkdir(s, tx, parent, err)) < 0 ||
	    (rc = store_set_perms(s, tx, parent, be_perm, 2, err)) < 0)
		return rc;
	if ((rc = store_mkdir(s, tx, d->fe, err)) < 0 ||
	    (rc = store_set_perms(s, tx, d->fe, fe_perm, 2, err)) < 0)
		return rc;
	const struct vif_conf *vif = &vm->vif[d->index];
	const struct vbd_conf *vbd = &vm->vbd[d->index];
	const char *vif_fe[] = { "backend", d->be, "backend-id", "0", "state", "1",
				 "handle", devid, "mac", d->mac, NULL };
	const char *vif_be[] = { "frontend", d->fe, "frontend-id", fid,
				 "handle", devid, "mac", d->mac,
				 "bridge", vif->bridge, "script", d->script,
				 "online", "1", "state", "1", NULL };
	const char *vbd_fe[] = { "backend", d->be, "backend-id", "0", "state", "1",
				 "virtual-device", devid, "device-type", "disk",
				 NULL };
	const char *vbd_be[] = { "frontend", d->fe, "frontend-id", fid,
				 "params", vbd->target, "type", "phy",
				 "mode", conf_vbd_modes[vbd->mode], "dev", vbd->vdev,
				 "script", d->script,
				 "online", "1", "state", "1", NULL };
	bool is_vif = d->kind == DEV_VIF;

	if ((rc = put_all(s, tx, d->fe, is_vif ? vif_fe : vbd_fe, err)) < 0 ||
	    (rc = store_mkdir(s, tx, d->be, err)) < 0 ||
	    (rc = store_set_perms(s, tx, d->be, be_perm, 2, err)) < 0)
		return rc;
	return put_all(s, tx, d->be, is_vif ? vif_be : vbd_be, err);
}

int dev_write(struct store *s, const struct dev *d, unsigned domid,
	      const struct vm *vm, struct agent_err *err)
{
	int rc = -EAGAIN;

	for (int i = 0; i < DEV_TX_TRIES && rc == -EAGAIN; i++) {
		struct agent_err ignore;
		store_tx tx;

		if ((rc = store_tx_start(s, &tx, err)) < 0)
			return rc;
		rc = write_tx(s, tx, d, domid, vm, err);
		if (rc < 0) {
			store_tx_end(s, tx, true, &ignore);
			return err_prefix(err, "%s: ", d->name);
		}
		rc = store_tx_end(s, tx, false, err);
	}
	return rc;
}

/* The script's environment: "K=V" strings in buf, pointers in env. */
static void dev_env(const struct dev *d, bool tap, char buf[8][1200],
		    char *env[9])
{
	int n = 0;

	/* XENBUS_PATH relative to dom0's home, as libxl passes it. */
	snprintf(buf[n++], 1200, "XENBUS_PATH=%s", d->be + strlen("/local/domain/0/"));
	snprintf(buf[n++], 1200, "XENBUS_TYPE=%s", d->kind == DEV_VIF ? "vif" : "vbd");
	snprintf(buf[n++], 1200, "XENBUS_BASE_PATH=backend");
	snprintf(buf[n++], 1200, "script=%s", d->script);
	/* Xen's versioned tool directory is the scripts' business
	 * (xen-hotplug-common.sh): no Xen version is compiled in. */
	snprintf(buf[n++], 1200, "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
	if (tap) {
		snprintf(buf[n++], 1200, "vif=%s", d->tap);
		snprintf(buf[n++], 1200, "type_if=tap");
	} else if (d->kind == DEV_VIF) {
		snprintf(buf[n++], 1200, "vif=vif%u.%d", d->domid, d->devid);
		snprintf(buf[n++], 1200, "netdev=");
	} else if (d->node[0]) {
		/* For a remove after the backend's nodes are gone. */
		snprintf(buf[n++], 1200, "node=%s", d->node);
	}
	for (int i = 0; i < n; i++)
		env[i] = buf[i];
	env[n] = NULL;
}

int dev_script(struct loop *l, struct dev *d, bool up, unsigned timeout_s,
	       hotplug_line_fn *line, hotplug_done_fn *done, void *arg,
	       struct hotplug_run **run_r, struct agent_err *err)
{
	static const char *const actions[2][2] = {
		/* [vif?][up?] */
		{ "remove", "add" }, { "offline", "online" },
	};
	char buf[8][1200], *env[9];	/* used only until the exec */
	struct hotplug_args ha = {
		.script = d->script,
		.action = actions[d->kind == DEV_VIF][up],
		.env = env,
		.timeout_s = timeout_s,
		.line = line,
		.done = done,
		.arg = arg,
	};

	dev_env(d, false, buf, env);
	return hotplug_start(l, &ha, run_r, err);
}

int dev_tap_script(struct loop *l, struct dev *d, unsigned timeout_s,
		   hotplug_line_fn *line, hotplug_done_fn *done, void *arg,
		   struct hotplug_run **run_r, struct agent_err *err)
{
	char buf[8][1200], *env[9];
	struct hotplug_args ha = {
		.script = d->script,
		.action = "add",
		.env = env,
		.timeout_s = timeout_s,
		.line = line,
		.done = done,
		.arg = arg,
	};

	dev_env(d, true, buf, env);
	return hotplug_start(l, &ha, run_r, err);
}

#define DEV_BACKEND_SYSFS "/sys/bus/xen-backend/devices"

int dev_backend_open(const struct dev *d)
{
	char p[160];

	if (d->kind != DEV_VBD || access(DEV_BACKEND_SYSFS, F_OK) < 0)
		return 1;
	snprintf(p, sizeof(p), DEV_BACKEND_SYSFS "/vbd-%u-%d/physical_device",
		 d->domid, d->devid);
	return access(p, F_OK) == 0;
}

void dev_error_path(const struct dev *d, char *buf, size_t n)
{
	snprintf(buf, n, "/local/domain/0/error%s", d->be + strlen("/local/domain/0"));
}

void dev_remove_nodes(struct store *s, const struct dev *d)
{
	struct agent_err err;
	char p[200];

	store_rm(s, STORE_NOTX, d->fe, &err);
	store_rm(s, STORE_NOTX, d->be, &err);
	dev_error_path(d, p, sizeof(p));
	store_rm(s, STORE_NOTX, p, &err);
}

/* ---- teardown ------------------------------------------------------------ */

struct teardown_note {
	char what[128];
};

static void teardown_line(void *arg, const char *line)
{
	struct teardown_note *n = arg;

	log_info("%s: %s", n->what, line);
}

static void teardown_done(void *arg, int status, const char *last)
{
	struct teardown_note *n = arg;

	if (status == -ETIMEDOUT)
		log_error("%s: script timed out", n->what);
	else if (!WIFEXITED(status) || WEXITSTATUS(status))
		log_error("%s: script failed (status %d): %s", n->what, status, last);
	free(n);
}

void dev_teardown(struct store *s, struct loop *l, unsigned timeout_s,
		  const char *vm_name, struct dev *devs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct dev *d = &devs[i];
		struct teardown_note *note;
		struct hotplug_run *run;
		struct agent_err err;

		if (d->run)
			hotplug_cancel(d->run);
		if (d->tap_run)
			hotplug_cancel(d->tap_run);
		/* Nodes first: the kernel drops the backend (netback removes
		 * the vif, blkback lets go of the disk), then the script frees
		 * what it set up; a dead domain's blkback would never answer a
		 * Closing state. */
		dev_remove_nodes(s, d);
		note = calloc(1, sizeof(*note));
		if (!note)
			continue;
		snprintf(note->what, sizeof(note->what), "%s of %s", d->name, vm_name);
		if (dev_script(l, d, false, timeout_s,
			       teardown_line, teardown_done, note, &run, &err) < 0) {
			log_error("%s: %s", note->what, err.msg);
			free(note);
		}
	}
	/* The per-domain directories dev_write made, backend/<kind>/<domid>,
	 * and the one a driver's error made, error/backend/<kind>/<domid>. */
	for (unsigned i = 0; i < n; i++) {
		struct agent_err err;
		char dir[200];

		snprintf(dir, sizeof(dir), "%.*s",
			 (int)(strrchr(devs[i].be, '/') - devs[i].be), devs[i].be);
		store_rm(s, STORE_NOTX, dir, &err);
		dev_error_path(&devs[i], dir, sizeof(dir));
		*strrchr(dir, '/') = '\0';
		store_rm(s, STORE_NOTX, dir, &err);
	}
	free(devs);
}
