#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm.h"

const char *const vm_state_names[] = {
	[VM_HALTED] = "halted", [VM_STARTING] = "starting",
	[VM_RUNNING] = "running", [VM_PAUSED] = "paused",
	[VM_SHUTDOWN] = "shutdown", [VM_CRASHED] = "crashed",
};

struct vm_parse {
	struct vm *vm;
	bool seen[CONF_VM_NKEYS];
	bool vif_seen[VM_MAX_DEVS][CONF_VIF_NKEYS];
	bool vbd_seen[VM_MAX_DEVS][CONF_VBD_NKEYS];
	unsigned vbd_line[VM_MAX_DEVS][CONF_VBD_NKEYS];
	unsigned vif_line[VM_MAX_DEVS][CONF_VIF_NKEYS];
	bool pci_seen[VM_MAX_DEVS][CONF_PCI_NKEYS];
	unsigned pci_line[VM_MAX_DEVS][CONF_PCI_NKEYS];
	unsigned pci_section_line[VM_MAX_DEVS];
};

/* "vif.3" -> 3; -1 when section is not "<kind>.<0-7>". */
static int dev_index(const char *section, const char *kind)
{
	size_t n = strlen(kind);

	if (strncmp(section, kind, n) || section[n] != '.' ||
	    section[n + 1] < '0' || section[n + 1] >= '0' + VM_MAX_DEVS ||
	    section[n + 2])
		return -1;
	return section[n + 1] - '0';
}

/* The values of HVM keys whose syntax is more than a table can say: serial
 * is "none", "pty" or "file:" and an absolute path (the device model's
 * -serial, as xl passes it, limited to what cannot name a host device);
 * boot is a BIOS boot order, each of c, d, n, a at most once. */
static int vm_check_hvm_value(const char *key, const char *value,
			      struct agent_err *err)
{
	if (!strcmp(key, "serial")) {
		if (!strcmp(value, "none") || !strcmp(value, "pty"))
			return 0;
		if (strncmp(value, "file:", 5) || value[5] != '/' || strchr(value, ','))
			return err_set(err, EINVAL, "serial: '%s' is not none, pty or "
				       "file:PATH (an absolute path without ',')", value);
		return 0;
	}
	if (!strcmp(key, "boot")) {
		if (!*value)
			return err_set(err, EINVAL, "boot: empty (c, d, n or a, e.g. cda)");
		for (const char *c = value; *c; c++)
			if (!strchr("cdna", *c) || strchr(c + 1, *c))
				return err_set(err, EINVAL, "boot: '%s' is not a boot order "
					       "(c, d, n, a, each at most once)", value);
	}
	return 0;
}

static int vm_key(void *user, const char *section, const char *name,
		  const char *value, unsigned line, struct agent_err *err)
{
	struct vm_parse *p = user;
	const struct conf_key *keys;
	size_t nkeys;
	bool *seen;
	unsigned *lines = NULL;
	void *base;
	int i;

	if (!strcmp(section, "vm")) {
		keys = conf_vm_keys, nkeys = conf_vm_nkeys;
		seen = p->seen, base = &p->vm->conf;
	} else if ((i = dev_index(section, "vif")) >= 0) {
		keys = conf_vif_keys, nkeys = conf_vif_nkeys;
		seen = p->vif_seen[i], base = &p->vm->vif[i];
		lines = p->vif_line[i];
		p->vm->vif_mask |= 1u << i;
	} else if ((i = dev_index(section, "vbd")) >= 0) {
		keys = conf_vbd_keys, nkeys = conf_vbd_nkeys;
		seen = p->vbd_seen[i], base = &p->vm->vbd[i];
		lines = p->vbd_line[i];
		p->vm->vbd_mask |= 1u << i;
	} else if ((i = dev_index(section, "pci")) >= 0) {
		keys = conf_pci_keys, nkeys = conf_pci_nkeys;
		seen = p->pci_seen[i], base = &p->vm->pci[i];
		lines = p->pci_line[i];
		if (!(p->vm->pci_mask & 1u << i))
			p->pci_section_line[i] = line;
		p->vm->pci_mask |= 1u << i;
	} else {
		return err_set(err, EINVAL, "unknown section [%s] (vm, vif.0-7, vbd.0-7, pci.0-7)",
			       section);
	}
	if (!name)
		return 0;	/* a section header: the device exists */
	const struct conf_key *k = conf_find(keys, nkeys, name);

	if (!k)
		return err_set(err, EINVAL, "unknown key '%s' in [%s]", name, section);
	if (seen[k - keys])
		return err_set(err, EINVAL, "duplicate key '%s'", name);
	seen[k - keys] = true;
	if (lines)
		lines[k - keys] = line;
	/* The name is a node name in xenstore (<root>/vm/<name>), and
	 * xenstored refuses "." in node names: such a VM would get no
	 * record, so the name is refused here rather than half-working. */
	if (k->kind == CK_NAME && conf_valid_name(value) && strchr(value, '.'))
		return err_set(err, EINVAL,
			       "%s: '%s' has a '.', which xenstore refuses in node names (use - or _)",
			       k->name, value);
	if (base == &p->vm->conf) {
		int rc = vm_check_hvm_value(k->name, value, err);

		if (rc < 0)
			return rc;
	}
	return conf_set(k, base, value, err);
}

