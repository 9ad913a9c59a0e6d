/* libFuzzer harness: values the agent reads back from xenstore at
 * start-up, which a crash can cut short and anyone in dom0 can edit.
 *
 * The first byte (modulo 7) picks the reader, the rest is the node's value:
 *   0  reconcile_parse_domid (agent/reconcile.c): <root>/vm/NAME/domid,
 *      task records' domid, /local/domain/D names
 *   1  policy_guard_load (agent/policy.c): <root>/vm/NAME/restarts
 *   2  refresh_figures_requests (agent/refresh.c): <root>/figures/<client>,
 *      one client per line of the value
 *   3  vm_lookup (agent/vm.c): a task record's vm key, which an agent
 *      started again looks up to roll an interrupted start back (and a
 *      request's argument)
 *   4  reconcile_parse_num (agent/reconcile.c), with each limit the agent
 *      gives it: backend device IDs (names under backend/KIND/D), loop
 *      device numbers (physical-device's, /sys/block's)
 *   5  reconcile_parse_vm_path (agent/reconcile.c): /local/domain/D/vm
 *      (the domain's own tree: a guest can write it)
 *   6  refresh_parse_start_time (agent/refresh.c): an adopted domain's
 *      /vm/<uuid>/start_time
 *
 * The agent is linked whole (but main.c); its xenstore and hypervisor
 * calls on these paths are replaced with -Wl,--wrap by the __wrap_*
 * below, which serve the fuzzer's bytes.  Each reader is checked against
 * a reference of what it documents accepting. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "fuzz_util.h"
#include "policy.h"
#include "reconcile.h"
#include "refresh.h"

/* refresh.c's bound on a figures interval (seconds). */
#define FIGURES_MAX 3600

/* ---- the store and hypervisor as the harness serves them --------------- */

static const char *cur_value;	/* NUL-terminated (may end early: a NUL) */
static char **cur_lines;		/* figures: one value per client */
static unsigned cur_nlines;

int __wrap_store_read(struct store *s, store_tx tx, const char *path,
		      char **val_r, unsigned *len_r, struct agent_err *err);
void __wrap_store_read_str(struct store *s, store_tx tx, const char *path,
			   char *buf, size_t n);
int __wrap_store_ls(struct store *s, store_tx tx, const char *path,
		    char ***names_r, unsigned *n_r, struct agent_err *err);
int __wrap_store_write(struct store *s, store_tx tx, const char *path,
		       const char *val, struct agent_err *err);
int __wrap_store_rm(struct store *s, store_tx tx, const char *path,
		    struct agent_err *err);
int __wrap_hv_list(struct hv *hv, struct hv_dominfo **infos_r, unsigned *n_r,
		   struct agent_err *err);

/* <root>/figures/cN: line N. */
int __wrap_store_read(struct store *s, store_tx tx, const char *path,
		      char **val_r, unsigned *len_r, struct agent_err *err)
{
	const char *c = strrchr(path, '/');
	unsigned i;

	(void)s, (void)tx;
	if (!c || c[1] != 'c' || sscanf(c + 2, "%u", &i) != 1 || i >= cur_nlines)
		return err_set(err, ENOENT, "%s: no such node", path);
	*val_r = strdup(cur_lines[i]);
	fuzz_check(*val_r != NULL, "strdup");
	if (len_r)
		*len_r = (unsigned)strlen(*val_r);
	return 0;
}

/* As store.c's: the value cut to the buffer ("" when absent). */
void __wrap_store_read_str(struct store *s, store_tx tx, const char *path,
			   char *buf, size_t n)
{
	(void)s, (void)tx, (void)path;
	snprintf(buf, n, "%s", cur_value ? cur_value : "");
}

/* One allocation, as store.c's: the pointers, then the names. */
int __wrap_store_ls(struct store *s, store_tx tx, const char *path,
		    char ***names_r, unsigned *n_r, struct agent_err *err)
{
	char **names;
	char *p;

	(void)s, (void)tx;
	if (!cur_nlines)
		return err_set(err, ENOENT, "%s: no such node", path);
	names = malloc(cur_nlines * (sizeof(char *) + 12));
	fuzz_check(names != NULL, "malloc");
	p = (char *)(names + cur_nlines);
	for (unsigned i = 0; i < cur_nlines; i++) {
		names[i] = p;
		p += sprintf(p, "c%u", i % 100000000u) + 1;
	}
	*names_r = names;
	*n_r = cur_nlines;
	return 0;
}

