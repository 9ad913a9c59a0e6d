/* xsa-hostile SECONDS TOKEN: a hostile guest, from inside (the test guest's
 * xsa.hostile=SECONDS knob runs it; built static into its initramfs).
 *
 * Speaks the xenstore wire protocol (xs_wire.h: a struct xsd_sockmsg header,
 * then the payload) on the guest's own connection, /dev/xen/xenbus, one
 * request and its reply at a time, so that every attempt is counted on its
 * own.  For SECONDS (at least one full round; less when dom0 writes
 * ~/control/hostile-stop = 1: it stops after the round) it
 *   own      writes junk (long, binary, escape sequences, all carrying
 *            TOKEN) to control/shutdown, data/ and its device frontend nodes
 *            (backend pointers too), deletes and recreates them, and tries
 *            node names xenstore must refuse;
 *   state    flips each frontend's state through 0..8 and junk;
 *   dom0     reads, lists, writes, creates, removes and chmods /, /xsagent,
 *            /vm, /local/domain/0, the tests' canaries (may be absent),
 *            @releaseDomain (its chmod only with XSA_HOSTILE_SPECIAL=1);
 *   others   the same on /local/domain/N, N = its domid - 2 .. + MAXDOM;
 *   backend  writes, removes, chmods its own backends' nodes (reading them
 *            is allowed), and writes its own /vm/UUID;
 *   priv     XS_RELEASE of other domains, requests in a transaction it does
 *            not have;
 *   nodes, size, watches, tx   fills its quotas: nodes (deep paths, halved
 *            until refused; every 5th round), a value of 2100/3900/4050
 *            bytes, watches and transactions until refused, then frees them
 *            (the watches once, first: see main);
 * and watches /xsagent, /vm, /local/domain/0, @releaseDomain,
 * @introduceDomain the whole time.
 * Console lines (stdout):
 *   XSAGENT-GUEST-HOSTILE-CAT NAME attempts=A ok=O refused=R allowed=X
 *       eacces= enoent= enospc= e2big= einval= eperm= other=
 *     allowed: successes where xenstore had to refuse (dom0 nodes, other
 *     domains, its backends, priv); must be 0
 *   XSAGENT-GUEST-HOSTILE-PHASE NAME attempts=A ms=T   (first round only)
 *   XSAGENT-GUEST-HOSTILE-ROUND N at S s   (rounds 1-3, then every 10th)
 *   XSAGENT-GUEST-HOSTILE-EVENTS watches=W events=E foreign=F special=S
 *       live_before=0|1 live=0|1
 *     live_before, live: an event for a write of its own came, in the first
 *     round before its frontends were touched, and at the end: whether its
 *     watches deliver, without which "foreign=0" means nothing.  In the
 *     bed: live_before=1, live=0 (its kernel stops delivering part-way).
 *     foreign: events (after each watch's first) for a path outside its
 *     tree and its backends; special: @releaseDomain/@introduceDomain
 *   XSAGENT-GUEST-HOSTILE rounds=N seconds=S attempts=A refused=R leaked=L
 *     leaked = the allowed counts plus the foreign events
 *   XSAGENT-GUEST-HOSTILE-ERROR <why>  (and exit 1) when it cannot run */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

#define MAXDOM 6
#define MAXDEVS 8
#define NJUNK 5
#define PAYLOAD_MAX 4096

enum cat { C_OWN, C_STATE, C_DOM0, C_OTHERS, C_BACKEND, C_PRIV, C_NODES,
	   C_SIZE, C_WATCHES, C_TX, NCATS };
static const char *const cat_names[NCATS] = {
	"own", "state", "dom0", "others", "backend", "priv", "nodes", "size",
	"watches", "tx",
};
enum res { RES_OK, RES_EACCES, RES_ENOENT, RES_ENOSPC, RES_E2BIG, RES_EINVAL, RES_EPERM,
	   RES_OTHER, NRES };
static const char *const res_names[NRES] = {
	"ok", "eacces", "enoent", "enospc", "e2big", "einval", "eperm", "other",
};

struct count {
	unsigned long attempts, res[NRES], allowed;
};

struct dev {
	char fe[128];			/* relative: device/vbd/51712 */
	char be[128];			/* its backend (absolute) */
	char keys[16][32], vals[16][256];
	unsigned nkeys;
};

static int xb = -1;
static uint32_t req_id;
static struct count counts[NCATS];
static unsigned domid;
static char vmpath[128], token[64];
static struct dev devs[MAXDEVS];
static unsigned ndevs;
static unsigned long events, foreign_events, special_events, nwatches;
static char seen_first[16][16];	/* tokens of watches that fired once */
static unsigned nseen;
static unsigned rounds_done;
static bool own_event_seen;
static bool chmod_special;	/* XSA_HOSTILE_SPECIAL=1: see attack() */
static char probe_path[64];	/* the path probe_events waits for */
static char junk[NJUNK][3200];
static size_t junk_len[NJUNK];