/* The line a device key was set on (0: defaulted). */
static unsigned key_line(const unsigned *lines, const struct conf_key *keys,
			 size_t n, const char *key)
{
	const struct conf_key *k = conf_find(keys, n, key);

	return k ? lines[k - keys] : 0;
}

/* Checks across keys and against dom0: unique vdevs, disk targets that
 * exist, scripts that are there to run. */
static int vm_check_devices(struct vm *vm, struct vm_parse *p,
			    const char *script_dir, struct conf_diag *diag)
{
	const char *path = vm->file;
	char sp[1200];
	struct stat st;
	int rc = 0;

	for (int i = 0; i < VM_MAX_DEVS; i++) {
		const struct vbd_conf *d = &vm->vbd[i];

		if (!(vm->vbd_mask & 1u << i) || !d->target)
			continue;
		for (int j = 0; j < i && d->vdev; j++)
			if ((vm->vbd_mask & 1u << j) && vm->vbd[j].vdev &&
			    !strcmp(vm->vbd[j].vdev, d->vdev)) {
				conf_diag_add(diag, "%s:%u: [vbd.%d] vdev %s also used by [vbd.%d]",
					      path, key_line(p->vbd_line[i], conf_vbd_keys,
							     conf_vbd_nkeys, "vdev"),
					      i, d->vdev, j);
				rc = -EINVAL;
			}
		unsigned tl = key_line(p->vbd_line[i], conf_vbd_keys, conf_vbd_nkeys,
				       "target");

		if (stat(d->target, &st) < 0) {
			conf_diag_add(diag, "%s:%u: [vbd.%d] target %s: %s", path, tl, i,
				      d->target, strerror(errno));
			rc = -EINVAL;
		} else if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
			conf_diag_add(diag, "%s:%u: [vbd.%d] target %s is neither a file "
				      "nor a block device", path, tl, i, d->target);
			rc = -EINVAL;
		}
	}
	for (int i = 0; i < VM_MAX_DEVS; i++) {
		const struct pci_conf *d = &vm->pci[i];

		if (!(vm->pci_mask & 1u << i))
			continue;
		/* As libxl refuses it (libxl_pci.c): Xen 4.17 has no
		 * passthrough for PVH guests. */
		if (vm->conf.type == VM_TYPE_PVH) {
			conf_diag_add(diag, "%s:%u: [pci.%d] PCI passthrough is not supported "
				      "for x86 PVH guests (type = pvh)", path,
				      p->pci_section_line[i], i);
			rc = -EINVAL;
		}
		for (int j = 0; j < i && d->bdf; j++)
			if ((vm->pci_mask & 1u << j) && vm->pci[j].bdf &&
			    !strcmp(vm->pci[j].bdf, d->bdf)) {
				conf_diag_add(diag, "%s:%u: [pci.%d] bdf %s also used by [pci.%d]",
					      path, key_line(p->pci_line[i], conf_pci_keys,
							     conf_pci_nkeys, "bdf"),
					      i, d->bdf, j);
				rc = -EINVAL;
			}
	}
	for (int i = 0; i < 2 * VM_MAX_DEVS; i++) {
		bool vif = i < VM_MAX_DEVS;
		int n = i % VM_MAX_DEVS;
		const char *script = vif ? vm->vif[n].script : vm->vbd[n].script;
		unsigned line = vif ? key_line(p->vif_line[n], conf_vif_keys,
					       conf_vif_nkeys, "script")
				    : key_line(p->vbd_line[n], conf_vbd_keys,
					       conf_vbd_nkeys, "script");

		if (!((vif ? vm->vif_mask : vm->vbd_mask) & 1u << n) || !script)
			continue;
		snprintf(sp, sizeof(sp), "%s/%s", script_dir, script);
		if (access(sp, X_OK) < 0) {
			if (line)
				conf_diag_add(diag, "%s:%u: [%s.%d] script %s: %s", path, line,
					      vif ? "vif" : "vbd", n, sp, strerror(errno));
			else
				conf_diag_add(diag, "%s: [%s.%d] default script %s: %s", path,
					      vif ? "vif" : "vbd", n, sp, strerror(errno));
			rc = -EINVAL;
		}
	}
	return rc;
}

