/* xsagentctl import: xl.cfg(5) -> VM file.
 *
 * The flow: read the file into memory (at most 1 MiB); let libxlutil parse
 * it, so that what is accepted is exactly what xl accepts; scan the text
 * for the names of its settings (libxlutil has no call that lists them)
 * and refuse any it cannot map; then map each setting, checking every
 * value with the agent's key table (conf_set), into a VM file held in
 * memory; write it to out only once all of it is good.
 *
 * Settings, in xl.cfg's terms:
 *   mapped    name uuid type builder memory maxmem vcpus maxvcpus kernel
 *             ramdisk cmdline extra root on_poweroff on_reboot on_crash
 *             on_watchdog tsc_mode rtc_timeoffset cpu_weight cap vif disk pci
 *             pci_permissive pci_msitranslate pci_seize
 *   ignored   dhcp ip netmask gateway: xend-era hints for guest installers
 *             (xen-tools writes them); xl ignores them too.  The VM file
 *             says so in a comment.
 *   refused   everything else, by name: bootloader (pygrub),
 *             device_model_*, HVM and its devices, and any key this table
 *             does not know.  xl itself ignores unknown keys; here a typo
 *             or a feature the agent lacks must not vanish on the way. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <libxlutil.h>

#include "conf.h"
#include "err.h"
#include "import.h"

#define IMPORT_MAX_FILE (1 << 20)
#define IMPORT_MAX_DEVS 8	/* the VM file's [vif.0-7] and [vbd.0-7] */

/* One import: the parsed xl.cfg, libxlutil's report stream (its messages
 * become err), and the VM file as built: comments in head, sections in
 * body.  vm is scratch for conf_set's checks. */
struct import {
	const char *path;
	XLU_Config *cfg;
	FILE *rep, *head, *body;
	char *repbuf, *headbuf, *bodybuf;
	size_t replen, headlen, bodylen;
	struct vm_conf vm;
	char vdev[IMPORT_MAX_DEVS][32];	/* disk[i]'s vdev, as the agent compares */
	char bdf[IMPORT_MAX_DEVS][16];	/* pci[i]'s device, canonical */
	long pci_permissive, pci_msitranslate, pci_seize;	/* xl's defaults */
};

enum import_how { IMPORT_MAP, IMPORT_IGNORE, IMPORT_REFUSE };

static const struct import_key {
	const char *name;
	enum import_how how;
	const char *why;	/* IMPORT_IGNORE, IMPORT_REFUSE: the reason */
} import_keys[] = {
	{ "name", IMPORT_MAP, NULL },
	{ "uuid", IMPORT_MAP, NULL },
	{ "type", IMPORT_MAP, NULL },
	{ "builder", IMPORT_MAP, NULL },
	{ "memory", IMPORT_MAP, NULL },
	{ "maxmem", IMPORT_MAP, NULL },
	{ "vcpus", IMPORT_MAP, NULL },
	{ "maxvcpus", IMPORT_MAP, NULL },
	{ "kernel", IMPORT_MAP, NULL },
	{ "ramdisk", IMPORT_MAP, NULL },
	{ "cmdline", IMPORT_MAP, NULL },
	{ "extra", IMPORT_MAP, NULL },
	{ "root", IMPORT_MAP, NULL },
	{ "on_poweroff", IMPORT_MAP, NULL },
	{ "on_reboot", IMPORT_MAP, NULL },
	{ "on_crash", IMPORT_MAP, NULL },
	{ "on_watchdog", IMPORT_MAP, NULL },
	{ "tsc_mode", IMPORT_MAP, NULL },
	{ "rtc_timeoffset", IMPORT_MAP, NULL },
	{ "cpu_weight", IMPORT_MAP, NULL },
	{ "cap", IMPORT_MAP, NULL },
	{ "vif", IMPORT_MAP, NULL },
	{ "disk", IMPORT_MAP, NULL },
	{ "dhcp", IMPORT_IGNORE, "an xend-era hint for guest installers; xl ignores it too" },
	{ "ip", IMPORT_IGNORE, "an xend-era hint for guest installers; xl ignores it too" },
	{ "netmask", IMPORT_IGNORE, "an xend-era hint for guest installers; xl ignores it too" },
	{ "gateway", IMPORT_IGNORE, "an xend-era hint for guest installers; xl ignores it too" },
	{ "bootloader", IMPORT_REFUSE,
	  "a bootloader (pygrub) is not supported: give kernel and ramdisk as dom0 paths" },
	{ "bootloader_args", IMPORT_REFUSE,
	  "a bootloader (pygrub) is not supported: give kernel and ramdisk as dom0 paths" },
	{ "pci", IMPORT_MAP, NULL },
	{ "pci_permissive", IMPORT_MAP, NULL },
	{ "pci_msitranslate", IMPORT_MAP, NULL },
	{ "pci_seize", IMPORT_MAP, NULL },
	{ "vfb", IMPORT_REFUSE, "a virtual framebuffer needs a device model (qemu): not supported" },
};

/* The agent reads VM files with inih: blanks around a value are stripped
 * and a ';' first in a value or after a blank starts a comment; a control
 * character would end the line.  Such a value would not load as written,
 * so it is refused here, naming the xl.cfg key. */
