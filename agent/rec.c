/* The agent's records under its control root (rec.h). */
#include <stdio.h>

#include "log.h"
#include "rec.h"

void rec_put(const struct rec *r, const char *rel, const char *val)
{
	struct agent_err err;
	char p[512];
	int rc;

	snprintf(p, sizeof(p), "%s/%s", r->root, rel);
	rc = val ? store_write(r->store, STORE_NOTX, p, val, &err)
		 : store_rm(r->store, STORE_NOTX, p, &err);
	if (rc < 0)
		log_warn("%s", err.msg);
}

void rec_put_vm(const struct rec *r, const struct vm *vm, const char *key,
		const char *val)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "vm/%s/%s", vm->name, key);
	rec_put(r, rel, val);
}

void rec_get_vm(const struct rec *r, const struct vm *vm, const char *key,
		char *buf, size_t n)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/vm/%s/%s", r->root, vm->name, key);
	store_read_str(r->store, STORE_NOTX, p, buf, n);
}

void rec_publish_vm(const struct rec *r, struct vm *vm)
{
	char uuid[37], val[32];

	if (!vm->published) {
		const struct vm_conf *c = &vm->conf;

		rec_put_vm(r, vm, "file", vm->file);
		rec_put_vm(r, vm, "error", vm->valid ? NULL : vm->error);
		if (vm->valid) {
			conf_format_uuid(c->uuid, uuid);
			rec_put_vm(r, vm, "uuid", uuid);
			rec_put_vm(r, vm, "type", conf_vm_types[c->type]);
			snprintf(val, sizeof(val), "%lld", c->memory);
			rec_put_vm(r, vm, "memory", val);
			snprintf(val, sizeof(val), "%lld", c->vcpus);
			rec_put_vm(r, vm, "vcpus", val);
			rec_put_vm(r, vm, "autostart", conf_yes_no[c->autostart]);
		}
		vm->published = true;
		vm->pub_state = -1;
		vm->pub_domid = -2;
	}
	if (vm->pub_state != (int)vm->state) {
		rec_put_vm(r, vm, "state",
			   vm->valid ? vm_state_names[vm->state] : "invalid");
		vm->pub_state = (int)vm->state;
	}
	if (vm->pub_domid != vm->domid) {
		snprintf(val, sizeof(val), "%d", vm->domid);
		rec_put_vm(r, vm, "domid", vm->domid >= 0 ? val : "");
		vm->pub_domid = vm->domid;
	}
}

void rec_take_next_def(const struct rec *r, struct vm *vm)
{
	char old_name[65], rel[128];

	if (!vm->next_def)
		return;
	if (vm_take_next_def(vm, old_name)) {
		snprintf(rel, sizeof(rel), "vm/%s", old_name);
		rec_put(r, rel, NULL);
	}
	log_info("%s: takes its VM file as re-read while it ran", vm->name);
	vm->published = false;
	rec_publish_vm(r, vm);
}