static void base_name(const char *path, char out[65])
{
	const char *b = strrchr(path, '/');
	size_t n;

	b = b ? b + 1 : path;
	n = strcspn(b, ".");
	if (n > 64)
		n = 64;
	memcpy(out, b, n);
	out[n] = '\0';
}

struct vm *vm_load_file(const char *path, const char *script_dir,
			struct conf_diag *diag)
{
	struct vm_parse p = { 0 };
	unsigned before = diag->n;
	struct vm *vm;
	int rc;

	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return NULL;
	vm->domid = -1;
	vm->rollback_domid = -1;
	vm->file = strdup(path);
	p.vm = vm;
	rc = conf_parse_file(path, vm_key, &p, diag);
	if (conf_apply_defaults(conf_vm_keys, conf_vm_nkeys, &vm->conf, p.seen,
				path, diag) < 0)
		rc = -EINVAL;
	for (int i = 0; i < VM_MAX_DEVS; i++) {
		char where[300];

		snprintf(where, sizeof(where), "%s: [vif.%d]", path, i);
		if ((vm->vif_mask & 1u << i) &&
		    conf_apply_defaults(conf_vif_keys, conf_vif_nkeys, &vm->vif[i],
					p.vif_seen[i], where, diag) < 0)
			rc = -EINVAL;
		snprintf(where, sizeof(where), "%s: [vbd.%d]", path, i);
		if ((vm->vbd_mask & 1u << i) &&
		    conf_apply_defaults(conf_vbd_keys, conf_vbd_nkeys, &vm->vbd[i],
					p.vbd_seen[i], where, diag) < 0)
			rc = -EINVAL;
		snprintf(where, sizeof(where), "%s: [pci.%d]", path, i);
		if ((vm->pci_mask & 1u << i) &&
		    conf_apply_defaults(conf_pci_keys, conf_pci_nkeys, &vm->pci[i],
					p.pci_seen[i], where, diag) < 0)
			rc = -EINVAL;
	}
	if (vm_check_devices(vm, &p, script_dir, diag) < 0)
		rc = -EINVAL;
	if (!rc && vm->conf.cap > 100 * vm->conf.vcpus) {
		conf_diag_add(diag, "%s: cap (%lld) is above 100 x vcpus (%lld)",
			      path, vm->conf.cap, 100 * vm->conf.vcpus);
		rc = -EINVAL;
	}
	if (!rc && vm->conf.maxmem && vm->conf.maxmem < vm->conf.memory) {
		conf_diag_add(diag, "%s: maxmem (%lld) is below memory (%lld)",
			      path, vm->conf.maxmem, vm->conf.memory);
		rc = -EINVAL;
	}
	/* kernel is required, but an HVM guest may boot from its first
	 * disk instead (its BIOS does, in boot order). */
	if (vm->conf.kernel && !*vm->conf.kernel) {
		bool disk = false;

		for (int i = 0; i < VM_MAX_DEVS; i++)
			disk |= !!(vm->vbd_mask & 1u << i);
		if (vm->conf.type != VM_TYPE_HVM) {
			conf_diag_add(diag, "%s: missing key 'kernel'", path);
			rc = -EINVAL;
		} else if (!disk) {
			conf_diag_add(diag, "%s: missing key 'kernel' (an HVM guest without "
				      "one boots from a disk, and it has no [vbd.N])", path);
			rc = -EINVAL;
		}
	}
	if (vm->conf.type != VM_TYPE_HVM) {
		/* The keys of an emulated machine mean nothing to a PV or PVH
		 * guest: refused rather than ignored (xl ignores them). */
		static const char *const hvm_keys[] = { "vga", "serial", "viridian",
							"boot", "hdtype" };

		for (size_t i = 0; i < sizeof(hvm_keys) / sizeof(hvm_keys[0]); i++) {
			const struct conf_key *k = conf_find(conf_vm_keys, conf_vm_nkeys,
							     hvm_keys[i]);

			if (k && p.seen[k - conf_vm_keys]) {
				conf_diag_add(diag, "%s: %s is only for type = hvm", path,
					      hvm_keys[i]);
				rc = -EINVAL;
			}
		}
		for (int i = 0; i < VM_MAX_DEVS; i++) {
			unsigned line = key_line(p.vif_line[i], conf_vif_keys,
						 conf_vif_nkeys, "model");

			if ((vm->vif_mask & 1u << i) && line) {
				conf_diag_add(diag, "%s:%u: [vif.%d] model is only for "
					      "type = hvm", path, line, i);
				rc = -EINVAL;
			}
		}
	}
	if (vm->conf.name)
		snprintf(vm->name, sizeof(vm->name), "%s", vm->conf.name);
	else
		base_name(path, vm->name);
	vm->valid = !rc && vm->file;
	if (!vm->valid)
		vm->error = strdup(diag->n > before ? diag->lines[before]
						     : "out of memory");
	return vm;
}

