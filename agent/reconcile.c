/* Start-up reconciliation: what an earlier run of the agent made for a
 * domain that is gone now, left behind because that run was killed between
 * two lines of a teardown (or of a start's rollback).
 *
 * The records say which domains were the agent's: <root>/vm/<name>/domid
 * of the VM records and the domid of task records cut short (read before
 * the records are rebuilt), and /local/domain/D/vm naming the UUID of a VM
 * file.  For each such domid with no live domain (a dying one counts as
 * gone), everything that hangs off the domid goes, in the order of a normal
 * teardown:
 *
 *   /local/domain/0/backend/pci/D: removed, and each device its dev-N
 *       names is reset (Xen released it with the domain; pciback keeps it)
 *   /local/domain/0/backend/{vif,vbd}/D/<devid>   nodes removed, then the
 *       device's remove/offline script runs, in the background, as in any
 *       teardown (`block remove` frees the loop device named by the
 *       backend's `node`, read first)
 *   /local/domain/0/backend/{vif,vbd}/D
 *   /local/domain/D, and /vm/<uuid> when no live domain has that UUID
 *   a loop device `block add` recorded for a vbd of D whose backend is
 *       gone: `block remove` for that backend path frees it by its record
 *
 * Everything read here is checked as untrusted: the guest could write its
 * own frontend, and a crash can cut any record short. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev.h"
#include "domtree.h"
#include "log.h"
#include "pci.h"
#include "reconcile.h"

long reconcile_parse_num(const char *s, long limit)
{
	char *end;
	long v;

	if (!*s || *s < '0' || *s > '9' || strlen(s) > 9)
		return -1;
	v = strtol(s, &end, 10);
	return *end || v >= limit ? -1 : v;
}

int reconcile_parse_domid(const char *s)
{
	long v = reconcile_parse_num(s, 0x7FF0);

	return v > 0 ? (int)v : -1;
}

int reconcile_note(struct reconcile *r, int domid)
{
	unsigned *n;

	if (domid <= 0)
		return 0;
	for (unsigned i = 0; i < r->n; i++)
		if (r->domids[i] == (unsigned)domid)
			return 0;
	n = realloc(r->domids, (r->n + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	r->domids = n;
	r->domids[r->n++] = (unsigned)domid;
	return 0;
}

void reconcile_dispose(struct reconcile *r)
{
	free(r->domids);
	r->domids = NULL;
	r->n = 0;
}

static const struct hv_dominfo *live(const struct hv_dominfo *doms, unsigned n,
				     unsigned domid)
{
	for (unsigned i = 0; i < n; i++)
		if (doms[i].domid == domid && !doms[i].dying)
			return &doms[i];
	return NULL;
}

bool reconcile_parse_vm_path(const char *v, char uuid[37], unsigned char raw[16])
{
	if (strncmp(v, "/vm/", 4) || strlen(v + 4) != 36)
		return false;
	if (conf_parse_uuid(v + 4, raw) < 0)
		return false;
	memcpy(uuid, v + 4, 37);
	return true;
}

/* The devices under backend/<kind>/<domid>, rebuilt from the backend's own
 * nodes (dom0's: the guest cannot write them). */
static unsigned backend_devs(struct store *s, const char *script_dir,
			     enum dev_kind kind, unsigned domid,
			     struct dev *devs, unsigned max)
{
	const char *kname = kind == DEV_VIF ? "vif" : "vbd";
	char base[96], p[200], **ids = NULL;
	struct agent_err err;
	unsigned nids = 0, n = 0;

