/* The VM registry: one VM per INI file in the VM directory, its runtime
 * state (derived from the hypervisor by the agent's refresh) and lookup in
 * xend's order: name, then domid, then UUID. */
#ifndef XSAGENT_VM_H
#define XSAGENT_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"

enum vm_state { VM_HALTED, VM_STARTING, VM_RUNNING, VM_PAUSED, VM_SHUTDOWN,
		VM_CRASHED };
extern const char *const vm_state_names[];

struct task;
struct dev;
struct dm;
struct pci_set;

#define VM_MAX_DEVS 8	/* [vif.0] .. [vif.7], [vbd.0] .. [vbd.7], [pci.0] .. [pci.7] */

struct vm {
	struct vm *next;
	char *file;
	char name[65];		/* conf.name, or the file's base name if invalid */
	bool valid;
	char *error;		/* first problem with the file, when !valid */
	struct vm_conf conf;
	struct vif_conf vif[VM_MAX_DEVS];
	struct vbd_conf vbd[VM_MAX_DEVS];
	struct pci_conf pci[VM_MAX_DEVS];
	unsigned vif_mask, vbd_mask;	/* bit N: section [vif.N] / [vbd.N] */
	unsigned pci_mask;		/* bit N: section [pci.N] */

	enum vm_state state;
	int domid;		/* -1: no domain */
	struct task *busy;	/* the task operating on this VM, if any */
	bool queued_seen;	/* the scheduler's scan met a queued task on it */
	bool published;
	int pub_state, pub_domid;	/* last published, to skip rewrites */
	bool watching;		/* the agent watches its ~/control/shutdown */
	char last_shutdown[16];	/* reason the last domain ended, or "" */
	struct dev *devs;	/* the running domain's devices */
	unsigned ndevs;
	struct dm *dm;		/* its device model (HVM), when the agent runs one */
	struct pci_set *pci_set;	/* the running domain's PCI devices (pci.c) */
	/* What the agent asked of the domain: a stop ends as halted, a reboot
	 * restarts, whatever reason the domain gives when it shuts down. */
	enum { VM_INTENT_NONE, VM_INTENT_STOP, VM_INTENT_REBOOT } intent;
	bool intent_taken;	/* the guest cleared control/shutdown (logged) */
	uint64_t restarts[8];	/* monotonic ms of the latest restarts, a ring */
	unsigned nrestarts;	/* restarts recorded (the ring holds the last 8) */
	long long start_time;	/* wall clock seconds the domain was started */
	bool figures;		/* uptime etc. are published */
	bool rollback;		/* an interrupted start left the domain: undo it */
	char rollback_task[65];
	int rollback_domid;	/* the domid its task record named, or -1 */
	/* The file as re-read while the domain lived (a running guest keeps
	 * the definition it was started with); taken at the next start. */
	struct vm *next_def;
};

struct vm_list {
	struct vm *head;
	unsigned n;
};

/* Parse one VM file.  Always returns a struct vm (NULL only when out of
 * memory); on a bad file vm->valid is false, vm->error holds the first
 * problem and every problem is in diag. */
struct vm *vm_load_file(const char *path, const char *script_dir,
			struct conf_diag *diag);
/* Load every *.ini in dir, in name order.  Names and UUIDs must be unique:
 * a clash makes both files invalid.  Returns 0, or a negative errno when
 * the directory could not be read or any file was invalid. */
int vm_load_dir(const char *dir, const char *script_dir, struct vm_list *list,
		struct conf_diag *diag);
void vm_free(struct vm *vm);
/* The MAC of [vif.i]: its mac key, else 00:16:3e and 23 bits of a hash of
 * the VM's UUID and i. */
void vm_vif_mac(const struct vm *vm, int i, char out[18]);
/* Take vm->next_def's definition (file, name, validity, keys, devices),
 * keeping vm's runtime state; no-op without one.  Returns true when the
 * name changed (old_name then holds the one it had). */
bool vm_take_next_def(struct vm *vm, char old_name[65]);
void vm_list_dispose(struct vm_list *list);
/* PCI devices named by more than one valid VM file: legal (only one of the
 * VMs can run with it at a time; the start that finds it held says so),
 * but worth a warning.  One "file: [pci.N] bdf also in file [pci.M]" line
 * per pair in warn; returns the count. */
unsigned vm_pci_shared(const struct vm_list *list, struct conf_diag *warn);

enum vm_match { VM_BY_NAME, VM_BY_DOMID, VM_BY_UUID };
/* Look key up as a name, then a domid of a VM with a domain, then a UUID.
 * Invalid VMs are found too (so a start can say why it cannot run).
 * how_r may be NULL. */
struct vm *vm_lookup(const struct vm_list *list, const char *key,
		     enum vm_match *how_r);
struct vm *vm_find_uuid(const struct vm_list *list, const unsigned char u[16]);
struct vm *vm_find_domid(const struct vm_list *list, int domid);

#endif