void vm_free(struct vm *vm)
{
	if (!vm)
		return;
	conf_dispose(conf_vm_keys, conf_vm_nkeys, &vm->conf);
	for (int i = 0; i < VM_MAX_DEVS; i++) {
		conf_dispose(conf_vif_keys, conf_vif_nkeys, &vm->vif[i]);
		conf_dispose(conf_vbd_keys, conf_vbd_nkeys, &vm->vbd[i]);
		conf_dispose(conf_pci_keys, conf_pci_nkeys, &vm->pci[i]);
	}
	free(vm->file);
	free(vm->error);
	free(vm->devs);		/* a domain still running when the agent exits */
	free(vm->pci_set);
	vm_free(vm->next_def);
	free(vm);
}

bool vm_take_next_def(struct vm *vm, char old_name[65])
{
	struct vm *nv = vm->next_def, tmp;
	bool renamed;

	if (!nv)
		return false;
	memcpy(old_name, vm->name, 65);
	renamed = strcmp(vm->name, nv->name) != 0;
	/* Swap the definition halves; nv then holds the old one, freed. */
#define SWAP(f) do { memcpy(&tmp.f, &vm->f, sizeof(vm->f)); \
		     memcpy(&vm->f, &nv->f, sizeof(vm->f)); \
		     memcpy(&nv->f, &tmp.f, sizeof(vm->f)); } while (0)
	SWAP(file);
	SWAP(name);
	SWAP(valid);
	SWAP(error);
	SWAP(conf);
	SWAP(vif);
	SWAP(vbd);
	SWAP(vif_mask);
	SWAP(vbd_mask);
	SWAP(pci);
	SWAP(pci_mask);
#undef SWAP
	vm->next_def = NULL;
	vm_free(nv);
	return renamed;
}

void vm_list_dispose(struct vm_list *list)
{
	struct vm *next;

	for (struct vm *vm = list->head; vm; vm = next) {
		next = vm->next;
		vm_free(vm);
	}
	list->head = NULL;
	list->n = 0;
}

unsigned vm_pci_shared(const struct vm_list *list, struct conf_diag *warn)
{
	unsigned n = 0;

	for (const struct vm *a = list->head; a; a = a->next)
		for (const struct vm *b = a->next; b; b = b->next) {
			if (!a->valid || !b->valid)
				continue;
			for (int i = 0; i < VM_MAX_DEVS; i++)
				for (int j = 0; j < VM_MAX_DEVS; j++) {
					if (!(a->pci_mask & 1u << i) ||
					    !(b->pci_mask & 1u << j) ||
					    strcmp(a->pci[i].bdf, b->pci[j].bdf))
						continue;
					conf_diag_add(warn, "%s: [pci.%d] %s also in %s [pci.%d] "
						      "(only one of them can run with it at a time)",
						      a->file, i, a->pci[i].bdf, b->file, j);
					n++;
				}
		}
	return n;
}

static int ini_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 4 && !strcmp(d->d_name + n - 4, ".ini");
}

static void vm_invalidate(struct vm *vm, struct conf_diag *diag,
			  const char *why, const struct vm *other)
{
	conf_diag_add(diag, "%s: %s also used by %s", vm->file, why, other->file);
	if (vm->valid) {
		vm->valid = false;
		free(vm->error);
		vm->error = strdup(diag->lines[diag->n - 1]);
	}
}

void vm_vif_mac(const struct vm *vm, int i, char out[18])
{
	uint32_t h = 2166136261u;	/* FNV-1a over the whole UUID and i */

	if (*vm->vif[i].mac) {
		snprintf(out, 18, "%s", vm->vif[i].mac);
		return;
	}
	for (int k = 0; k < 16; k++)
		h = (h ^ vm->conf.uuid[k]) * 16777619u;
	h = (h ^ (uint32_t)i) * 16777619u;
	/* Xen's OUI; the 24 bits left, less the top one (Xen's tools keep
	 * it clear), from the hash: neighbouring UUIDs no longer collide. */
	snprintf(out, 18, "00:16:3e:%02x:%02x:%02x", (h >> 16) & 0x7f,
		 (h >> 8) & 0xff, h & 0xff);
}