static void die(const char *fmt, ...)
{
	va_list ap;

	printf("XSAGENT-GUEST-HOSTILE-ERROR ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the wire -------------------------------------------------------------- */

/* A reply that does not come in 20 s ends the run (with what it waited
 * for): better a clear line than a guest that hangs silently. */
static volatile sig_atomic_t stuck;
static const char *waiting_for = "";

static void on_alarm(int sig)
{
	(void)sig;
	stuck = 1;
}

static unsigned char rbuf[2 * (sizeof(struct xsd_sockmsg) + PAYLOAD_MAX)];
static size_t rlen;

static int read_more(void)
{
	ssize_t r;

	do {
		r = read(xb, rbuf + rlen, sizeof(rbuf) - rlen);
		if (stuck)
			die("no reply in 20 s to %s", waiting_for);
	} while (r < 0 && errno == EINTR);
	if (r <= 0)
		die("read /dev/xen/xenbus: %s", r ? strerror(errno) : "end of file");
	rlen += (size_t)r;
	return 0;
}

/* Next message from the stream: header into *h, payload (NUL added) into
 * body (PAYLOAD_MAX + 1). */
static void next_msg(struct xsd_sockmsg *h, char *body)
{
	while (rlen < sizeof(*h))
		read_more();
	memcpy(h, rbuf, sizeof(*h));
	if (h->len > PAYLOAD_MAX)
		die("reply of %u bytes", h->len);
	while (rlen < sizeof(*h) + h->len)
		read_more();
	memcpy(body, rbuf + sizeof(*h), h->len);
	body[h->len] = '\0';
	rlen -= sizeof(*h) + h->len;
	memmove(rbuf, rbuf + sizeof(*h) + h->len, rlen);
}

static bool own_path(const char *p)
{
	char mine[64];
	size_t n;

	n = (size_t)snprintf(mine, sizeof(mine), "/local/domain/%u", domid);
	if (!strncmp(p, mine, n) && (p[n] == '\0' || p[n] == '/'))
		return true;
	if (*vmpath && !strncmp(p, vmpath, strlen(vmpath)))
		return true;	/* readable by it (n0,rD) */
	/* its backends and their directory backend/KIND/DOMID (n0,rD) */
	for (unsigned i = 0; i < ndevs; i++) {
		const char *slash = strrchr(devs[i].be, '/');

		if (slash && !strncmp(p, devs[i].be, (size_t)(slash - devs[i].be)))
			return true;
	}
	return false;
}

static void watch_event(const char *body, uint32_t len)
{
	const char *path = body, *tok = body + strlen(body) + 1;
	unsigned i;

	events++;
	if ((size_t)(tok - body) >= len)
		tok = "";
	/* The probe's event may come before the reply to its write. */
	if (*probe_path && !strcmp(path, probe_path))
		own_event_seen = true;
	if (tok[0] != 'w')	/* the quota watches, on its own nodes */
		return;
	for (i = 0; i < nseen; i++)
		if (!strcmp(seen_first[i], tok))
			break;
	if (i == nseen) {	/* the event every new watch gets */
		if (nseen < 16)
			snprintf(seen_first[nseen++], sizeof(seen_first[0]), "%s", tok);
		return;
	}
	if (*path == '@')
		special_events++;
	else if (*path == '/' && !own_path(path)) {
		foreign_events++;
		printf("XSAGENT-GUEST-HOSTILE-FOREIGN-EVENT %.200s\n", path);
	}
}

static enum res errname(const char *e)
{
	if (!strcmp(e, "EACCES"))
		return RES_EACCES;
	if (!strcmp(e, "ENOENT"))
		return RES_ENOENT;
	if (!strcmp(e, "ENOSPC") || !strcmp(e, "EQUOTA"))
		return RES_ENOSPC;
	if (!strcmp(e, "E2BIG"))
		return RES_E2BIG;
	if (!strcmp(e, "EINVAL"))
		return RES_EINVAL;
	if (!strcmp(e, "EPERM"))
		return RES_EPERM;
	return RES_OTHER;
}

static enum res errnum(int e)
{
	switch (e) {
	case EACCES: return RES_EACCES;
	case ENOENT: return RES_ENOENT;
	case ENOSPC: return RES_ENOSPC;
	case E2BIG: return RES_E2BIG;
	case EINVAL: return RES_EINVAL;
	case EPERM: return RES_EPERM;
	default: return RES_OTHER;
	}
}

/* One request and its reply (watch events in between are noted).  The
 * reply's payload goes to out (PAYLOAD_MAX + 1) when given. */
static enum res xs_req(uint32_t type, uint32_t tx, const void *payload,
		       size_t len, char *out)
{
	unsigned char msg[sizeof(struct xsd_sockmsg) + PAYLOAD_MAX];
	struct xsd_sockmsg h = { .type = type, .req_id = ++req_id,
				 .tx_id = tx, .len = (uint32_t)len };
	static char body[PAYLOAD_MAX + 1];
	ssize_t w;

	if (len > PAYLOAD_MAX)
		return RES_E2BIG;
	memcpy(msg, &h, sizeof(h));
	memcpy(msg + sizeof(h), payload, len);
	waiting_for = type == XS_WATCH ? "a watch" : type == XS_UNWATCH ? "an unwatch" :
		      type == XS_TRANSACTION_START ? "a transaction start" :
		      type == XS_WRITE ? "a write" : "a request";
	alarm(20);
	do {
		w = write(xb, msg, sizeof(h) + len);
		if (stuck)
			die("write of %s blocked 20 s", waiting_for);
	} while (w < 0 && errno == EINTR);
	if (w < 0) {	/* the guest kernel's refusal (a watch beyond the quota) */
		alarm(0);
		return errnum(errno);
	}
	for (;;) {
		next_msg(&h, body);
		if (h.type == XS_WATCH_EVENT) {
			watch_event(body, h.len);
			continue;
		}
		break;
	}
	alarm(0);
	if (out)
		memcpy(out, body, h.len + 1);
	if (h.type == XS_ERROR)
		return errname(body);
	return RES_OK;
}

/* ---- attempts ------------------------------------------------------------- */

static enum res count(enum cat c, bool must_refuse, enum res r,
		      const char *what, const char *path)
{
	counts[c].attempts++;
	counts[c].res[r]++;
	if (r == RES_OK && must_refuse) {
		counts[c].allowed++;
		printf("XSAGENT-GUEST-HOSTILE-ALLOWED %s %s %.200s\n",
		       cat_names[c], what, path);
	}
	return r;
}

/* path\0 */
static enum res try_path(enum cat c, bool must_refuse, uint32_t type,
			 const char *path)
{
	return count(c, must_refuse, xs_req(type, 0, path, strlen(path) + 1, NULL),
		     type == XS_READ ? "read" : type == XS_DIRECTORY ? "list" :
		     type == XS_GET_PERMS ? "getperms" : type == XS_MKDIR ? "mkdir" :
		     type == XS_RM ? "rm" : type == XS_RELEASE ? "release" : "req", path);
}

/* path\0value (the value is not NUL-terminated) */
static enum res try_write(enum cat c, bool must_refuse, uint32_t tx,
			  const char *path, const void *val, size_t vlen)
{
	static char buf[PAYLOAD_MAX + 1];
	size_t pl = strlen(path) + 1;

	if (pl + vlen > PAYLOAD_MAX)
		vlen = PAYLOAD_MAX - pl;
	memcpy(buf, path, pl);
	memcpy(buf + pl, val, vlen);
	return count(c, must_refuse, xs_req(XS_WRITE, tx, buf, pl + vlen, NULL),
		     "write", path);
}

static enum res try_str(enum cat c, bool must_refuse, const char *path,
			const char *val)
{
	return try_write(c, must_refuse, 0, path, val, strlen(val));
}

/* path\0perm\0perm\0 */
static enum res try_perms(enum cat c, bool must_refuse, const char *path,
			  const char *p1, const char *p2)
{
	char buf[512];
	size_t n = 0;

	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", path) + 1;
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", p1) + 1;
	if (p2)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", p2) + 1;
	return count(c, must_refuse, xs_req(XS_SET_PERMS, 0, buf, n, NULL),
		     "setperms", path);
}

/* path\0token\0 */
static enum res watch(bool on, const char *path, const char *tok)
{
	char buf[512];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "%s", path) + 1;

	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", tok) + 1;
	return xs_req(on ? XS_WATCH : XS_UNWATCH, 0, buf, n, NULL);
}

static bool read_str(const char *path, char *out, size_t n)
{
	static char body[PAYLOAD_MAX + 1];

	if (xs_req(XS_READ, 0, path, strlen(path) + 1, body) != RES_OK)
		return false;
	snprintf(out, n, "%s", body);
	return true;
}

/* Names in a directory: NUL-separated into body, their number returned. */
static unsigned list(const char *path, char *body)
{
	unsigned n = 0;

	if (xs_req(XS_DIRECTORY, 0, path, strlen(path) + 1, body) != RES_OK)
		return 0;
	for (const char *p = body; *p; p += strlen(p) + 1)
		n++;
	return n;
}

/* ---- what it knows of itself ---------------------------------------------- */

static void discover(void)
{
	static char kinds[PAYLOAD_MAX + 1], ids[PAYLOAD_MAX + 1], keys[PAYLOAD_MAX + 1];
	char buf[300], val[256];
	unsigned nk;
	const char *k;

	if (!read_str("domid", buf, sizeof(buf)))
		die("cannot read my domid");
	domid = (unsigned)atoi(buf);
	if (!read_str("vm", vmpath, sizeof(vmpath)))
		vmpath[0] = '\0';
	nk = list("device", kinds);
	k = kinds;
	for (unsigned i = 0; i < nk; i++, k += strlen(k) + 1) {
		char dir[64];
		unsigned ni;
		const char *id;

		snprintf(dir, sizeof(dir), "device/%s", k);
		ni = list(dir, ids);
		id = ids;
		for (unsigned j = 0; j < ni && ndevs < MAXDEVS; j++, id += strlen(id) + 1) {
			struct dev *d = &devs[ndevs];
			unsigned nkeys;
			const char *key;

			snprintf(d->fe, sizeof(d->fe), "%s/%s", dir, id);
			snprintf(buf, sizeof(buf), "%s/backend", d->fe);
			if (!read_str(buf, d->be, sizeof(d->be)))
				continue;
			nkeys = list(d->fe, keys);
			key = keys;
			for (unsigned m = 0; m < nkeys && d->nkeys < 16; m++, key += strlen(key) + 1) {
				snprintf(buf, sizeof(buf), "%s/%s", d->fe, key);
				if (!read_str(buf, val, sizeof(val)))
					continue;
				snprintf(d->keys[d->nkeys], sizeof(d->keys[0]), "%s", key);
				snprintf(d->vals[d->nkeys], sizeof(d->vals[0]), "%s", val);
				d->nkeys++;
			}
			ndevs++;
		}
	}
	printf("XSAGENT-GUEST-HOSTILE-START domid=%u vm=%s devices=%u token=%s\n",
	       domid, vmpath, ndevs, token);
	for (unsigned i = 0; i < ndevs; i++)
		printf("XSAGENT-GUEST-HOSTILE-DEVICE %s backend=%s keys=%u\n",
		       devs[i].fe, devs[i].be, devs[i].nkeys);
	fflush(stdout);
}

static void make_junk(void)
{
	size_t n;
	char *j;

	/* long */
	j = junk[0];
	n = (size_t)snprintf(j, 64, "%s-long:", token);
	for (; n < 3000; n++)
		j[n] = (char)('A' + n % 26);
	junk_len[0] = n;
	/* binary: every byte value, NULs included */
	j = junk[1];
	n = (size_t)snprintf(j, 64, "%s-bin:", token);
	for (int b = 0; b < 256; b++)
		j[n++] = (char)b;
	junk_len[1] = n;
	/* terminal escapes and line breaks */
	junk_len[2] = (size_t)snprintf(junk[2], sizeof(junk[2]),
		"\033[2J\033[H\033]0;%s-esc\007\r\nxsagent: error: forged line\n\033[31m%%s%%n%%x",
		token);
	/* format directives and shell */
	junk_len[3] = (size_t)snprintf(junk[3], sizeof(junk[3]),
		"%%s%%s%%s%%n %s-fmt $(reboot) `id` ; rm -rf / ../../..", token);
	/* numbers a parser might take */
	junk_len[4] = (size_t)snprintf(junk[4], sizeof(junk[4]),
		"-99999999999999999999 %s-num 0x7fffffff", token);
}

/* ---- the phases ------------------------------------------------------------- */

static void phase_own(void)
{
	static const char *const bad_names[] = {
		"data/\033[2Jesc", "data/sp ace", "data/..", "data//x", "data/x/",
		"data/\xff\xfe", "control/shutdown/../../name",
	};
	char p[300];

	for (int i = 0; i < NJUNK; i++) {
		try_write(C_OWN, false, 0, "control/shutdown", junk[i], junk_len[i]);
		snprintf(p, sizeof(p), "data/hostile/%d", i);
		try_write(C_OWN, false, 0, p, junk[i], junk_len[i]);
		try_write(C_OWN, false, 0, "data/hostile-flat", junk[i], junk_len[i]);
	}
	try_path(C_OWN, false, XS_RM, "data/hostile");
	try_path(C_OWN, false, XS_RM, "control/shutdown");
	try_str(C_OWN, false, "control/shutdown", "");
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		try_str(C_OWN, false, bad_names[i], token);
	for (unsigned i = 0; i < ndevs; i++) {
		struct dev *d = &devs[i];

		for (int j = 0; j < NJUNK; j++) {
			snprintf(p, sizeof(p), "%s/backend", d->fe);
			try_write(C_OWN, false, 0, p, junk[j], junk_len[j]);
			snprintf(p, sizeof(p), "%s/backend-id", d->fe);
			try_write(C_OWN, false, 0, p, junk[j], junk_len[j]);
		}
		/* pointers at dom0's nodes */
		snprintf(p, sizeof(p), "%s/backend", d->fe);
		try_str(C_OWN, false, p, "/xsagent/request");
		snprintf(p, sizeof(p), "%s/backend-id", d->fe);
		try_str(C_OWN, false, p, "0");
		try_path(C_OWN, false, XS_RM, d->fe);
		for (unsigned k = 0; k < d->nkeys; k++) {
			snprintf(p, sizeof(p), "%s/%s", d->fe, d->keys[k]);
			try_str(C_OWN, false, p, d->vals[k]);
		}
	}
}

static void phase_state(void)
{
	static const char *const states[] = {
		"0", "1", "2", "3", "4", "5", "6", "7", "8", "-1", "4294967297", "",
		"4\n", " 4", "4junk",
	};
	char p[300];

	for (unsigned i = 0; i < ndevs; i++) {
		snprintf(p, sizeof(p), "%s/state", devs[i].fe);
		for (size_t s = 0; s < sizeof(states) / sizeof(states[0]); s++)
			try_str(C_STATE, false, p, states[s]);
		for (int j = 0; j < NJUNK; j++)
			try_write(C_STATE, false, 0, p, junk[j], junk_len[j]);
		try_path(C_STATE, false, XS_RM, p);
		try_str(C_STATE, false, p, "1");
	}
}

/* Everything on PATH must be refused. */
static void attack(enum cat c, const char *path, bool all)
{
	char p[300];

	try_path(c, true, XS_READ, path);
	try_path(c, true, XS_DIRECTORY, path);
	try_path(c, true, XS_GET_PERMS, path);
	try_str(c, true, path, token);
	if (!all)
		return;
	try_write(c, true, 0, path, junk[2], junk_len[2]);
	snprintf(p, sizeof(p), "%s/hostile-%s", path, token);
	try_str(c, true, p, token);
	try_path(c, true, XS_MKDIR, p);
	try_path(c, true, XS_RM, path);
	/* A chmod of a special node ("@...") kills Debian 12's xenstored
	 * (4.17.7) whenever the errno it then returns is a stale 0
	 * (xsa.hostile=special below): an outage of the whole host, which
	 * says nothing about the agent, so only with XSA_HOSTILE_SPECIAL=1
	 * (the guest's xsa.hostile-special=1), for a xenstored without it. */
	if (path[0] == '@' && !chmod_special)
		return;
	snprintf(p, sizeof(p), "b%u", domid);
	try_perms(c, true, path, p, NULL);
	try_perms(c, true, path, "n0", p);
}

static void phase_dom0(void)
{
	static const char *const paths[] = {
		"/", "/xsagent", "/xsagent/request", "/xsagent/task",
		"/xsagent/canary", "/vm", "/vm/canary", "/local/domain",
		"/local/domain/0", "/local/domain/0/canary",
		"/local/domain/0/backend/vbd", "@releaseDomain",
	};
	char p[300];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		attack(C_DOM0, paths[i], true);
	/* A request and a task record of its own making. */
	snprintf(p, sizeof(p), "/xsagent/request/h%u", domid);
	try_str(C_DOM0, true, p, "destroy all");
	try_write(C_DOM0, true, 0, p, junk[2], junk_len[2]);
	snprintf(p, sizeof(p), "/xsagent/task/h%u/state", domid);
	try_str(C_DOM0, true, p, "done");
}

static void phase_others(void)
{
	unsigned lo = domid > 2 ? domid - 2 : 1;
	char p[300];

	/* Domain IDs are handed out in order: those around its own. */
	for (unsigned n = lo; n <= domid + MAXDOM; n++) {
		if (n == domid)
			continue;
		snprintf(p, sizeof(p), "/local/domain/%u", n);
		attack(C_OTHERS, p, false);
		snprintf(p, sizeof(p), "/local/domain/%u/control/shutdown", n);
		try_str(C_OTHERS, true, p, "poweroff");
		try_path(C_OTHERS, true, XS_READ, p);
		snprintf(p, sizeof(p), "/local/domain/%u/canary", n);
		try_path(C_OTHERS, true, XS_READ, p);
		try_str(C_OTHERS, true, p, token);
		try_path(C_OTHERS, true, XS_RM, p);
		try_perms(C_OTHERS, true, p, "n0", NULL);
	}
}

static void phase_backend(void)
{
	static const char *const keys[] = {
		"state", "hotplug-status", "params", "script", "online", "mode",
		"frontend", "frontend-id", "physical-device", "canary",
	};
	char p[300], v[256];

	for (unsigned i = 0; i < ndevs; i++) {
		const char *be = devs[i].be;

		/* Reading its backends is allowed: not counted. */
		snprintf(p, sizeof(p), "%s/state", be);
		read_str(p, v, sizeof(v));
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			snprintf(p, sizeof(p), "%s/%s", be, keys[k]);
			try_str(C_BACKEND, true, p, !strcmp(keys[k], "hotplug-status") ?
				"connected" : !strcmp(keys[k], "params") ? "/dev/mem" : "5");
			try_write(C_BACKEND, true, 0, p, junk[2], junk_len[2]);
			try_path(C_BACKEND, true, XS_RM, p);
		}
		snprintf(p, sizeof(p), "%s/hostile-%s", be, token);
		try_str(C_BACKEND, true, p, token);
		try_path(C_BACKEND, true, XS_MKDIR, p);
		try_path(C_BACKEND, true, XS_RM, be);
		snprintf(v, sizeof(v), "b%u", domid);
		try_perms(C_BACKEND, true, be, v, NULL);
	}
	if (*vmpath) {
		snprintf(p, sizeof(p), "%s/name", vmpath);
		try_str(C_BACKEND, true, p, token);
		snprintf(p, sizeof(p), "%s/hostile", vmpath);
		try_str(C_BACKEND, true, p, token);
		try_path(C_BACKEND, true, XS_RM, vmpath);
		snprintf(v, sizeof(v), "b%u", domid);
		try_perms(C_BACKEND, true, vmpath, v, NULL);
	}
	/* Its own name, domid and ring nodes are dom0's to write. */
	try_str(C_BACKEND, true, "name", token);
	try_str(C_BACKEND, true, "domid", "0");
	try_str(C_BACKEND, true, "vm", "/xsagent");
	try_str(C_BACKEND, true, "hostile-new", token);
}

