#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

const char *const conf_vm_types[] = { "pv", "pvh", "hvm", NULL };
const char *const conf_actions[] = { "destroy", "restart", "preserve", NULL };
const char *const conf_yes_no[] = { "no", "yes", NULL };
const char *const conf_tsc_modes[] = { "default", "always_emulate", "native",
				       NULL };
const char *const conf_vbd_modes[] = { "r", "w", NULL };
const char *const conf_vga_kinds[] = { "none", "std", "cirrus", NULL };
const char *const conf_nic_models[] = { "rtl8139", "e1000", NULL };
const char *const conf_hd_types[] = { "ide", "ahci", NULL };
const char *const conf_rdm_policies[] = { "strict", "relaxed", NULL };

#define X_STR(k, d, len, doc) { #k, CK_STR, offsetof(S, k), d, 0, len, NULL, doc },
#define X_PATH(k, d, doc) { #k, CK_PATH, offsetof(S, k), d, 0, 0, NULL, doc },
#define X_NAME(k, d, doc) { #k, CK_NAME, offsetof(S, k), d, 0, 0, NULL, doc },
#define X_UINT(k, d, lo, hi, doc) { #k, CK_UINT, offsetof(S, k), d, lo, hi, NULL, doc },
#define X_INT(k, d, lo, hi, doc) { #k, CK_INT, offsetof(S, k), d, lo, hi, NULL, doc },
#define X_ENUM(k, d, nm, doc) { #k, CK_ENUM, offsetof(S, k), d, 0, 0, nm, doc },
#define X_UUID(k, d, doc) { #k, CK_UUID, offsetof(S, k), d, 0, 0, NULL, doc },
#define X_MAC(k, d, doc) { #k, CK_MAC, offsetof(S, k), d, 0, 0, NULL, doc },
#define X_IFNAME(k, d, doc) { #k, CK_IFNAME, offsetof(S, k), d, 0, 0, NULL, doc },
#define X_SCRIPT(k, d, doc) { #k, CK_SCRIPT, offsetof(S, k), d, 0, 0, NULL, doc },
#define X_VDEV(k, d, doc) { #k, CK_VDEV, offsetof(S, k), d, 0, 0, NULL, doc },
#define X_BDF(k, d, doc) { #k, CK_BDF, offsetof(S, k), d, 0, 0, NULL, doc },
#define S struct agent_conf
const struct conf_key conf_agent_keys[] = {
#include "conf_agent.def"
};
#undef S
#define S struct vm_conf
const struct conf_key conf_vm_keys[] = {
#include "conf_vm.def"
};
#undef S
#define S struct vif_conf
const struct conf_key conf_vif_keys[] = {
#include "conf_vif.def"
};
#undef S
#define S struct vbd_conf
const struct conf_key conf_vbd_keys[] = {
#include "conf_vbd.def"
};
#undef S
#define S struct pci_conf
const struct conf_key conf_pci_keys[] = {
#include "conf_pci.def"
};
#undef S
const size_t conf_pci_nkeys = sizeof(conf_pci_keys) / sizeof(conf_pci_keys[0]);
const size_t conf_vif_nkeys = sizeof(conf_vif_keys) / sizeof(conf_vif_keys[0]);
const size_t conf_vbd_nkeys = sizeof(conf_vbd_keys) / sizeof(conf_vbd_keys[0]);
const size_t conf_agent_nkeys = sizeof(conf_agent_keys) / sizeof(conf_agent_keys[0]);
const size_t conf_vm_nkeys = sizeof(conf_vm_keys) / sizeof(conf_vm_keys[0]);

void conf_diag_add(struct conf_diag *d, const char *fmt, ...)
{
	char **lines;
	char *line;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	lines = realloc(d->lines, (d->n + 1) * sizeof(*lines));
	if (!lines) {
		free(line);
		return;
	}
	d->lines = lines;
	d->lines[d->n++] = line;
}