/* Two vifs with one MAC on a bridge steal each other's traffic: a clash
 * between two VM files, or two vifs of one, makes the file(s) invalid. */
static bool mac_clash(struct vm *a, struct vm *b, struct conf_diag *diag)
{
	char ma[18], mb[18];
	bool clash = false;

	if (!a->conf.name || !b->conf.name)
		return false;
	for (int i = 0; i < VM_MAX_DEVS; i++) {
		/* A mac key that was refused is NULL (and the file invalid
		 * already): nothing to compare. */
		if (!(a->vif_mask & 1u << i) || !a->vif[i].mac)
			continue;
		vm_vif_mac(a, i, ma);
		for (int j = 0; j < VM_MAX_DEVS; j++) {
			if (!(b->vif_mask & 1u << j) || !b->vif[j].mac ||
			    (a == b && j <= i))
				continue;
			vm_vif_mac(b, j, mb);
			if (strcasecmp(ma, mb))
				continue;
			conf_diag_add(diag, "%s: [vif.%d] MAC %s also used by %s [vif.%d]",
				      a->file, i, ma, b->file, j);
			if (a->valid) {
				a->valid = false;
				free(a->error);
				a->error = strdup(diag->lines[diag->n - 1]);
			}
			clash = true;
		}
	}
	return clash;
}

int vm_load_dir(const char *dir, const char *script_dir, struct vm_list *list,
		struct conf_diag *diag)
{
	struct dirent **ents = NULL;
	struct vm **tail = &list->head;
	int n, rc = 0;

	n = scandir(dir, &ents, ini_filter, alphasort);
	if (n < 0) {
		rc = -errno;
		conf_diag_add(diag, "%s: %s", dir, strerror(errno));
		return rc;
	}
	for (int i = 0; i < n; i++) {
		char *path = NULL;
		struct vm *vm;

		if (asprintf(&path, "%s/%s", dir, ents[i]->d_name) < 0) {
			rc = -ENOMEM;
			break;
		}
		vm = vm_load_file(path, script_dir, diag);
		free(path);
		if (!vm) {
			rc = -ENOMEM;
			break;
		}
		if (mac_clash(vm, vm, diag) || !vm->valid)
			rc = -EINVAL;
		for (struct vm *o = list->head; o; o = o->next) {
			if (mac_clash(vm, o, diag)) {
				mac_clash(o, vm, diag);
				rc = -EINVAL;
			}
			if (!strcmp(o->name, vm->name)) {
				vm_invalidate(vm, diag, "name", o);
				vm_invalidate(o, diag, "name", vm);
				rc = -EINVAL;
			} else if (o->conf.name && vm->conf.name &&
				   !memcmp(o->conf.uuid, vm->conf.uuid, 16)) {
				vm_invalidate(vm, diag, "uuid", o);
				vm_invalidate(o, diag, "uuid", vm);
				rc = -EINVAL;
			}
		}
		*tail = vm;
		tail = &vm->next;
		list->n++;
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return rc;
}

struct vm *vm_find_uuid(const struct vm_list *list, const unsigned char u[16])
{
	for (struct vm *vm = list->head; vm; vm = vm->next)
		if (vm->valid && !memcmp(vm->conf.uuid, u, 16))
			return vm;
	return NULL;
}

struct vm *vm_find_domid(const struct vm_list *list, int domid)
{
	for (struct vm *vm = list->head; vm; vm = vm->next)
		if (vm->domid >= 0 && vm->domid == domid)
			return vm;
	return NULL;
}

struct vm *vm_lookup(const struct vm_list *list, const char *key,
		     enum vm_match *how_r)
{
	enum vm_match ignore;
	unsigned char u[16];
	struct vm *vm;
	char *end;
	long d;

	if (!how_r)
		how_r = &ignore;
	for (vm = list->head; vm; vm = vm->next)
		if (!strcmp(vm->name, key)) {
			*how_r = VM_BY_NAME;
			return vm;
		}
	errno = 0;
	d = strtol(key, &end, 10);
	if (*key >= '0' && *key <= '9' && !*end && !errno && d < 65536) {
		vm = vm_find_domid(list, (int)d);
		if (vm) {
			*how_r = VM_BY_DOMID;
			return vm;
		}
	}
	if (conf_parse_uuid(key, u) == 0) {
		vm = vm_find_uuid(list, u);
		if (vm) {
			*how_r = VM_BY_UUID;
			return vm;
		}
	}
	return NULL;
}