static void phase_priv(void)
{
	char p[300];

	for (unsigned n = 0; n <= 4; n++) {
		snprintf(p, sizeof(p), "%u", n == domid ? 0 : n);
		try_path(C_PRIV, true, XS_RELEASE, p);
	}
	/* a transaction it never started (ids are small numbers) */
	for (uint32_t tx = 1; tx <= 8; tx++) {
		count(C_PRIV, true, xs_req(XS_WRITE, tx, "/xsagent/hostile\0x", 19, NULL),
		      "write-tx", "/xsagent/hostile");
		count(C_PRIV, true, xs_req(XS_READ, tx, "/local/domain/0/name", 21, NULL),
		      "read-tx", "/local/domain/0/name");
	}
}

/* Deep paths data/hq/a/a/...: halve the depth on each refusal down to one. */
static void phase_nodes(void)
{
	char p[PAYLOAD_MAX];
	unsigned depth = 1000, batch = 0;

	while (depth >= 1 && batch < 64) {
		size_t n = (size_t)snprintf(p, sizeof(p), "data/hq/%u", batch);

		for (unsigned i = 0; i < depth && n + 3 < 2000; i++) {
			p[n++] = '/';
			p[n++] = 'a';
		}
		p[n] = '\0';
		if (try_str(C_NODES, false, p, "x") == RES_OK)
			batch++;
		else if (depth == 1)
			break;
		else
			depth /= 2;
	}
	xs_req(XS_RM, 0, "data/hq", 8, NULL);
	/* many children of one node (its record grows past 2048 bytes) */
	for (unsigned i = 0; i < 40; i++) {
		snprintf(p, sizeof(p), "data/hq-wide/%s-%u-%0100u", token, i, i);
		if (try_str(C_NODES, false, p, "x") != RES_OK)
			break;
	}
	xs_req(XS_RM, 0, "data/hq-wide", 13, NULL);
}