static int import_ini_safe(const char *xlkey, const char *v, struct agent_err *err)
{
	size_t n = strlen(v);

	if (n && (isspace((unsigned char)v[0]) || isspace((unsigned char)v[n - 1])))
		return err_set(err, EINVAL, "%s: '%s' begins or ends with a blank, "
			       "which a VM file value cannot", xlkey, v);
	for (size_t i = 0; i < n; i++) {
		if (!isprint((unsigned char)v[i]))
			return err_set(err, EINVAL, "%s: a control character in the value",
				       xlkey);
		if (v[i] == ';' && (i == 0 || isspace((unsigned char)v[i - 1])))
			return err_set(err, EINVAL, "%s: '%s': a ';' first or after a blank "
				       "would begin a comment in the VM file", xlkey, v);
	}
	return 0;
}

/* Check value with the agent's rule for the VM file's key (keys: the
 * section's table, base: a scratch struct of it) and write "key = value".
 * xlkey names the setting in the xl.cfg; it prefixes an error when the
 * names differ. */
static int import_put(struct import *im, const struct conf_key *keys, size_t n,
		      void *base, const char *key, const char *value,
		      const char *xlkey, struct agent_err *err)
{
	const struct conf_key *k = conf_find(keys, n, key);
	int rc;

	if (!k)
		return err_set(err, EINVAL, "%s: no VM file key %s", xlkey, key);
	rc = import_ini_safe(xlkey, value, err);
	if (rc < 0)
		return rc;
	rc = conf_set(k, base, value, err);
	if (rc < 0) {
		if (strcmp(xlkey, key))
			err_prefix(err, "%s: ", xlkey);
		return rc;
	}
	fprintf(im->body, "%s = %s\n", key, value);
	return 0;
}

static int import_put_vm(struct import *im, const char *key, const char *value,
			 const char *xlkey, struct agent_err *err)
{
	return import_put(im, conf_vm_keys, conf_vm_nkeys, &im->vm, key, value,
			  xlkey, err);
}

/* A string setting: 0 with *v (NULL when absent), or an error. */
static int import_str(struct import *im, const char *key, const char **v,
		      struct agent_err *err)
{
	int r = xlu_cfg_get_string(im->cfg, key, v, 1);

	if (r == ESRCH) {
		*v = NULL;
		return 0;
	}
	if (r)
		return err_set(err, EINVAL, "%s: not a single value (a list?)", key);
	return 0;
}

/* A number setting (xl takes "256" and 256 alike, and 0x100): 0 with *v
 * and *set, or an error. */
static int import_num(struct import *im, const char *key, long *v, bool *set,
		      struct agent_err *err)
{
	const char *s = NULL;
	int r = xlu_cfg_get_long(im->cfg, key, v, 1);

	*set = r == 0;
	if (r == 0 || r == ESRCH)
		return 0;
	xlu_cfg_get_string(im->cfg, key, &s, 1);
	if (r == ERANGE)
		return err_set(err, ERANGE, "%s: '%s' is out of range", key, s ? s : "");
	return err_set(err, EINVAL, "%s: '%s' is not a number", key,
		       s ? s : "(a list)");
}

static int import_put_num(struct import *im, const char *key, long v,
			  struct agent_err *err)
{
	char s[32];

	snprintf(s, sizeof(s), "%ld", v);
	return import_put_vm(im, key, s, key, err);
}

/* libxlutil's latest message (from offset off of its report) into err,
 * after prefix; without "<path>: " and, for disks, its generic words. */
static int import_report(struct import *im, size_t off, const char *prefix,
			 int r, struct agent_err *err)
{
	static const char disk_words[] = "config parsing error in disk specification: ";
	size_t plen = strlen(im->path);
	char *m, *nl;

	fflush(im->rep);
	m = im->repbuf && im->replen > off ? im->repbuf + off : NULL;
	if (!m || !*m)
		return err_set(err, r, "%s%s: cannot parse: %s", prefix, im->path,
			       strerror(r));
	nl = strchr(m, '\n');
	if (nl)
		*nl = '\0';
	if (*prefix && !strncmp(m, im->path, plen) && !strncmp(m + plen, ": ", 2))
		m += plen + 2;
	if (!strncmp(m, disk_words, sizeof(disk_words) - 1))
		m += sizeof(disk_words) - 1;
	return err_set(err, r, "%s%s", prefix, m);
}

/* The name of every setting in data, which libxlutil has parsed: outside
 * strings, comments and lists the only words are setting names (values
 * are strings, numbers or lists).  Each is mapped, ignored (a comment in
 * the VM file says so) or refused. */
static int import_scan(struct import *im, const char *d, size_t n,
		       struct agent_err *err)
{
	int depth = 0;