void conf_diag_dispose(struct conf_diag *d)
{
	for (unsigned i = 0; i < d->n; i++)
		free(d->lines[i]);
	free(d->lines);
	d->lines = NULL;
	d->n = 0;
}

bool conf_valid_name(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!isalnum((unsigned char)s[n]) && !strchr("_.-", s[n]))
			return false;
	return n >= 1 && n <= 64;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* 8-4-4-4-12 hex digits, either case. */
int conf_parse_uuid(const char *s, unsigned char out[16])
{
	static const int dash[] = { 8, 13, 18, 23 };
	unsigned bi = 0;

	if (strlen(s) != 36)
		return -EINVAL;
	for (unsigned i = 0, d = 0; i < 36;) {
		if (d < 4 && (int)i == dash[d]) {
			if (s[i] != '-')
				return -EINVAL;
			i++, d++;
			continue;
		}
		int hi = hexval((unsigned char)s[i]);
		int lo = hexval((unsigned char)s[i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[bi++] = (unsigned char)(hi << 4 | lo);
		i += 2;
	}
	return 0;
}

void conf_format_uuid(const unsigned char u[16], char out[37])
{
	snprintf(out, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
}

int conf_vdev_devid(const char *v)
{
	if (strlen(v) != 4 || strncmp(v, "xvd", 3) || v[3] < 'a' || v[3] > 'p')
		return -1;
	return 202 << 8 | (v[3] - 'a') << 4;
}

/* n hex digits at s (exactly n), into *v. */
static int hex_field(const char *s, int n, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		int h = hexval((unsigned char)s[i]);

		if (h < 0)
			return -EINVAL;
		*v = *v << 4 | (unsigned)h;
	}
	return 0;
}

int conf_parse_bdf(const char *s, char out[13])
{
	unsigned dom = 0, bus, dev, fn;
	size_t len = strlen(s);

	/* xl's forms: DDDD:BB:DD.F, or BB:DD.F in domain 0 (no vslot or
	 * options here: those are keys of the section). */
	if (len == 12) {
		if (s[4] != ':' || hex_field(s, 4, &dom) < 0)
			return -EINVAL;
		s += 5;
	} else if (len != 7) {
		return -EINVAL;
	}
	if (s[2] != ':' || s[5] != '.' || hex_field(s, 2, &bus) < 0 ||
	    hex_field(s + 3, 2, &dev) < 0 || hex_field(s + 6, 1, &fn) < 0 ||
	    dev > 0x1f || fn > 7)
		return -EINVAL;
	snprintf(out, 13, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

int conf_parse_mac(const char *s, unsigned char out[6])
{
	if (strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = hexval((unsigned char)s[3 * i]);
		int lo = hexval((unsigned char)s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -EINVAL;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	/* A NIC's address is unicast: the group bit of the first octet clear. */
	return out[0] & 1 ? -EINVAL : 0;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if (!isprint((unsigned char)*s))
			return false;
	return true;
}

static int parse_ll(const char *s, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	if (!*s || *end || errno)
		return -EINVAL;
	return 0;
}

const struct conf_key *conf_find(const struct conf_key *keys, size_t n,
				 const char *name)
{
	/* Every key of every VM file is looked up here, at start-up and at
	 * each SIGHUP: the first byte rules out all but a few names. */
	for (size_t i = 0; i < n; i++)
		if (keys[i].name[0] == name[0] && !strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

int conf_set(const struct conf_key *k, void *base, const char *value,
	     struct agent_err *err)
{
	char *field = (char *)base + k->offset;
	long long v;
	char *copy;

	switch (k->kind) {
	case CK_STR:
		if ((long long)strlen(value) > k->max)
			return err_set(err, EINVAL, "%s: longer than %lld characters",
				       k->name, k->max);
		if (!printable(value))
			return err_set(err, EINVAL, "%s: not printable text", k->name);
		break;
	case CK_PATH:
		/* An optional path may be empty ("none"); a set one is absolute. */
		if (*value && (value[0] != '/' || !printable(value) ||
			       strlen(value) > 1024))
			return err_set(err, EINVAL, "%s: '%s' is not an absolute path",
				       k->name, value);
		if (!*value && !k->def)
			return err_set(err, EINVAL, "%s: must not be empty", k->name);
		break;
	case CK_NAME:
		if (!conf_valid_name(value))
			return err_set(err, EINVAL,
				       "%s: '%s' is not a name (letters, digits, _ -; 1-64)",
				       k->name, value);
		break;
	case CK_UINT:
	case CK_INT:
		if (parse_ll(value, &v) < 0)
			return err_set(err, EINVAL, "%s: '%s' is not a whole number",
				       k->name, value);
		if (v < k->min || v > k->max)
			return err_set(err, ERANGE, "%s: %lld is outside %lld..%lld",
				       k->name, v, k->min, k->max);
		*(long long *)field = v;
		return 0;
	case CK_ENUM:
		for (int i = 0; k->names[i]; i++)
			if (!strcmp(k->names[i], value)) {
				*(int *)field = i;
				return 0;
			}
		return err_set(err, EINVAL, "%s: '%s' is not one of the allowed values",
			       k->name, value);
	case CK_UUID:
		if (conf_parse_uuid(value, (unsigned char *)field) < 0)
			return err_set(err, EINVAL, "%s: '%s' is not a UUID", k->name,
				       value);
		return 0;
	case CK_MAC: {
		unsigned char mac[6];

		if (*value && conf_parse_mac(value, mac) < 0)
			return err_set(err, EINVAL,
				       "%s: '%s' is not a unicast MAC (xx:xx:xx:xx:xx:xx)",
				       k->name, value);
		break;
	}
	case CK_IFNAME:
		/* What a Linux network interface name may be (IFNAMSIZ - 1). */
		if (!*value || strlen(value) > 15 || !conf_valid_name(value))
			return err_set(err, EINVAL, "%s: '%s' is not an interface name",
				       k->name, value);
		break;
	case CK_SCRIPT:
		/* A bare name, found in the script directory: no paths. */
		if (!conf_valid_name(value) || !strcmp(value, ".") ||
		    !strcmp(value, ".."))
			return err_set(err, EINVAL, "%s: '%s' is not a script name",
				       k->name, value);
		break;
	case CK_VDEV:
		if (conf_vdev_devid(value) < 0)
			return err_set(err, EINVAL, "%s: '%s' is not xvda .. xvdp",
				       k->name, value);
		break;
	case CK_BDF: {
		char bdf[13];

		if (conf_parse_bdf(value, bdf) < 0)
			return err_set(err, EINVAL,
				       "%s: '%s' is not a PCI address (DDDD:BB:DD.F or BB:DD.F)",
				       k->name, value);
		value = bdf;	/* kept canonical: compared and written as is */
		copy = strdup(value);
		if (!copy)
			return err_set(err, ENOMEM, "out of memory");
		free(*(char **)field);
		*(char **)field = copy;
		return 0;
	}
	}
	copy = strdup(value);
	if (!copy)
		return err_set(err, ENOMEM, "out of memory");
	free(*(char **)field);
	*(char **)field = copy;
	return 0;
}

int conf_apply_defaults(const struct conf_key *keys, size_t n, void *base,
			const bool *seen, const char *path,
			struct conf_diag *diag)
{
	struct agent_err err;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		if (seen[i])
			continue;
		if (!keys[i].def) {
			if (keys[i].kind == CK_UUID)
				conf_diag_add(diag,
					      "%s: missing key 'uuid' (e.g. the output of "
					      "cat /proc/sys/kernel/random/uuid)", path);
			else
				conf_diag_add(diag, "%s: missing key '%s'", path,
					      keys[i].name);
			rc = -EINVAL;
			continue;
		}
		if (conf_set(&keys[i], base, keys[i].def, &err) < 0) {
			conf_diag_add(diag, "%s: default: %s", path, err.msg);
			rc = -EINVAL;
		}
	}
	return rc;
}

void conf_dispose(const struct conf_key *keys, size_t n, void *base)
{
	for (size_t i = 0; i < n; i++) {
		enum conf_kind kind = keys[i].kind;

		if (kind != CK_UINT && kind != CK_INT && kind != CK_ENUM &&
		    kind != CK_UUID) {
			char **f = (char **)((char *)base + keys[i].offset);

			free(*f);
			*f = NULL;
		}
	}
}

void conf_dump(FILE *f, const struct conf_key *keys, size_t n,
	       const void *base)
{
	char uuid[37];

	for (size_t i = 0; i < n; i++) {
		const char *field = (const char *)base + keys[i].offset;

		fprintf(f, "%s = ", keys[i].name);
		switch (keys[i].kind) {
		case CK_STR:
		case CK_PATH:
		case CK_NAME:
		case CK_MAC:
		case CK_IFNAME:
		case CK_SCRIPT:
		case CK_VDEV:
		case CK_BDF:
			fprintf(f, "%s\n", *(char *const *)field ? *(char *const *)field : "");
			break;
		case CK_UINT:
		case CK_INT:
			fprintf(f, "%lld\n", *(const long long *)field);
			break;
		case CK_ENUM:
			fprintf(f, "%s\n", keys[i].names[*(const int *)field]);
			break;
		case CK_UUID:
			conf_format_uuid((const unsigned char *)field, uuid);
			fprintf(f, "%s\n", uuid);
			break;
		}
	}
}

/* inih gives no line numbers to a handler in Debian's build, so the reader
 * counts them: the handler always runs on the line read last. */
struct parse_ctx {
	char bad_section[128];	/* header refused: its keys are not reported */
	FILE *f;
	char *buf;		/* getline's */
	size_t bufsz;
	const char *path;
	unsigned line;
	conf_key_fn *fn;
	void *user;
	struct conf_diag *diag;
	int rc;
};

static char *reader(char *str, int num, void *stream)
{
	struct parse_ctx *p = stream;
	ssize_t len;

	/* getline, not fgets: it counts every byte, so a NUL inside a line
	 * cannot hide the rest of it (whose tail fgets would hand inih as a
	 * line of its own: a key smuggled past the length check). */
	len = getline(&p->buf, &p->bufsz, p->f);
	if (len < 0)
		return NULL;
	p->line++;
	if (memchr(p->buf, '\0', (size_t)len)) {
		conf_diag_add(p->diag, "%s:%u: NUL byte in the line", p->path,
			      p->line);
		p->rc = -EINVAL;
		str[0] = '\0';
	} else if (len > num - 1 || (len == num - 1 && p->buf[len - 1] != '\n')) {
		conf_diag_add(p->diag, "%s:%u: line longer than %d characters",
			      p->path, p->line, num - 2);
		p->rc = -EINVAL;
		str[0] = '\0';
	} else {
		memcpy(str, p->buf, (size_t)len + 1);
		const char *s = str + strspn(str, " \t");
		const char *end = strchr(s, ']');

		if (*s == '[' && end) {
			char section[128];
			struct agent_err err;

			snprintf(section, sizeof(section), "%.*s", (int)(end - s - 1), s + 1);
			err_clear(&err);
			p->bad_section[0] = '\0';
			if (p->fn(p->user, section, NULL, NULL, p->line, &err) < 0) {
				conf_diag_add(p->diag, "%s:%u: %s", p->path, p->line, err.msg);
				p->rc = -EINVAL;
				snprintf(p->bad_section, sizeof(p->bad_section), "%s", section);
			}
		}
	}
	return str;
}

static bool known_section_reported(struct parse_ctx *p, const char *section)
{
	return p->bad_section[0] && !strcmp(p->bad_section, section);
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct parse_ctx *p = user;
	struct agent_err err;

	/* An unknown section was reported at its header, once. */
	if (known_section_reported(p, section))
		return 1;
	err_clear(&err);
	if (p->fn(p->user, section, name, value, p->line, &err) < 0) {
		conf_diag_add(p->diag, "%s:%u: %s", p->path, p->line, err.msg);
		p->rc = -EINVAL;
	}
	return 1;
}

int conf_parse_file(const char *path, conf_key_fn *fn, void *user,
		    struct conf_diag *diag)
{
	struct parse_ctx p = { .path = path, .fn = fn, .user = user,
			       .diag = diag };
	int r;

	p.f = fopen(path, "re");
	if (!p.f) {
		int e = errno;

		conf_diag_add(diag, "%s: %s", path, strerror(e));
		return -e;
	}
	ini_allow_multiline = false;
	ini_stop_on_first_error = false;
	ini_max_line = 2048;
	r = ini_parse_stream(reader, &p, handler, &p);
	fclose(p.f);
	free(p.buf);
	if (r > 0) {
		/* A syntax error inih found itself (no '=', unclosed '['). */
		conf_diag_add(diag, "%s:%d: syntax error", path, r);
		p.rc = -EINVAL;
	} else if (r < 0) {
		conf_diag_add(diag, "%s: cannot parse (out of memory)", path);
		p.rc = -ENOMEM;
	}
	return p.rc;
}

struct agent_load {
	struct agent_conf *c;
	bool seen[CONF_AGENT_NKEYS];
};

static int agent_key(void *user, const char *section, const char *name,
		     const char *value, unsigned line, struct agent_err *err)
{
	struct agent_load *l = user;
	const struct conf_key *k;

	(void)line;
	if (strcmp(section, "agent"))
		return err_set(err, EINVAL, "unknown section [%s]", section);
	if (!name)
		return 0;
	k = conf_find(conf_agent_keys, conf_agent_nkeys, name);
	if (!k)
		return err_set(err, EINVAL, "unknown key '%s'", name);
	if (l->seen[k - conf_agent_keys])
		return err_set(err, EINVAL, "duplicate key '%s'", name);
	l->seen[k - conf_agent_keys] = true;
	return conf_set(k, l->c, value, err);
}

int conf_load_agent(const char *path, struct agent_conf *c,
		    struct conf_diag *diag)
{
	struct agent_load l = { .c = c };
	int rc, r;

	memset(c, 0, sizeof(*c));
	rc = conf_parse_file(path, agent_key, &l, diag);
	r = conf_apply_defaults(conf_agent_keys, conf_agent_nkeys, c, l.seen,
				path, diag);
	if (!rc)
		rc = r;
	/* Empty is a path (CK_PATH takes "" where there is a default) but no
	 * root: the agent would write at the top of xenstore. */
	if (!rc && (!*c->control_root || !strcmp(c->control_root, "/")))
		conf_diag_add(diag, "%s: control_root must not be empty or /", path),
			rc = -EINVAL;
	/* Every node the agent writes is <control_root>/<...> in fixed-size
	 * path buffers; xenstored takes only these characters in a path. */
	if (!rc && (strlen(c->control_root) > CONF_ROOT_MAX ||
		    strspn(c->control_root, "/abcdefghijklmnopqrstuvwxyz"
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-@.") !=
		    strlen(c->control_root) || strstr(c->control_root, "//") ||
		    c->control_root[strlen(c->control_root) - 1] == '/'))
		conf_diag_add(diag, "%s: control_root: at most %d characters of "
			      "A-Z a-z 0-9 / _ - @ . (no //, no / at the end)", path, CONF_ROOT_MAX),
			rc = -EINVAL;
	/* Refused: nothing for the caller to free (the defaults were set). */
	if (rc)
		conf_dispose(conf_agent_keys, conf_agent_nkeys, c);
	return rc;
}