static void phase_size(void)
{
	static char v[PAYLOAD_MAX];
	static const size_t sizes[] = { 2100, 3900, 4050 };

	memset(v, 'Z', sizeof(v));
	memcpy(v, token, strlen(token));
	for (size_t i = 0; i < 3; i++)
		try_write(C_SIZE, false, 0, "data/hostile-big", v, sizes[i]);
	xs_req(XS_RM, 0, "data/hostile-big", 17, NULL);
}

static void phase_watches(void)
{
	char tok[32];
	unsigned n;

	for (n = 0; n < 160; n++) {
		enum res r;

		snprintf(tok, sizeof(tok), "q%u", n);
		r = count(C_WATCHES, false, watch(true, "data/hq-watch", tok),
			  "watch", "data/hq-watch");
		if (!rounds_done && (n % 32 == 0 || r != RES_OK))
			printf("XSAGENT-GUEST-HOSTILE-WATCH %u %s\n", n, res_names[r]);
		if (r != RES_OK)
			break;
	}
	for (unsigned i = 0; i < n; i++) {
		snprintf(tok, sizeof(tok), "q%u", i);
		watch(false, "data/hq-watch", tok);
	}
}

static void phase_tx(void)
{
	char ids[64][16], body[PAYLOAD_MAX + 1];
	unsigned n;

	for (n = 0; n < 64; n++) {
		if (count(C_TX, false, xs_req(XS_TRANSACTION_START, 0, "", 1, body),
			  "tx-start", "") != RES_OK)
			break;
		snprintf(ids[n], sizeof(ids[n]), "%s", body);
	}
	for (unsigned i = 0; i < n; i++)
		xs_req(XS_TRANSACTION_END, (uint32_t)strtoul(ids[i], NULL, 10), "F", 2, NULL);
}