	for (size_t i = 0; i < n;) {
		char c = d[i];

		if (c == '#') {
			while (i < n && d[i] != '\n')
				i++;
		} else if (c == '"' || c == '\'') {
			for (i++; i < n && d[i] != c; i++)
				if (d[i] == '\\')
					i++;
			i++;
		} else if (c == '[' || c == ']') {
			depth += c == '[' ? 1 : -1;
			i++;
		} else if (c >= '0' && c <= '9') {
			while (i < n && (isdigit((unsigned char)d[i]) ||
					 (d[i] >= 'a' && d[i] <= 'f') || d[i] == 'x'))
				i++;
		} else if (c >= 'a' && c <= 'z') {
			size_t start = i, len;
			const struct import_key *k = NULL;
			char name[64];

			while (i < n && (islower((unsigned char)d[i]) ||
					 isdigit((unsigned char)d[i]) || d[i] == '_'))
				i++;
			if (depth)
				continue;
			len = i - start;
			snprintf(name, sizeof(name), "%.*s", (int)(len < 63 ? len : 63),
				 d + start);
			for (size_t j = 0; j < sizeof(import_keys) / sizeof(import_keys[0]); j++)
				if (!strcmp(import_keys[j].name, name))
					k = &import_keys[j];
			if (!k && !strncmp(name, "device_model", 12))
				return err_set(err, EINVAL, "%s: a device model (qemu) is not "
					       "supported", name);
			if (!k)
				return err_set(err, EINVAL, "%s: unknown or unsupported key "
					       "(xsagent refuses it rather than drop it)", name);
			if (k->how == IMPORT_REFUSE)
				return err_set(err, EINVAL, "%s: %s", name, k->why);
			if (k->how == IMPORT_IGNORE)
				fprintf(im->head, "; ignored: %s, %s\n", name, k->why);
		} else {
			i++;
		}
	}
	return 0;
}

static int import_name_uuid(struct import *im, struct agent_err *err)
{
	const char *name, *uuid;
	unsigned char u[16];
	char made[37];
	int rc;

	rc = import_str(im, "name", &name, err);
	if (rc < 0)
		return rc;
	if (!name)
		return err_set(err, EINVAL, "name: missing (xl requires it too)");
	/* conf_valid_name takes '.', but xenstored refuses it in a node
	 * name, and the agent publishes each VM under /xsagent/vm/<name>. */
	if (strchr(name, '.'))
		return err_set(err, EINVAL, "name: '%s' has a '.', which xenstore "
			       "node names cannot hold (letters, digits, _ -)", name);
	rc = import_put_vm(im, "name", name, "name", err);
	if (rc < 0)
		return rc;
	rc = import_str(im, "uuid", &uuid, err);
	if (rc < 0)
		return rc;
	if (uuid)
		return import_put_vm(im, "uuid", uuid, "uuid", err);
	/* None given: a random (version 4) UUID, as xl makes at each create;
	 * here it is made once and kept in the file. */
	if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u))
		return err_sys(err, errno, "uuid: none given, and getrandom failed");
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
	conf_format_uuid(u, made);
	fprintf(im->head, "; uuid: none in the xl.cfg, made at random by the import\n");
	return import_put_vm(im, "uuid", made, "uuid", err);
}

/* type = "pv" | "pvh" | "hvm"; the older builder = "generic" (xl) or
 * "linux" (xend) is PV, builder = "hvm" HVM. */
static int import_type(struct import *im, struct agent_err *err)
{
	const char *type, *builder, *t = NULL, *bt = NULL;
	int rc;

	rc = import_str(im, "type", &type, err);
	if (rc < 0)
		return rc;
	rc = import_str(im, "builder", &builder, err);
	if (rc < 0)
		return rc;
	if (type) {
		if (!strcmp(type, "hvm"))
			return err_set(err, EINVAL, "type: hvm is not supported yet (pv, pvh)");
		if (strcmp(type, "pv") && strcmp(type, "pvh"))
			return err_set(err, EINVAL, "type: '%s' is not pv, pvh or hvm", type);
		t = type;
	}
	if (builder) {
		if (!strcmp(builder, "hvm"))
			return err_set(err, EINVAL, "builder: hvm is not supported yet (pv, pvh)");
		if (strcmp(builder, "generic") && strcmp(builder, "linux"))
			return err_set(err, EINVAL, "builder: '%s' is not generic, linux "
				       "or hvm", builder);
		bt = "pv";
		if (t && strcmp(t, bt))
			return err_set(err, EINVAL, "builder: '%s' (PV) disagrees with "
				       "type '%s'", builder, t);
	}
	return import_put_vm(im, "type", t ? t : "pv", type ? "type" : "builder", err);
}