int __wrap_store_write(struct store *s, store_tx tx, const char *path,
		       const char *val, struct agent_err *err)
{
	(void)s, (void)tx, (void)err;
	fuzz_check(path && val && path[0] == '/', "a write with a path");
	return 0;
}

int __wrap_store_rm(struct store *s, store_tx tx, const char *path,
		    struct agent_err *err)
{
	(void)s, (void)tx, (void)path, (void)err;
	return 0;
}

/* No hypervisor here: a refresh the figures ask for stops at its list. */
int __wrap_hv_list(struct hv *hv, struct hv_dominfo **infos_r, unsigned *n_r,
		   struct agent_err *err)
{
	(void)hv, (void)infos_r, (void)n_r;
	return err_set(err, ENOSYS, "no hypervisor in the fuzzer");
}

/* ---- the readers ---------------------------------------------------------- */

/* What the readers work on: the actions' core (core.h), with the agent's
 * configuration as far as these paths read it. */
static struct agent_conf conf;
static struct core core;
static struct vm vm;
/* VMs to look up: a name that looks like a domid, an invalid one. */
static struct vm_list vms;
static const char *const vm_uuids[] = {
	"6b1f3c52-8d0e-4a7b-9e21-3f5c7a9d0b14",
	"2a3640e3-7581-4c29-af66-91a476a9e742",
	"00000000-0000-0000-0000-000000000005",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	conf.control_root = strdup("/xsagent");
	core.conf = &conf;
	core.loop = loop_new();
	core.rec.root = conf.control_root;
	fuzz_check(conf.control_root && core.loop, "set-up");
	snprintf(vm.name, sizeof(vm.name), "web1");
	vm.domid = -1;
	static const char *const names[] = { "alpha", "7", "beta" };
	static const int domids[] = { 5, -1, 7 };
	struct vm **tail = &vms.head;

	for (int i = 0; i < 3; i++) {
		struct vm *v = calloc(1, sizeof(*v));

		fuzz_check(v != NULL, "calloc");
		snprintf(v->name, sizeof(v->name), "%s", names[i]);
		v->valid = i != 2;
		v->domid = domids[i];
		fuzz_check(conf_parse_uuid(vm_uuids[i], v->conf.uuid) == 0, "uuid");
		*tail = v, tail = &v->next, vms.n++;
	}
	return 0;
}

/* Decimal digits only, 1-MAXD of them; the value, or -1 when it is not
 * below limit (or over max). */
static long long ref_num(const char *s, unsigned maxd, long long limit)
{
	size_t n = strlen(s);
	long long v = 0;

	if (n < 1 || n > maxd)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v < limit ? v : -1;
}

/* A domid: 1 .. 0x7FEF. */
static int ref_domid(const char *s)
{
	long long v = ref_num(s, 9, 0x7FF0);

	return v >= 1 ? (int)v : -1;
}

static void fuzz_domid(const char *s)
{
	fuzz_check(reconcile_parse_domid(s) == ref_domid(s), "reconcile_parse_domid");
}

static void fuzz_guard(const char *s)
{
	uint64_t before = loop_now_ms();

	cur_value = s;
	memset(vm.restarts, 0xff, sizeof(vm.restarts));
	vm.nrestarts = 12345;
	policy_guard_load(&core, &vm);
	cur_value = NULL;
	/* Each restart recorded is a past time, from a token of the value
	 * (cut to the agent's buffer of 8 * 21 bytes). */
	unsigned tokens = 0;

	for (const char *p = s; *p && p < s + 8 * 21; p++)
		if (*p != ' ' && (p == s || p[-1] == ' '))
			tokens++;
	fuzz_check(vm.nrestarts <= tokens, "no more restarts than numbers");
	for (unsigned i = 0; i < vm.nrestarts && i < 8; i++)
		fuzz_check(vm.restarts[i] <= before || vm.restarts[i] <= loop_now_ms(),
			   "a restart is a past time");
}

/* 1-3600, decimal digits only; 0: refused. */
static unsigned ref_interval(const char *s)
{
	unsigned long v = 0;

	if (!*s)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > FIGURES_MAX)
			return 0;
	}
	return v >= 1 ? (unsigned)v : 0;
}