/* dom0 wrote control/hostile-stop = 1 (control/ is the guest's to write
 * too: it could ignore it, which the test would see as a time-out). */
static bool stop_asked(void)
{
	char v[16];

	return read_str("control/hostile-stop", v, sizeof(v)) && !strcmp(v, "1");
}

/* Write data/hostile-alive and wait up to 5 s for the event of the watch
 * on /local/domain ("w4"): 1 when it came, 0 when not (the guest kernel
 * delivers events from one thread, xenwatch, which a frontend callback
 * can hold). */
static int probe_events(void)
{
	char body[PAYLOAD_MAX + 1];
	double t = now();
	int seen;

	snprintf(probe_path, sizeof(probe_path), "/local/domain/%u/data/hostile-alive", domid);
	own_event_seen = false;
	xs_req(XS_WRITE, 0, "data/hostile-alive\0" "1", 20, NULL);
	while (!own_event_seen && now() - t < 5) {
		struct pollfd p = { .fd = xb, .events = POLLIN };
		struct xsd_sockmsg h;

		if (rlen < sizeof(h) && poll(&p, 1, 500) <= 0)
			continue;
		next_msg(&h, body);
		if (h.type == XS_WATCH_EVENT)
			watch_event(body, h.len);
	}
	seen = own_event_seen;
	probe_path[0] = '\0';
	return seen;
}