static int import_sizes(struct import *im, struct agent_err *err)
{
	long mem, maxmem, vcpus, maxvcpus, off, weight, cap;
	bool mem_set, maxmem_set, vcpus_set, maxvcpus_set, off_set, weight_set, cap_set;
	int rc;

	if ((rc = import_num(im, "memory", &mem, &mem_set, err)) < 0 ||
	    (rc = import_num(im, "maxmem", &maxmem, &maxmem_set, err)) < 0 ||
	    (rc = import_num(im, "vcpus", &vcpus, &vcpus_set, err)) < 0 ||
	    (rc = import_num(im, "maxvcpus", &maxvcpus, &maxvcpus_set, err)) < 0 ||
	    (rc = import_num(im, "rtc_timeoffset", &off, &off_set, err)) < 0 ||
	    (rc = import_num(im, "cpu_weight", &weight, &weight_set, err)) < 0 ||
	    (rc = import_num(im, "cap", &cap, &cap_set, err)) < 0)
		return rc;
	if (mem_set && (rc = import_put_num(im, "memory", mem, err)) < 0)
		return rc;
	if (!mem_set) {
		/* The agent's default, as the VM file will read. */
		mem = atol(conf_find(conf_vm_keys, conf_vm_nkeys, "memory")->def);
		fprintf(im->head, "; memory: not in the xl.cfg, the agent's default "
			"(%ld MiB)\n", mem);
	}
	if (maxmem_set) {
		if (maxmem < mem)
			return err_set(err, EINVAL, "maxmem: %ld is below memory (%ld)",
				       maxmem, mem);
		if ((rc = import_put_num(im, "maxmem", maxmem, err)) < 0)
			return rc;
	}
	if (vcpus_set && (rc = import_put_num(im, "vcpus", vcpus, err)) < 0)
		return rc;
	if (!vcpus_set)
		vcpus = 1;	/* the agent's default, as the VM file will read */
	if (maxvcpus_set && maxvcpus != vcpus)
		return err_set(err, EINVAL, "maxvcpus: %ld differs from vcpus (%ld): "
			       "vCPU hot-plug is not supported", maxvcpus, vcpus);
	if (off_set && (rc = import_put_num(im, "rtc_timeoffset", off, err)) < 0)
		return rc;
	if (weight_set && (rc = import_put_num(im, "cpu_weight", weight, err)) < 0)
		return rc;
	if (cap_set && cap > 100 * vcpus)
		return err_set(err, EINVAL, "cap: %ld is above 100 x vcpus (%ld)",
			       cap, 100 * vcpus);
	if (cap_set && (rc = import_put_num(im, "cap", cap, err)) < 0)
		return rc;
	return 0;
}

/* kernel, ramdisk, and the command line: xl's cmdline, or else "root=ROOT"
 * and extra joined by a blank; xl ignores root and extra when cmdline is
 * set, which is refused here rather than followed silently. */
static int import_boot(struct import *im, struct agent_err *err)
{
	const char *kernel, *ramdisk, *cmdline, *root, *extra;
	char *line = NULL;
	const char *key;
	size_t n;
	int rc;

	if ((rc = import_str(im, "kernel", &kernel, err)) < 0 ||
	    (rc = import_str(im, "ramdisk", &ramdisk, err)) < 0 ||
	    (rc = import_str(im, "cmdline", &cmdline, err)) < 0 ||
	    (rc = import_str(im, "root", &root, err)) < 0 ||
	    (rc = import_str(im, "extra", &extra, err)) < 0)
		return rc;
	/* kernel = "" is as good as none: the agent's key is required and
	 * its empty value is no value (fuzz_import found it accepted). */
	if (!kernel || !*kernel)
		return err_set(err, EINVAL, "kernel: missing (the agent boots a dom0 "
			       "kernel; there is no bootloader)");
	if ((rc = import_put_vm(im, "kernel", kernel, "kernel", err)) < 0)
		return rc;
	if (ramdisk && (rc = import_put_vm(im, "ramdisk", ramdisk, "ramdisk", err)) < 0)
		return rc;
	if (cmdline && (root || extra))
		return err_set(err, EINVAL, "%s: xl ignores it when cmdline is set; "
			       "keep cmdline or root and extra", root ? "root" : "extra");
	key = cmdline ? "cmdline" : extra ? "extra" : "root";
	if (cmdline)
		line = strdup(cmdline);
	else if (root && extra)
		rc = asprintf(&line, "root=%s %s", root, extra);
	else if (root)
		rc = asprintf(&line, "root=%s", root);
	else if (extra)
		line = strdup(extra);
	else
		return 0;
	if (rc < 0 || !line) {
		line = NULL;
		rc = err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	/* Blanks at either end mean nothing to the kernel (and inih would
	 * strip them): trimmed, not refused. */
	n = strlen(line);
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		line[--n] = '\0';
	n = strspn(line, " \t");
	rc = 0;
	if (line[n])
		rc = import_put_vm(im, "cmdline", line + n, key, err);
out:
	free(line);
	return rc;
}

static int import_actions(struct import *im, struct agent_err *err)
{
	static const char *const keys[] = { "on_poweroff", "on_reboot", "on_crash" };
	const char *v, *crash = "destroy", *watchdog;
	int rc;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if ((rc = import_str(im, keys[i], &v, err)) < 0)
			return rc;
		if (!v)
			continue;
		/* xl's rename-restart, coredump-destroy, coredump-restart and
		 * soft-reset have no equivalent in the agent. */
		if (strcmp(v, "destroy") && strcmp(v, "restart") && strcmp(v, "preserve"))
			return err_set(err, EINVAL, "%s: '%s' is not supported (destroy, "
				       "restart, preserve)", keys[i], v);
		if ((rc = import_put_vm(im, keys[i], v, keys[i], err)) < 0)
			return rc;
		if (!strcmp(keys[i], "on_crash"))
			crash = v;
	}
	/* The agent treats a watchdog firing as a crash (on_crash); an
	 * on_watchdog that says the same is taken, another is not. */
	if ((rc = import_str(im, "on_watchdog", &watchdog, err)) < 0)
		return rc;
	if (watchdog && strcmp(watchdog, crash))
		return err_set(err, EINVAL, "on_watchdog: '%s' differs from on_crash "
			       "('%s'), which the agent applies to a watchdog too",
			       watchdog, crash);
	if ((rc = import_str(im, "tsc_mode", &v, err)) < 0)
		return rc;
	if (v && (rc = import_put_vm(im, "tsc_mode", v, "tsc_mode", err)) < 0)
		return rc;
	return 0;
}

