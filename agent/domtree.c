#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "domtree.h"

/* Transactions that conflict are run again; a bound keeps a pathological
 * store from spinning the loop. */
#define DOMTREE_TX_TRIES 8

static int make_tx(struct store *s, store_tx tx, unsigned domid,
		   const char *name, const char *uuid, struct agent_err *err)
{
	const struct store_perm ro[] = { { 0, 'n' }, { domid, 'r' } };
	const struct store_perm rw[] = { { 0, 'n' }, { domid, 'b' } };
	char p[64], sub[80];
	int rc;

	snprintf(p, sizeof(p), "/local/domain/%u", domid);
	if ((rc = store_rm(s, tx, p, err)) < 0 ||
	    (rc = store_mkdir(s, tx, p, err)) < 0 ||
	    (rc = store_set_perms(s, tx, p, ro, 2, err)) < 0)
		return rc;
	snprintf(sub, sizeof(sub), "%s/name", p);
	if ((rc = store_write(s, tx, sub, name, err)) < 0)
		return rc;
	snprintf(sub, sizeof(sub), "%s/domid", p);
	if ((rc = store_writef(s, tx, sub, err, "%u", domid)) < 0)
		return rc;
	snprintf(sub, sizeof(sub), "%s/vm", p);
	if ((rc = store_writef(s, tx, sub, err, "/vm/%s", uuid)) < 0)
		return rc;
	for (int i = 0; i < 2; i++) {
		snprintf(sub, sizeof(sub), "%s/%s", p, i ? "data" : "control");
		if ((rc = store_mkdir(s, tx, sub, err)) < 0 ||
		    (rc = store_set_perms(s, tx, sub, rw, 2, err)) < 0)
			return rc;
	}
	return 0;
}

int domtree_make(struct store *s, unsigned domid, const char *name,
		 const char *uuid, struct agent_err *err)
{
	int rc = -EAGAIN;

	for (int i = 0; i < DOMTREE_TX_TRIES && rc == -EAGAIN; i++) {
		store_tx tx;

		if ((rc = store_tx_start(s, &tx, err)) < 0)
			return rc;
		rc = make_tx(s, tx, domid, name, uuid, err);
		if (rc < 0) {
			struct agent_err ignore;

			store_tx_end(s, tx, true, &ignore);
			return rc;
		}
		rc = store_tx_end(s, tx, false, err);
	}
	return rc;
}

int domtree_rings(struct store *s, unsigned domid, unsigned console_port,
		  uint64_t console_mfn, unsigned store_port, uint64_t store_mfn,
		  struct agent_err *err)
{
	const struct {
		const char *key;
		unsigned long long v;
	} nodes[] = {
		{ "console/port", console_port },
		{ "console/ring-ref", console_mfn },
		{ "store/port", store_port },
		{ "store/ring-ref", store_mfn },
	};
	char p[96];
	int rc;

	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		snprintf(p, sizeof(p), "/local/domain/%u/%s", domid, nodes[i].key);
		if ((rc = store_writef(s, STORE_NOTX, p, err, "%llu", nodes[i].v)) < 0)
			return rc;
	}
	snprintf(p, sizeof(p), "/local/domain/%u/console/type", domid);
	return store_write(s, STORE_NOTX, p, "xenconsoled", err);
}

int domtree_vm_details(struct store *s, const struct vm_conf *c,
		       const char *uuid, struct agent_err *err)
{
	char p[128], image[1400];
	int rc;

	snprintf(image, sizeof(image), "(%s (kernel %s)%s%s%s (cmdline '%s'))",
		 conf_vm_types[c->type], c->kernel, *c->ramdisk ? " (ramdisk " : "",
		 c->ramdisk, *c->ramdisk ? ")" : "", c->cmdline);
	const struct {
		const char *key, *val;
	} nodes[] = {
		{ "uuid", uuid },
		{ "name", c->name },
		{ "image", image },
		{ "on_poweroff", conf_actions[c->on_poweroff] },
		{ "on_reboot", conf_actions[c->on_reboot] },
		{ "on_crash", conf_actions[c->on_crash] },
	};
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		snprintf(p, sizeof(p), "/vm/%s/%s", uuid, nodes[i].key);
		if ((rc = store_write(s, STORE_NOTX, p, nodes[i].val, err)) < 0)
			return rc;
	}
	snprintf(p, sizeof(p), "/vm/%s/start_time", uuid);
	return store_writef(s, STORE_NOTX, p, err, "%lld", (long long)time(NULL));
}

int domtree_dom_details(struct store *s, unsigned domid,
			const struct vm_conf *c, struct agent_err *err)
{
	long long maxmem = c->maxmem ? c->maxmem : c->memory;
	char p[96];
	int rc;

	snprintf(p, sizeof(p), "/local/domain/%u/memory/static-max", domid);
	if ((rc = store_writef(s, STORE_NOTX, p, err, "%lld", maxmem * 1024)) < 0)
		return rc;
	snprintf(p, sizeof(p), "/local/domain/%u/memory/target", domid);
	if ((rc = store_writef(s, STORE_NOTX, p, err, "%lld", c->memory * 1024)) < 0)
		return rc;
	for (long long i = 0; i < c->vcpus; i++) {
		snprintf(p, sizeof(p), "/local/domain/%u/cpu/%lld/availability",
			 domid, i);
		if ((rc = store_write(s, STORE_NOTX, p, "online", err)) < 0)
			return rc;
	}
	return 0;
}

int domtree_remove(struct store *s, int domid, const char *uuid,
		   struct agent_err *err)
{
	char p[96];
	int rc = 0, r;

	if (domid >= 0) {
		snprintf(p, sizeof(p), "/local/domain/%d", domid);
		rc = store_rm(s, STORE_NOTX, p, err);
	}
	if (uuid && *uuid) {
		snprintf(p, sizeof(p), "/vm/%s", uuid);
		r = store_rm(s, STORE_NOTX, p, err);
		if (!rc)
			rc = r;
	}
	return rc;
}

void domtree_shutdown_path(int domid, char *buf, size_t n)
{
	snprintf(buf, n, "/local/domain/%d/control/shutdown", domid);
}

int domtree_watch_shutdown(struct store *s, struct vm *vm, bool on,
			   struct agent_err *err)
{
	char path[64], token[96];
	int rc = 0;

	domtree_shutdown_path(vm->domid, path, sizeof(path));
	snprintf(token, sizeof(token), DOMTREE_TOKEN_SHUTDOWN "%s", vm->name);
	if (on && !vm->watching)
		rc = store_watch(s, path, token, err);
	else if (!on && vm->watching)
		store_unwatch(s, path, token);
	if (!rc)
		vm->watching = on;
	return rc;
}