/* ---- main ------------------------------------------------------------------- */

static const struct {
	const char *name;
	void (*run)(void);
} phases[] = {
	{ "watches", phase_watches }, { "own", phase_own }, { "dom0", phase_dom0 },
	{ "others", phase_others }, { "backend", phase_backend },
	{ "priv", phase_priv }, { "nodes", phase_nodes }, { "size", phase_size },
	{ "tx", phase_tx }, { "state", phase_state },
};

/* "WHAT=N ok=.. eacces=.. ...": the replies a sequence got. */
static void print_res_counts(const char *what, unsigned n, const unsigned c[NRES])
{
	printf("%s=%u", what, n);
	for (int e = 0; e < NRES; e++)
		printf(" %s=%u", res_names[e], c[e]);
	printf("\n");
}

/* xsa.hostile=quota: one sequence, to test a reading of Debian's 4.17.7
 * xenstored (docs/reliability.md, "xenstored dies under the hostile
 * guest"): fill the domain's memory quota with long-named nodes, then, many
 * times, a successful XS_RM (it leaves errno 0 in xenstored) right before
 * an XS_WRITE that grows an existing node of its own past that quota.  If
 * the write's failure returns that stale errno, xenstored sends no reply
 * and aborts on its assertion; this program then dies on its 20 s alarm.
 * Prints XSAGENT-GUEST-QUOTA lines: how far the filling went and what each
 * growing write got. */