/* A hotplug script: the VM file names one in the agent's script_dir, so a
 * path (/etc/xen/scripts/vif-bridge) keeps its last component. */
static const char *import_script_name(const char *v)
{
	const char *b = strrchr(v, '/');

	return b ? b + 1 : v;
}

static char *import_trim(char *s)
{
	size_t n;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* One vif spec: "key=value,..." (xl-network-configuration); mac, bridge
 * and script map, type=vif is PV's only kind, the rest is refused. */
static int import_vif(struct import *im, int i, const char *spec,
		      struct agent_err *err)
{
	struct vif_conf vc = { 0 };
	bool seen[CONF_VIF_NKEYS] = { false };
	char where[16], *copy, *save = NULL;
	int rc = 0;

	snprintf(where, sizeof(where), "vif[%d]", i);
	copy = strdup(spec);
	if (!copy)
		return err_set(err, ENOMEM, "out of memory");
	fprintf(im->body, "\n[vif.%d]\n", i);
	for (char *item = strtok_r(copy, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq, *key, *val;
		const struct conf_key *k;

		item = import_trim(item);
		if (!*item)
			continue;
		eq = strchr(item, '=');
		if (!eq) {
			rc = err_set(err, EINVAL, "%s: '%s' is not key=value", where, item);
			goto out;
		}
		*eq = '\0';
		key = import_trim(item);
		val = import_trim(eq + 1);
		if (!strcmp(key, "type")) {
			if (strcmp(val, "vif")) {
				rc = err_set(err, EINVAL, "%s: type=%s needs a device model "
					     "(qemu): not supported", where, val);
				goto out;
			}
			continue;
		}
		/* The VM file's model is an HVM guest's emulated NIC, and the
		 * import makes PV guests only. */
		k = strcmp(key, "model") ? conf_find(conf_vif_keys, conf_vif_nkeys, key)
					 : NULL;
		if (!k) {
			rc = err_set(err, EINVAL, "%s: '%s' is not supported (mac, bridge, "
				     "script, type=vif)", where, key);
			goto out;
		}
		if (seen[k - conf_vif_keys]) {
			rc = err_set(err, EINVAL, "%s: %s given twice", where, key);
			goto out;
		}
		seen[k - conf_vif_keys] = true;
		if (!strcmp(key, "script"))
			val = (char *)import_script_name(val);
		rc = import_put(im, conf_vif_keys, conf_vif_nkeys, &vc, key, val,
				where, err);
		if (rc < 0)
			goto out;
	}
out:
	conf_dispose(conf_vif_keys, conf_vif_nkeys, &vc);
	free(copy);
	return rc;
}

/* One disk spec, parsed by libxlutil's xlu_disk_parse (xl-disk-
 * configuration: positional "target,format,vdev,access", the old
 * "phy:/dev/x,xvda,w", and key=value), then mapped: a raw image or block
 * device on blkback; anything that needs qemu or more is refused. */
static int import_disk(struct import *im, int i, const char *spec,
		       struct agent_err *err)
{
	struct vbd_conf vc = { 0 };
	libxl_device_disk d;
	char where[16];
	size_t off;
	int r, rc = 0;

	snprintf(where, sizeof(where), "disk[%d]", i);
	libxl_device_disk_init(&d);
	fflush(im->rep);
	off = im->replen;
	r = xlu_disk_parse(im->cfg, 1, &spec, &d);
	if (r) {
		char prefix[32];

		snprintf(prefix, sizeof(prefix), "%s: ", where);
		rc = import_report(im, off, prefix, r, err);
		goto out;
	}
	if (d.is_cdrom || d.removable)
		rc = err_set(err, EINVAL, "%s: a CD-ROM (devtype=cdrom) is not supported",
			     where);
	else if (d.format != LIBXL_DISK_FORMAT_RAW && d.format != LIBXL_DISK_FORMAT_UNKNOWN)
		rc = err_set(err, EINVAL, "%s: format=%s is not supported (raw only)",
			     where, libxl_disk_format_to_string(d.format));
	else if (d.backend != LIBXL_DISK_BACKEND_UNKNOWN &&
		 d.backend != LIBXL_DISK_BACKEND_PHY)
		rc = err_set(err, EINVAL, "%s: backendtype=%s is not supported (phy)",
			     where, libxl_disk_backend_to_string(d.backend));
	else if (d.backend_domid || d.backend_domname)
		rc = err_set(err, EINVAL, "%s: a backend domain (backend=) is not "
			     "supported", where);
	else if (!libxl_defbool_is_default(d.discard_enable))
		rc = err_set(err, EINVAL, "%s: discard/no-discard is not supported",
			     where);
	else if (d.direct_io_safe)
		rc = err_set(err, EINVAL, "%s: direct-io-safe is not supported", where);
	else if (!libxl_defbool_is_default(d.colo_enable) || d.colo_host ||
		 d.colo_export || d.active_disk || d.hidden_disk)
		rc = err_set(err, EINVAL, "%s: COLO replication is not supported", where);
	else if (d.specification || d.transport)
		rc = err_set(err, EINVAL, "%s: specification/transport (virtio) is not "
			     "supported", where);
	else if (!libxl_defbool_is_default(d.trusted))
		rc = err_set(err, EINVAL, "%s: trusted is not supported", where);
	/* The agent refuses a vdev two [vbd.N] share (vm.c): so does this,
	 * before writing a file the agent would not load.  xl would fail the
	 * second disk's add at start-up. */
	for (int j = 0; !rc && d.vdev && j < i && j < IMPORT_MAX_DEVS; j++)
		if (!strcmp(im->vdev[j], d.vdev))
			rc = err_set(err, EINVAL, "%s: vdev %s also used by disk[%d]",
				     where, d.vdev, j);
	if (rc < 0)
		goto out;
	if (d.vdev && i < IMPORT_MAX_DEVS)
		snprintf(im->vdev[i], sizeof(im->vdev[i]), "%s", d.vdev);
	fprintf(im->body, "\n[vbd.%d]\n", i);
	if ((rc = import_put(im, conf_vbd_keys, conf_vbd_nkeys, &vc, "target",
			     d.pdev_path ? d.pdev_path : "", where, err)) < 0 ||
	    (rc = import_put(im, conf_vbd_keys, conf_vbd_nkeys, &vc, "vdev",
			     d.vdev ? d.vdev : "", where, err)) < 0 ||
	    (rc = import_put(im, conf_vbd_keys, conf_vbd_nkeys, &vc, "mode",
			     d.readwrite ? "w" : "r", where, err)) < 0)
		goto out;
	if (d.script)
		rc = import_put(im, conf_vbd_keys, conf_vbd_nkeys, &vc, "script",
				import_script_name(d.script), where, err);
out:
	libxl_device_disk_dispose(&d);
	conf_dispose(conf_vbd_keys, conf_vbd_nkeys, &vc);
	return rc;
}

/* A boolean setting, 0 or 1 as xl takes it; dflt when absent. */
static int import_bool01(struct import *im, const char *key, long dflt, long *v,
			 struct agent_err *err)
{
	bool set;
	int rc = import_num(im, key, v, &set, err);

	if (rc < 0)
		return rc;
	if (!set)
		*v = dflt;
	else if (*v != 0 && *v != 1)
		return err_set(err, EINVAL, "%s: %ld is not 0 or 1", key, *v);
	return 0;
}

/* xl's global pci_* settings, each pci= entry's defaults (xl's own:
 * permissive 0, msitranslate 1, seize 0). */
static int import_pci_defaults(struct import *im, struct agent_err *err)
{
	int rc;

	if ((rc = import_bool01(im, "pci_permissive", 0, &im->pci_permissive, err)) < 0 ||
	    (rc = import_bool01(im, "pci_msitranslate", 1, &im->pci_msitranslate, err)) < 0)
		return rc;
	return import_bool01(im, "pci_seize", 0, &im->pci_seize, err);
}

/* n hex digits (1..max) at *p: advances *p; false when none or more. */
static bool import_hex(const char **p, int max)
{
	int n = 0;

	while (isxdigit((unsigned char)**p) && n <= max) {
		(*p)++;
		n++;
	}
	return n >= 1 && n <= max;
}

/* A pci spec's grammar, checked before libxlutil sees it: libxlutil 4.17's
 * xlu_pci_parse_spec_string reads past the end of a malformed BDF
 * ("0:00003:00,1" made it SEGV under fuzz_import), so only the form
 * [DDDD:]BB:DD.(F|*)[@VS][,KEY=VALUE]... goes to it, KEY a word, VALUE of
 * letters, digits and '_'.  What is well-formed it then parses as xl. */
static bool import_pci_wellformed(const char *spec)
{
	const char *p = spec, *q = spec;

	/* DDDD: is there when two ':' come before the '.'. */
	if (import_hex(&q, 4) && *q == ':' && (q++, import_hex(&q, 2)) && *q == ':')
		p = strchr(p, ':') + 1;
	if (!import_hex(&p, 2) || *p++ != ':' || !import_hex(&p, 2) || *p++ != '.')
		return false;
	if (*p == '*')
		p++;
	else if (*p >= '0' && *p <= '7')
		p++;
	else
		return false;
	if (*p == '@' && (p++, !import_hex(&p, 2)))
		return false;
	while (*p == ',') {
		const char *k = ++p;

		while (islower((unsigned char)*p) || *p == '_')
			p++;
		if (p == k || *p++ != '=')
			return false;
		k = p;
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		if (p == k || p - k > 32)
			return false;
	}
	return *p == '\0';
}

/* One pci spec (xl-pci-configuration: "[DDDD:]BB:DD.F[@VSLOT][,KEY=VALUE]..."),
 * parsed by libxlutil's xlu_pci_parse_spec_string, then mapped onto a
 * [pci.N] section: the BDF and the options the agent has; a virtual slot,
 * power_mgmt, a device by name or several functions at once are refused,
 * and so is any device of a PVH guest (the agent, like xl, refuses it). */
static int import_pci(struct import *im, int i, const char *spec,
		      struct agent_err *err)
{
	static const char *const yn[] = { "no", "yes" };
	struct pci_conf pc = { 0 };
	libxl_device_pci d;
	char where[16], bdf[16];
	size_t off;
	int r, rc = 0;

	snprintf(where, sizeof(where), "pci[%d]", i);
	libxl_device_pci_init(&d);
	if (im->vm.type == VM_TYPE_PVH) {
		rc = err_set(err, EINVAL, "%s: PCI passthrough is not supported for x86 "
			     "PVH guests (xl refuses it too)", where);
		goto out;
	}
	d.permissive = im->pci_permissive;
	d.msitranslate = im->pci_msitranslate;
	d.seize = im->pci_seize;
	fflush(im->rep);
	off = im->replen;
	r = import_pci_wellformed(spec) ? xlu_pci_parse_spec_string(im->cfg, &d, spec)
					: EINVAL;
	if (r) {
		bool printable = strlen(spec) < 80;

		/* It returns libxl's ERROR_INVAL and says nothing in its
		 * report for a malformed BDF: name the form then. */
		fflush(im->rep);
		if (im->repbuf && im->replen > off) {
			char prefix[32];

			snprintf(prefix, sizeof(prefix), "%s: ", where);
			rc = import_report(im, off, prefix, r < 0 ? EINVAL : r, err);
			goto out;
		}
		for (const char *c = spec; *c && printable; c++)
			printable = isprint((unsigned char)*c);
		rc = err_set(err, EINVAL, "%s: '%s' is not a PCI device: "
			     "[DDDD:]BB:DD.F[@VSLOT][,KEY=VALUE...]", where,
			     printable ? spec : "(unprintable)");
		goto out;
	}
	if (d.name)
		rc = err_set(err, EINVAL, "%s: a device by name is not supported (give "
			     "its BDF)", where);
	else if (d.vfunc_mask & (d.vfunc_mask - 1))	/* more than one bit: ".*" */
		rc = err_set(err, EINVAL, "%s: several functions at once (.*) are not "
			     "supported: one [pci.N] each", where);
	else if (d.vdevfn)
		rc = err_set(err, EINVAL, "%s: a virtual slot (@VSLOT) is not supported",
			     where);
	else if (d.power_mgmt)
		rc = err_set(err, EINVAL, "%s: power_mgmt is not supported", where);
	if (rc < 0)
		goto out;
	snprintf(bdf, sizeof(bdf), "%04x:%02x:%02x.%x", (unsigned)d.domain & 0xffff,
		 d.bus, d.dev, d.func);
	/* The agent refuses a BDF two [pci.N] share (vm.c): so does this. */
	for (int j = 0; j < i && j < IMPORT_MAX_DEVS; j++)
		if (!strcmp(im->bdf[j], bdf)) {
			rc = err_set(err, EINVAL, "%s: %s also used by pci[%d]", where, bdf, j);
			goto out;
		}
	if (i < IMPORT_MAX_DEVS)
		snprintf(im->bdf[i], sizeof(im->bdf[i]), "%s", bdf);
	fprintf(im->body, "\n[pci.%d]\n", i);
	if ((rc = import_put(im, conf_pci_keys, conf_pci_nkeys, &pc, "bdf", bdf, where,
			     err)) < 0 ||
	    (rc = import_put(im, conf_pci_keys, conf_pci_nkeys, &pc, "permissive",
			     yn[!!d.permissive], where, err)) < 0 ||
	    (rc = import_put(im, conf_pci_keys, conf_pci_nkeys, &pc, "msitranslate",
			     yn[!!d.msitranslate], where, err)) < 0 ||
	    (rc = import_put(im, conf_pci_keys, conf_pci_nkeys, &pc, "rdm_policy",
			     d.rdm_policy == LIBXL_RDM_RESERVE_POLICY_RELAXED ? "relaxed"
									      : "strict",
			     where, err)) < 0 ||
	    (rc = import_put(im, conf_pci_keys, conf_pci_nkeys, &pc, "seize",
			     yn[!!d.seize], where, err)) < 0)
		goto out;
out:
	libxl_device_pci_dispose(&d);
	conf_dispose(conf_pci_keys, conf_pci_nkeys, &pc);
	return rc;
}

/* vif = [...], disk = [...] or pci = [...]: each entry a string, at most 8. */
static int import_devices(struct import *im, const char *key,
			  int (*one)(struct import *, int, const char *,
				     struct agent_err *),
			  struct agent_err *err)
{
	XLU_ConfigList *list = NULL;
	int n = 0, r, rc;

	r = xlu_cfg_get_list(im->cfg, key, &list, &n, 1);
	if (r == ESRCH)
		return 0;
	if (r)
		return err_set(err, EINVAL, "%s: not a list", key);
	if (n > IMPORT_MAX_DEVS)
		return err_set(err, EINVAL, "%s: %d entries, at most %d", key, n,
			       IMPORT_MAX_DEVS);
	for (int i = 0; i < n; i++) {
		const char *spec = xlu_cfg_get_listitem(list, i);

		if (!spec)
			return err_set(err, EINVAL, "%s[%d]: not a string", key, i);
		rc = one(im, i, spec, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int import_read(const char *path, char **data_r, size_t *len_r,
		       struct agent_err *err)
{
	FILE *f = NULL;
	char *data = NULL, *nul;
	size_t len;
	int rc = 0;

	f = fopen(path, "re");
	if (!f) {
		rc = err_sys(err, errno, "%s", path);
		goto out;
	}
	data = malloc(IMPORT_MAX_FILE + 1);
	if (!data) {
		rc = err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	len = fread(data, 1, IMPORT_MAX_FILE + 1, f);
	if (ferror(f)) {
		rc = err_sys(err, errno ? errno : EIO, "%s: read", path);
		goto out;
	}
	if (len > IMPORT_MAX_FILE) {
		rc = err_set(err, EFBIG, "%s: larger than %d bytes", path, IMPORT_MAX_FILE);
		goto out;
	}
	/* libxlutil asserts (aborts the process) on a NUL inside a quoted
	 * string; no text file has one. */
	nul = memchr(data, '\0', len);
	if (nul) {
		unsigned line = 1;

		for (const char *p = data; p < nul; p++)
			line += *p == '\n';
		rc = err_set(err, EINVAL, "%s:%u: a NUL byte: not a text file", path, line);
		goto out;
	}
	data[len] = '\0';
	*data_r = data;
	*len_r = len;
	data = NULL;
out:
	free(data);
	if (f)
		fclose(f);
	return rc;
}

int import_xlcfg(const char *cfg_path, FILE *out, char *errbuf, size_t errlen)
{
	struct import im = { .path = cfg_path };
	struct agent_err err;
	char *data = NULL;
	size_t len = 0;
	int r, rc;

	err_clear(&err);
	rc = import_read(cfg_path, &data, &len, &err);
	if (rc < 0)
		goto out;
	im.rep = open_memstream(&im.repbuf, &im.replen);
	im.head = open_memstream(&im.headbuf, &im.headlen);
	im.body = open_memstream(&im.bodybuf, &im.bodylen);
	if (!im.rep || !im.head || !im.body) {
		rc = err_set(&err, ENOMEM, "out of memory");
		goto out;
	}
	im.cfg = xlu_cfg_init(im.rep, cfg_path);
	if (!im.cfg) {
		rc = err_set(&err, ENOMEM, "out of memory");
		goto out;
	}
	r = xlu_cfg_readdata(im.cfg, data, (int)len);
	if (r) {
		rc = import_report(&im, 0, "", r, &err);
		goto out;
	}
	/* The path in a comment: one line of printable text. */
	fprintf(im.head, "; Imported from ");
	for (const char *p = cfg_path; *p; p++)
		fputc(isprint((unsigned char)*p) ? *p : '?', im.head);
	fprintf(im.head, " by xsagentctl import.\n");
	fprintf(im.body, "[vm]\n");
	if ((rc = import_scan(&im, data, len, &err)) < 0 ||
	    (rc = import_name_uuid(&im, &err)) < 0 ||
	    (rc = import_type(&im, &err)) < 0 ||
	    (rc = import_sizes(&im, &err)) < 0 ||
	    (rc = import_boot(&im, &err)) < 0 ||
	    (rc = import_actions(&im, &err)) < 0 ||
	    (rc = import_devices(&im, "vif", import_vif, &err)) < 0 ||
	    (rc = import_devices(&im, "disk", import_disk, &err)) < 0 ||
	    (rc = import_pci_defaults(&im, &err)) < 0 ||
	    (rc = import_devices(&im, "pci", import_pci, &err)) < 0)
		goto out;
	if (fflush(im.head) || fflush(im.body)) {
		rc = err_set(&err, ENOMEM, "out of memory");
		goto out;
	}
	if (fwrite(im.headbuf, 1, im.headlen, out) != im.headlen ||
	    fwrite(im.bodybuf, 1, im.bodylen, out) != im.bodylen || fflush(out)) {
		rc = err_sys(&err, errno ? errno : EIO, "writing the VM file");
		goto out;
	}
out:
	if (im.cfg)
		xlu_cfg_destroy(im.cfg);
	conf_dispose(conf_vm_keys, conf_vm_nkeys, &im.vm);
	if (im.rep)
		fclose(im.rep);
	if (im.head)
		fclose(im.head);
	if (im.body)
		fclose(im.body);
	free(im.repbuf);
	free(im.headbuf);
	free(im.bodybuf);
	free(data);
	if (rc < 0 && errbuf && errlen) {
		/* One line, printable: messages quote the file's values (a
		 * name with "\n" in it, fuzz_import found). */
		for (char *c = err.msg; *c; c++)
			if (iscntrl((unsigned char)*c))
				*c = '?';
		snprintf(errbuf, errlen, "%s", err.msg);
	}
	return rc;
}