static void fuzz_figures(char *s, size_t len)
{
	unsigned best = 0;

	/* Lines: at most 64 clients. */
	cur_nlines = 0;
	cur_lines = calloc(65, sizeof(char *));
	fuzz_check(cur_lines != NULL, "calloc");
	for (char *p = s; p <= s + len && cur_nlines < 64;) {
		char *nl = memchr(p, '\n', (size_t)(s + len - p));

		if (nl)
			*nl = '\0';
		cur_lines[cur_nlines++] = p;
		if (!nl)
			break;
		p = nl + 1;
	}
	for (unsigned i = 0; i < cur_nlines; i++) {
		unsigned v = ref_interval(cur_lines[i]);

		if (v && (!best || v < best))
			best = v;
	}
	core.figures_interval = 0;
	refresh_figures_requests(&core);
	fuzz_check(core.figures_interval == best, "the shortest valid interval");
	/* Back to nobody asking, for the next input. */
	cur_nlines = 0;
	refresh_figures_requests(&core);
	fuzz_check(core.figures_interval == 0, "nobody asks");
	free(cur_lines);
	cur_lines = NULL;
}

static void fuzz_lookup(const char *key)
{
	enum vm_match how;
	struct vm *v = vm_lookup(&vms, key, &how);
	char u[37];

	if (!v) {
		for (struct vm *o = vms.head; o; o = o->next)
			fuzz_check(strcmp(o->name, key) != 0, "a name is found");
		return;
	}
	switch (how) {
	case VM_BY_NAME:
		fuzz_check(!strcmp(v->name, key), "by name: that name");
		break;
	case VM_BY_DOMID: {
		long d = 0;

		fuzz_check(*key != '\0', "by domid: digits");
		for (const char *p = key; *p; p++) {
			fuzz_check(*p >= '0' && *p <= '9' && d < 65536, "by domid: a domid");
			d = d * 10 + (*p - '0');
		}
		fuzz_check(v->domid >= 0 && v->domid == d, "by domid: that domid");
		break;
	}
	case VM_BY_UUID:
		conf_format_uuid(v->conf.uuid, u);
		fuzz_check(v->valid && !strcasecmp(u, key), "by uuid: that UUID");
		break;
	}
}

static void fuzz_num(const char *s)
{
	static const long limits[] = { 0x7FF0, 1L << 20, 1L << 30 };

	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		fuzz_check(reconcile_parse_num(s, limits[i]) == ref_num(s, 9, limits[i]),
			   "reconcile_parse_num");
}

/* "/vm/" and a UUID in the 8-4-4-4-12 form of hex digits, either case. */
static bool ref_vm_path(const char *v)
{
	if (strlen(v) != 40 || strncmp(v, "/vm/", 4))
		return false;
	for (int i = 0; i < 36; i++) {
		char c = v[4 + i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
					(c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

static void fuzz_vm_path(const char *v)
{
	char uuid[37], again[37];
	unsigned char raw[16];
	bool ok;

	memset(uuid, 'X', sizeof(uuid));
	ok = reconcile_parse_vm_path(v, uuid, raw);
	fuzz_check(ok == ref_vm_path(v), "reconcile_parse_vm_path");
	if (!ok)
		return;
	fuzz_check(!strcmp(uuid, v + 4), "the UUID as written");
	conf_format_uuid(raw, again);
	fuzz_check(!strcasecmp(again, v + 4), "the UUID's bytes");
}

static void fuzz_start_time(const char *v)
{
	/* A clock of now, and one of the year 1973 (values in its future). */
	static const long long nows[] = { 1796263005LL, 100000000LL };

	for (size_t i = 0; i < sizeof(nows) / sizeof(nows[0]); i++) {
		long long t = ref_num(v, 12, nows[i] + 61);

		fuzz_check(refresh_parse_start_time(v, nows[i]) == (t > 0 ? t : nows[i]),
			   "refresh_parse_start_time");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (!size)
		return 0;
	/* The value as xenstore hands it over: bytes, NUL-terminated. */
	s = malloc(size);
	fuzz_check(s != NULL, "malloc");
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 7) {
	case 0:
		fuzz_domid(s);
		break;
	case 1:
		fuzz_guard(s);
		break;
	case 2:
		fuzz_figures(s, size - 1);
		break;
	case 3:
		fuzz_lookup(s);
		break;
	case 4:
		fuzz_num(s);
		break;
	case 5:
		fuzz_vm_path(s);
		break;
	case 6:
		fuzz_start_time(s);
		break;
	}
	free(s);
	return 0;
}