static int quota_sequence(void)
{
	static char path[2100], val[1901], body[PAYLOAD_MAX + 1];
	char dir[1900];
	unsigned nodes = 0, tiny = 0, counts_r[NRES] = { 0 };
	enum res r = RES_OK;
	int n;

	memset(dir, 'p', sizeof(dir) - 1);
	dir[sizeof(dir) - 1] = '\0';
	memset(val, 'v', sizeof(val) - 1);
	val[sizeof(val) - 1] = '\0';
	xs_req(XS_WRITE, 0, "data/qgrow\0x", sizeof("data/qgrow\0x") - 1, body);
	for (tiny = 0; tiny < 50; tiny++) {
		n = snprintf(path, sizeof(path), "data/qt/%u", tiny);
		memcpy(path + n + 1, "t", 1);
		if (xs_req(XS_WRITE, 0, path, (size_t)n + 2, body) != RES_OK)
			break;
	}
	for (nodes = 0; nodes < 3000; nodes++) {
		n = snprintf(path, sizeof(path), "data/qn/%.1800s/%u", dir, nodes);
		memcpy(path + n + 1, val, sizeof(val) - 1);
		r = xs_req(XS_WRITE, 0, path, (size_t)n + sizeof(val), body);
		if (r != RES_OK)
			break;
	}
	printf("XSAGENT-GUEST-QUOTA filled tiny=%u nodes=%u stop=%s\n", tiny, nodes,
	       r == RES_OK ? "none" : res_names[r]);
	/* The last refusal left up to one big node of room: small nodes take
	 * it, so that a grow of 1900 bytes cannot fit. */
	for (unsigned k = 0; k < 3000; k++) {
		n = snprintf(path, sizeof(path), "data/qs/%u", k);
		memcpy(path + n + 1, val, 100);
		r = xs_req(XS_WRITE, 0, path, (size_t)n + 101, body);
		if (r != RES_OK) {
			printf("XSAGENT-GUEST-QUOTA small=%u stop=%s\n", k, res_names[r]);
			break;
		}
	}
	/* The growing write: "data/qgrow" and 1900 bytes. */
	static char grow[sizeof("data/qgrow") + sizeof(val) - 1];
	memcpy(grow, "data/qgrow", sizeof("data/qgrow"));
	memcpy(grow + sizeof("data/qgrow"), val, sizeof(val) - 1);
	for (unsigned i = 0; i < tiny; i++) {
		n = snprintf(path, sizeof(path), "data/qt/%u", i);
		xs_req(XS_RM, 0, path, (size_t)n + 1, body);
		r = xs_req(XS_WRITE, 0, grow, sizeof(grow), body);
		counts_r[r]++;
		xs_req(XS_WRITE, 0, "data/qgrow\0x", sizeof("data/qgrow\0x") - 1, body);
	}
	print_res_counts("XSAGENT-GUEST-QUOTA grows", tiny, counts_r);
	return 0;
}

/* xsa.hostile=special: the request that killed Debian's 4.17.7 xenstored
 * in 37-hostile-guest (docs/reliability.md, "xenstored dies under the
 * hostile guest").  Its do_set_perms() on a special node ("@...") returns
 * errno, not the EACCES that set_perms_special() returned for a guest, and
 * so sends no reply when errno is 0; consider_message() then aborts on
 * "conn->in == NULL".  A successful XS_WATCH sets errno to 0 (do_watch
 * assigns it), so: watch, then chmod @releaseDomain, TRIES times (other
 * connections' requests may run in between and leave another errno).
 * xsa.hostile=twoargs: the same with an XS_READ of two strings instead:
 * its onearg() is NULL, and so is the name canonicalize() makes of it,
 * with errno untouched.
 * Prints XSAGENT-GUEST-SPECIAL lines: each try's reply; with the bug the
 * program dies on its 20 s alarm instead. */