	snprintf(base, sizeof(base), "/local/domain/0/backend/%s/%u", kname, domid);
	if (store_ls(s, STORE_NOTX, base, &ids, &nids, &err) < 0)
		return 0;
	for (unsigned i = 0; i < nids && n < max; i++) {
		long devid = reconcile_parse_num(ids[i], 1L << 30);
		struct dev *d = &devs[n];
		char script[1100];
		size_t sl = strlen(script_dir);

		if (devid < 0)
			continue;
		memset(d, 0, sizeof(*d));
		d->kind = kind;
		d->domid = domid;
		d->devid = (int)devid;
		d->index = -1;
		d->phase = DEV_CONNECTED;
		snprintf(d->name, sizeof(d->name), "%s %ld", kname, devid);
		snprintf(d->be, sizeof(d->be), "%s/%ld", base, devid);
		snprintf(d->fe, sizeof(d->fe), "/local/domain/%u/device/%s/%ld",
			 domid, kname, devid);
		/* The script the start ran, if it is one of ours; else the
		 * default one: never a path a record could point elsewhere. */
		snprintf(p, sizeof(p), "%s/script", d->be);
		store_read_str(s, STORE_NOTX, p, script, sizeof(script));
		if (strncmp(script, script_dir, sl) || script[sl] != '/' ||
		    strchr(script + sl + 1, '/') || script[sl + 1] == '.' ||
		    !script[sl + 1])
			snprintf(script, sizeof(script), "%s/%s", script_dir,
				 kind == DEV_VIF ? "vif-bridge" : "block");
		snprintf(d->script, sizeof(d->script), "%s", script);
		if (kind == DEV_VBD) {
			char node[64];

			snprintf(p, sizeof(p), "%s/node", d->be);
			store_read_str(s, STORE_NOTX, p, node, sizeof(node));
			if (!strncmp(node, "/dev/loop", 9) &&
			    reconcile_parse_num(node + 9, 1L << 20) >= 0)
				snprintf(d->node, sizeof(d->node), "%s", node);
		}
		n++;
	}
	free(ids);
	return n;
}

/* `block add` records each loop device before it attaches it, in
 * <dir>/loopN: "backend=backend/vbd/<domid>/<devid>" and "file=<path>"
 * (scripts/hotplug/block; HOTPLUG_LOCK_DIR of xen-hotplug-common.sh).  A
 * kill between the record and the backend's `node` leaves a device that
 * only the record names; `block remove` for that backend frees it. */
#define RECONCILE_LOOP_RECORDS "/run/xen-hotplug/loops"

/* Calls fn for each loop record: the domid and devid of the backend it
 * names (records that name nothing valid are skipped). */
