/* Configuration: a small key-table engine over inih, the agent's own
 * settings (conf_agent.def) and the per-VM keys (conf_vm.def).
 *
 * Every key is declared once, in a .def file; the X-macros below turn that
 * line into a struct field, a table entry (default, range, doc) and so into
 * the parser, the validation and the `xsagent -n` dump. */
#ifndef XSAGENT_CONF_H
#define XSAGENT_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "err.h"
#include "log.h"

/* Where the configuration lives: the makefile passes its SYSCONFDIR, so the
 * defaults below and main.c's -c default follow `make SYSCONFDIR=...`. */
#ifndef XSAGENT_SYSCONFDIR
#define XSAGENT_SYSCONFDIR "/etc"
#endif

enum conf_kind { CK_STR, CK_PATH, CK_NAME, CK_UINT, CK_INT, CK_ENUM, CK_UUID,
		 CK_MAC, CK_IFNAME, CK_SCRIPT, CK_VDEV, CK_BDF };

struct conf_key {
	const char *name;
	enum conf_kind kind;
	size_t offset;
	const char *def;		/* NULL: the key is required */
	long long min, max;		/* CK_UINT, CK_INT; CK_STR: max length */
	const char *const *names;	/* CK_ENUM, NULL-terminated */
	const char *doc;
};

enum vm_type { VM_TYPE_PV, VM_TYPE_PVH, VM_TYPE_HVM };
enum vm_action { VM_ACT_DESTROY, VM_ACT_RESTART, VM_ACT_PRESERVE };

extern const char *const conf_vm_types[];
extern const char *const conf_actions[];
extern const char *const conf_tsc_modes[];
extern const char *const conf_yes_no[];	/* index 0 "no", 1 "yes" */
extern const char *const conf_vbd_modes[];
extern const char *const conf_vga_kinds[];	/* HVM: the emulated graphics card */
enum vga_kind { VGA_NONE, VGA_STD, VGA_CIRRUS };
extern const char *const conf_nic_models[];	/* HVM: the emulated NIC */
extern const char *const conf_hd_types[];	/* HVM: the disks' controller */
enum hd_type { HD_IDE, HD_AHCI };
extern const char *const conf_rdm_policies[];	/* "strict", "relaxed" */
enum vbd_mode { VBD_MODE_R, VBD_MODE_W };

#define X_STR(k, d, len, doc) char *k;
#define X_PATH(k, d, doc) char *k;
#define X_NAME(k, d, doc) char *k;
#define X_UINT(k, d, lo, hi, doc) long long k;
#define X_INT(k, d, lo, hi, doc) long long k;
#define X_ENUM(k, d, names, doc) int k;
#define X_UUID(k, d, doc) unsigned char k[16];
#define X_MAC(k, d, doc) char *k;
#define X_IFNAME(k, d, doc) char *k;
#define X_SCRIPT(k, d, doc) char *k;
#define X_VDEV(k, d, doc) char *k;
#define X_BDF(k, d, doc) char *k;
struct agent_conf {
#include "conf_agent.def"
};
struct vm_conf {
#include "conf_vm.def"
};
struct vif_conf {
#include "conf_vif.def"
};
struct vbd_conf {
#include "conf_vbd.def"
};
struct pci_conf {
#include "conf_pci.def"
};
#include "conf_xundef.h"
#define X_STR(...) +1
#define X_PATH(...) +1
#define X_NAME(...) +1
#define X_UINT(...) +1
#define X_INT(...) +1
#define X_ENUM(...) +1
#define X_UUID(...) +1
#define X_MAC(...) +1
#define X_IFNAME(...) +1
#define X_SCRIPT(...) +1
#define X_VDEV(...) +1
#define X_BDF(...) +1
enum { CONF_AGENT_NKEYS = 0
#include "conf_agent.def"
};
enum { CONF_VM_NKEYS = 0
#include "conf_vm.def"
};
enum { CONF_VIF_NKEYS = 0
#include "conf_vif.def"
};
enum { CONF_VBD_NKEYS = 0
#include "conf_vbd.def"
};
enum { CONF_PCI_NKEYS = 0
#include "conf_pci.def"
};
#include "conf_xundef.h"

extern const struct conf_key conf_agent_keys[];
extern const size_t conf_agent_nkeys;
extern const struct conf_key conf_vm_keys[];
extern const size_t conf_vm_nkeys;
extern const struct conf_key conf_vif_keys[];
extern const size_t conf_vif_nkeys;
extern const struct conf_key conf_vbd_keys[];
extern const size_t conf_vbd_nkeys;
extern const struct conf_key conf_pci_keys[];
extern const size_t conf_pci_nkeys;

/* Diagnostics collected while parsing: "file:line: message" lines. */
struct conf_diag {
	char **lines;
	unsigned n;
};
void conf_diag_add(struct conf_diag *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void conf_diag_dispose(struct conf_diag *d);

/* Parse an INI file, calling fn for every key with its line number, and
 * once for every section header with name and value NULL (inih reports no
 * section that has no keys, but "[vif.0]" alone is a device with defaults).
 * fn returns 0 or a negative errno with err filled; the engine turns that
 * into a diagnostic "path:line: msg" and goes on.  Returns 0, or a negative
 * errno when the file could not be read or had any error (all of them in
 * diag). */
typedef int conf_key_fn(void *user, const char *section, const char *name,
			const char *value, unsigned line, struct agent_err *err);
int conf_parse_file(const char *path, conf_key_fn *fn, void *user,
		    struct conf_diag *diag);

const struct conf_key *conf_find(const struct conf_key *keys, size_t n,
				 const char *name);
/* Validate value for k and store it at base; err on a bad value. */
int conf_set(const struct conf_key *k, void *base, const char *value,
	     struct agent_err *err);
/* Apply defaults for every key not in seen[]; a missing required key is an
 * error named in diag as "path: missing key 'k'". */
int conf_apply_defaults(const struct conf_key *keys, size_t n, void *base,
			const bool *seen, const char *path,
			struct conf_diag *diag);
void conf_dispose(const struct conf_key *keys, size_t n, void *base);
/* Print "key = value" for every key (the -n dump). */
void conf_dump(FILE *f, const struct conf_key *keys, size_t n,
	       const void *base);

/* Value syntax helpers, shared with request parsing. */
bool conf_valid_name(const char *s);
/* xvda .. xvdp: the Linux PV disk number (202 << 8 | index << 4), or -1. */
int conf_vdev_devid(const char *vdev);
/* A PCI address "DDDD:BB:DD.F" or "BB:DD.F" (hex; device 0-1f, function
 * 0-7), as xl takes it: the canonical lower-case "dddd:bb:dd.f" in out, or
 * -EINVAL. */
int conf_parse_bdf(const char *s, char out[13]);
int conf_parse_mac(const char *s, unsigned char out[6]);
int conf_parse_uuid(const char *s, unsigned char out[16]);
void conf_format_uuid(const unsigned char uuid[16], char out[37]);

/* Load the agent's settings ([agent] section).  Unknown keys and sections
 * are errors.  On an error c holds nothing to free (conf_dispose of it
 * is still harmless). */
int conf_load_agent(const char *path, struct agent_conf *c,
		    struct conf_diag *diag);

/* The longest control_root: the agent's paths below it fit its buffers. */
#define CONF_ROOT_MAX 128

#endif