static int special_sequence(bool twoargs)
{
	static char body[PAYLOAD_MAX + 1];
	unsigned counts_r[NRES] = { 0 }, i;

	for (i = 0; i < 10; i++) {
		char w[64];
		int n = snprintf(w, sizeof(w), "data/hs%c%s-s%u", '\0', token, i);
		enum res r;

		xs_req(XS_WATCH, 0, w, (size_t)n + 1, body);
		printf("XSAGENT-GUEST-SPECIAL try %u: %s right after a watch\n", i,
		       twoargs ? "a read of two strings" : "chmod @releaseDomain");
		r = twoargs ? xs_req(XS_READ, 0, "data/hs\0x", sizeof("data/hs\0x"), body) :
			xs_req(XS_SET_PERMS, 0, "@releaseDomain\0n0", sizeof("@releaseDomain\0n0"), body);
		printf("XSAGENT-GUEST-SPECIAL try %u: %s\n", i, res_names[r]);
		counts_r[r]++;
		xs_req(XS_UNWATCH, 0, w, (size_t)n + 1, body);
	}
	print_res_counts("XSAGENT-GUEST-SPECIAL tries", i, counts_r);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const watched[] = {
		"/xsagent", "/xsagent/request", "/vm", "/local/domain/0",
		"/local/domain", "@releaseDomain", "@introduceDomain",
	};
	unsigned long att = 0, ref = 0, allowed = 0;
	double t0, secs;
	unsigned rounds = 0;
	int live, live_before = 0;

	bool quota = argc == 3 && !strcmp(argv[1], "quota");
	bool special = argc == 3 && !strcmp(argv[1], "special");
	bool twoargs = argc == 3 && !strcmp(argv[1], "twoargs");

	if (argc != 3 || (!quota && !special && !twoargs && atoi(argv[1]) <= 0))
		die("usage: xsa-hostile SECONDS|quota|special|twoargs TOKEN");
	secs = atoi(argv[1]);
	snprintf(token, sizeof(token), "%s", argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	{
		struct sigaction sa = { .sa_handler = on_alarm };

		sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART */
	}
	/* XSA_HOSTILE_FD: an open connection to use instead (a host-side
	 * check of the program against a fake xenstore). */
	xb = getenv("XSA_HOSTILE_FD") ? atoi(getenv("XSA_HOSTILE_FD")) :
		open("/dev/xen/xenbus", O_RDWR);
	if (xb < 0)
		die("open /dev/xen/xenbus: %s", strerror(errno));
	if (quota)
		return quota_sequence();
	if (special || twoargs)
		return special_sequence(twoargs);
	chmod_special = getenv("XSA_HOSTILE_SPECIAL") &&
			!strcmp(getenv("XSA_HOSTILE_SPECIAL"), "1");
	t0 = now();
	discover();
	make_junk();
	for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++) {
		char tok[16];

		snprintf(tok, sizeof(tok), "w%zu", i);
		if (watch(true, watched[i], tok) == RES_OK)
			nwatches++;
	}
	do {
		for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
			unsigned long a0 = 0, a1 = 0;
			double t1 = now();

			/* Once, first: an unwatch waits for the guest kernel's
			 * xenwatch thread, which its frontends' callbacks may
			 * hold for good once their states were flipped. */
			if (rounds && phases[i].run == phase_watches)
				continue;
			/* Bounded: the node quota (some thousand nodes made and
			 * removed) every 5th round; xenstored is dom0's too. */
			if (rounds % 5 && phases[i].run == phase_nodes)
				continue;
			/* Whether its watches deliver, before its frontends are
			 * touched. */
			if (!rounds && phases[i].run == phase_own)
				live_before = probe_events();

			for (int c = 0; c < NCATS; c++)
				a0 += counts[c].attempts;
			phases[i].run();
			for (int c = 0; c < NCATS; c++)
				a1 += counts[c].attempts;
			if (!rounds)	/* how long each phase takes, once */
				printf("XSAGENT-GUEST-HOSTILE-PHASE %s attempts=%lu ms=%.0f\n",
				       phases[i].name, a1 - a0, (now() - t1) * 1000);
		}
		rounds_done = ++rounds;
		if (rounds <= 3 || rounds % 10 == 0)
			printf("XSAGENT-GUEST-HOSTILE-ROUND %u at %.1f s\n", rounds, now() - t0);
	} while (now() - t0 < secs && !stop_asked());
	/* Late events for the watches set at the start, and whether they still
	 * come: a write of its own under the watched /local/domain. */
	live = probe_events();
	for (int i = 0; i < NCATS; i++) {
		struct count *c = &counts[i];
		unsigned long r = c->attempts - c->res[RES_OK];

		printf("XSAGENT-GUEST-HOSTILE-CAT %s attempts=%lu ok=%lu refused=%lu allowed=%lu",
		       cat_names[i], c->attempts, c->res[RES_OK], r, c->allowed);
		for (int e = 1; e < NRES; e++)
			printf(" %s=%lu", res_names[e], c->res[e]);
		printf("\n");
		att += c->attempts;
		ref += r;
		allowed += c->allowed;
	}
	printf("XSAGENT-GUEST-HOSTILE-EVENTS watches=%lu events=%lu foreign=%lu special=%lu live_before=%d live=%d\n",
	       nwatches, events, foreign_events, special_events, live_before, live);
	printf("XSAGENT-GUEST-HOSTILE rounds=%u seconds=%.0f attempts=%lu refused=%lu leaked=%lu\n",
	       rounds, now() - t0, att, ref, allowed + foreign_events);
	return 0;
}
