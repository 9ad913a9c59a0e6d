#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vm.h"

const char *const vm_state_names[] = {
	[VM_HALTED] = "halted", [VM_STARTING] = "starting",
	[VM_RUNNING] = "running", [VM_PAUSED] = "paused",
	[VM_SHUTDOWN] = "shutdown", [VM_CRASHED] = "crashed",
};

struct vm_parse {
	struct vm *vm;
	bool seen[CONF_VM_NKEYS];
};

static int vm_key(void *user, const char *section, const char *name,
		  const char *value, struct agent_err *err)
{
	struct vm_parse *p = user;
	const struct conf_key *k;

	if (strcmp(section, "vm"))
		return err_set(err, EINVAL, "unknown section [%s]", section);
	k = conf_find(conf_vm_keys, conf_vm_nkeys, name);
	if (!k)
		return err_set(err, EINVAL, "unknown key '%s'", name);
	if (p->seen[k - conf_vm_keys])
		return err_set(err, EINVAL, "duplicate key '%s'", name);
	p->seen[k - conf_vm_keys] = true;
	return conf_set(k, &p->vm->conf, value, err);
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

struct vm *vm_load_file(const char *path, struct conf_diag *diag)
{
	struct vm_parse p = { 0 };
	unsigned before = diag->n;
	struct vm *vm;
	int rc;

	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return NULL;
	vm->domid = -1;
	vm->file = strdup(path);
	p.vm = vm;
	rc = conf_parse_file(path, vm_key, &p, diag);
	if (conf_apply_defaults(conf_vm_keys, conf_vm_nkeys, &vm->conf, p.seen,
				path, diag) < 0)
		rc = -EINVAL;
	if (!rc && vm->conf.maxmem && vm->conf.maxmem < vm->conf.memory) {
		conf_diag_add(diag, "%s: maxmem (%lld) is below memory (%lld)",
			      path, vm->conf.maxmem, vm->conf.memory);
		rc = -EINVAL;
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
	free(vm->file);
	free(vm->error);
	free(vm);
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

int vm_load_dir(const char *dir, struct vm_list *list, struct conf_diag *diag)
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
		vm = vm_load_file(path, diag);
		free(path);
		if (!vm) {
			rc = -ENOMEM;
			break;
		}
		if (!vm->valid)
			rc = -EINVAL;
		for (struct vm *o = list->head; o; o = o->next) {
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
	unsigned char u[16];
	struct vm *vm;
	char *end;
	long d;

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