static void loop_records(void (*fn)(void *arg, long domid, long devid),
			 void *arg)
{
	DIR *dh = opendir(RECONCILE_LOOP_RECORDS);
	struct dirent *e;

	while (dh && (e = readdir(dh))) {
		char path[600], line[256], *end;
		FILE *f;

		if (strncmp(e->d_name, "loop", 4) || reconcile_parse_num(e->d_name + 4, 1L << 20) < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", RECONCILE_LOOP_RECORDS, e->d_name);
		if (!(f = fopen(path, "re")))
			continue;
		while (fgets(line, sizeof(line), f)) {
			long d;

			if (strncmp(line, "backend=backend/vbd/", 20))
				continue;
			line[strcspn(line, "\n")] = '\0';
			d = strtol(line + 20, &end, 10);
			if (line[20] >= '0' && line[20] <= '9' && *end == '/' &&
			    d > 0 && d < 0x7FF0)
				fn(arg, d, reconcile_parse_num(end + 1, 1L << 30));
			break;
		}
		fclose(f);
	}
	if (dh)
		closedir(dh);
}

struct record_devs {
	unsigned domid;
	long devids[VM_MAX_DEVS];
	unsigned n;
};

static void record_dev(void *arg, long domid, long devid)
{
	struct record_devs *r = arg;

	if ((unsigned long)domid == r->domid && devid >= 0 && r->n < VM_MAX_DEVS)
		r->devids[r->n++] = devid;
}

struct record_note {
	struct reconcile *r;
	const struct hv_dominfo *doms;
	unsigned ndoms;
};

/* Everything of a gone domain domid: devices (teardown hands their scripts
 * to the loop), then its trees. */
static void reconcile_domain(struct store *s, const char *script_dir,
			     unsigned domid, const struct hv_dominfo *doms,
			     unsigned ndoms, reconcile_teardown_fn *teardown,
			     void *arg)
{
	struct dev *devs = calloc(2 * VM_MAX_DEVS, sizeof(*devs));
	char p[96], v[128], uuid[37] = "";
	unsigned char raw[16];
	struct agent_err err;
	unsigned n = 0;

	if (!devs)
		return;
	n += backend_devs(s, script_dir, DEV_VIF, domid, devs + n, VM_MAX_DEVS);
	n += backend_devs(s, script_dir, DEV_VBD, domid, devs + n, VM_MAX_DEVS);
	/* Loop devices only a record names (their backend is gone): a
	 * `block remove` for that backend path frees them by the record. */
	{
		struct record_devs rd = { .domid = domid };
		const long *devids = rd.devids;

		loop_records(record_dev, &rd);
		for (unsigned i = 0; i < rd.n && n < 2 * VM_MAX_DEVS; i++) {
			bool known = false;

			for (unsigned k = 0; k < n; k++)
				known |= devs[k].kind == DEV_VBD &&
					 devs[k].devid == (int)devids[i];
			if (known)
				continue;
			memset(&devs[n], 0, sizeof(devs[n]));
			devs[n].kind = DEV_VBD;
			devs[n].domid = domid;
			devs[n].devid = (int)devids[i];
			devs[n].index = -1;
			devs[n].phase = DEV_CONNECTED;
			snprintf(devs[n].name, sizeof(devs[n].name), "vbd %ld", devids[i]);
			snprintf(devs[n].be, sizeof(devs[n].be),
				 "/local/domain/0/backend/vbd/%u/%ld", domid, devids[i]);
			snprintf(devs[n].fe, sizeof(devs[n].fe),
				 "/local/domain/%u/device/vbd/%ld", domid, devids[i]);
			snprintf(devs[n].script, sizeof(devs[n].script), "%s/block",
				 script_dir);
			n++;
		}
	}
	snprintf(p, sizeof(p), "/local/domain/%u/vm", domid);
	store_read_str(s, STORE_NOTX, p, v, sizeof(v));
	if (reconcile_parse_vm_path(v, uuid, raw))
		for (unsigned i = 0; i < ndoms; i++)
			if (!doms[i].dying && !memcmp(doms[i].handle, raw, 16))
				uuid[0] = '\0';	/* a live domain's /vm */
	if (n || *uuid)
		log_warn("reconcile: domain %u is gone; removing what is left of "
			 "it (%u device(s)%s%s)", domid, n, *uuid ? ", /vm/" : "", uuid);
	/* teardown removes the nodes (each device's frontend, backend and
	 * error node, and the backend/<kind>/<domid> directories) and runs
	 * the scripts; it frees devs. */
	if (n)
		teardown(arg, devs, n);
	else
		free(devs);
	for (int k = 0; k < 2; k++) {
		snprintf(p, sizeof(p), "/local/domain/0/backend/%s/%u",
			 k ? "vbd" : "vif", domid);
		store_rm(s, STORE_NOTX, p, &err);
	}
	/* PCI devices: Xen released them with the domain; the backend goes
	 * and each device the backend names is reset (pci.c). */
	pci_reconcile(s, domid);
	if (domtree_remove(s, (int)domid, uuid, &err) < 0)
		log_error("reconcile: %s", err.msg);
}

static void record_note_fn(void *arg, long domid, long devid)
{
	struct record_note *rn = arg;

	(void)devid;
	if (!live(rn->doms, rn->ndoms, (unsigned)domid))
		reconcile_note(rn->r, (int)domid);
}

void reconcile_run(struct reconcile *r, struct store *s, struct hv *hv,
		   const char *script_dir, const struct vm_list *vms,
		   reconcile_teardown_fn *teardown, void *arg)
{
	struct hv_dominfo *doms = NULL;
	struct agent_err err;
	char **names = NULL;
	unsigned ndoms = 0, nnames = 0;

	if (hv_list(hv, &doms, &ndoms, &err) < 0) {
		log_error("reconcile: %s", err.msg);
		return;
	}
	/* Trees of gone domains whose /vm names one of our VMs: a record of
	 * their domid may have been lost with the run that made them. */
	if (store_ls(s, STORE_NOTX, "/local/domain", &names, &nnames, &err) == 0) {
		for (unsigned i = 0; i < nnames; i++) {
			int domid = reconcile_parse_domid(names[i]);
			char p[96], v[128], uuid[37];
			unsigned char raw[16];

			if (domid < 0 || live(doms, ndoms, (unsigned)domid))
				continue;
			snprintf(p, sizeof(p), "/local/domain/%d/vm", domid);
			store_read_str(s, STORE_NOTX, p, v, sizeof(v));
			if (reconcile_parse_vm_path(v, uuid, raw) && vm_find_uuid(vms, raw))
				reconcile_note(r, domid);
		}
		free(names);
	}
	/* Loop devices recorded for a domid that no live domain has. */
	{
		struct record_note rn = { r, doms, ndoms };

		loop_records(record_note_fn, &rn);
	}
	for (unsigned i = 0; i < r->n; i++)
		if (!live(doms, ndoms, r->domids[i]))
			reconcile_domain(s, script_dir, r->domids[i], doms, ndoms,
					 teardown, arg);
	free(doms);
	reconcile_dispose(r);
}
