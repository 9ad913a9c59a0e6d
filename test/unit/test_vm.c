/* The VM registry: loading a directory and xend's lookup order. */
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "vm.h"

static char dir[] = "/tmp/xsagent-vms-XXXXXX";

static void put(const char *name, const char *vmname, const char *uuid)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	fprintf(f, "[vm]\nname = %s\nuuid = %s\nkernel = /k\n", vmname, uuid);
	fclose(f);
}

int main(void)
{
	struct vm_list l = { 0 };
	struct conf_diag d = { 0 };
	enum vm_match how;
	struct vm *v;
	char path[256];

	if (!mkdtemp(dir))
		return 2;
	put("a.ini", "alpha", "00000000-0000-0000-0000-000000000001");
	put("b.ini", "beta", "00000000-0000-0000-0000-000000000002");
	/* A VM named like another's domid: the name wins, as in xend. */
	put("c.ini", "7", "00000000-0000-0000-0000-000000000003");
	put("notes.txt", "ignored", "00000000-0000-0000-0000-000000000009");
	ok(vm_load_dir(dir, "/nonexistent", &l, &d) == 0 && l.n == 3, "three VMs, .txt ignored");

	v = vm_lookup(&l, "alpha", &how);
	ok(v && !strcmp(v->name, "alpha") && how == VM_BY_NAME, "by name");
	v = vm_lookup(&l, "00000000-0000-0000-0000-000000000002", &how);
	ok(v && !strcmp(v->name, "beta") && how == VM_BY_UUID, "by UUID");
	ok(vm_lookup(&l, "5", &how) == NULL, "domid of no VM: not found");
	l.head->next->domid = 5;	/* beta runs as domid 5 */
	v = vm_lookup(&l, "5", &how);
	ok(v && !strcmp(v->name, "beta") && how == VM_BY_DOMID, "by domid");
	l.head->domid = 7;		/* alpha runs as 7, but a VM is named "7" */
	v = vm_lookup(&l, "7", &how);
	ok(v && !strcmp(v->name, "7") && how == VM_BY_NAME, "name before domid");
	ok(vm_lookup(&l, "gamma", &how) == NULL, "unknown name");
	ok(vm_lookup(&l, "00000000-0000-0000-0000-00000000000f", &how) == NULL,
	   "unknown UUID");
	ok(vm_lookup(&l, "99999999", &how) == NULL, "huge domid");
	vm_list_dispose(&l);
	conf_diag_dispose(&d);

	put("d.ini", "alpha", "00000000-0000-0000-0000-000000000004");
	put("e.ini", "eps", "00000000-0000-0000-0000-000000000002");
	ok(vm_load_dir(dir, "/nonexistent", &l, &d) < 0, "clashes make the directory invalid");
	v = vm_lookup(&l, "eps", &how);
	ok(v && !v->valid && strstr(v->error, "uuid also used by"),
	   "duplicate uuid named (%s)", v ? v->error : "");
	v = vm_lookup(&l, "beta", &how);
	ok(v && !v->valid, "both sides of a uuid clash are invalid");
	{
		int named = 0;

		for (unsigned i = 0; i < d.n; i++)
			named += strstr(d.lines[i], "name also used by") != NULL;
		ok(named == 2, "duplicate name reported for both files");
	}
	vm_list_dispose(&l);
	conf_diag_dispose(&d);

	ok(vm_load_dir("/nonexistent", "/nonexistent", &l, &d) < 0 && d.n == 1, "missing dir");
	conf_diag_dispose(&d);

	/* "." in a name: xenstored refuses it in node names, so the VM
	 * could have no record; the file is invalid, with the reason. */
	snprintf(path, sizeof(path), "%s/f.ini", dir);
	put("f.ini", "web.example", "00000000-0000-0000-0000-000000000006");
	v = vm_load_file(path, "/nonexistent", &d);
	ok(v && !v->valid && v->error &&
	   strstr(v->error, "f.ini:2: name: 'web.example' has a '.', which xenstore refuses"),
	   "a name with '.' is refused (%s)", v && v->error ? v->error : "");
	ok(v && !strcmp(v->name, "f"), "the invalid VM is named after its file (%s)",
	   v ? v->name : "");
	vm_free(v);
	conf_diag_dispose(&d);

	for (const char *f = "a.ini\0b.ini\0c.ini\0d.ini\0e.ini\0f.ini\0notes.txt\0"; *f;
	     f += strlen(f) + 1) {
		snprintf(path, sizeof(path), "%s/%s", dir, f);
		unlink(path);
	}
	rmdir(dir);
	return tap_done();
}
