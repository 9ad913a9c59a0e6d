/* A test double of the store layer (agent/store.h): an in-memory xenstore
 * for the host test of the agent's core (test_agent.c), where no xenstored
 * can run.  It keeps what the agent relies on:
 *
 *   - a tree of nodes with values and children; a write creates missing
 *     parents (empty), rm removes a subtree and is fine on an absent node,
 *     ls lists children, mkdir makes an empty node;
 *   - node names of [A-Za-z0-9_.@-], paths of at most 3072 characters
 *     (xenstored's XENSTORE_ABS_PATH_MAX), values of at most 4096 bytes;
 *   - transactions on a private copy of the tree (made at the
 *     transaction's first write, or when the tree changes before that:
 *     until then the tree itself is its snapshot), committed only when
 *     nobody changed the tree since they started (xenstored's conservative
 *     conflict rule: -EAGAIN), and a knob that makes the next N commits
 *     conflict;
 *   - watches: an event (path, token) for every change at or below a
 *     watched path, and for a watched node below a removed one (with the
 *     watch's own path), as xenstored fires them; the event a new watch
 *     fires at once; events of a transaction fire when it commits;
 *     "@introduceDomain" fires on store_introduce, "@releaseDomain" when
 *     the test says (fake_store_fire);
 *   - store_fd is an eventfd that is readable while events are queued.
 *
 * The tree outlives store_close (xenstored outlives the agent): a test can
 * run an agent, dispose it and start another on the same tree.  Watches and
 * events belong to the connection.  fake_store_reset() frees everything.
 *
 * The test acts as a client with the fake_store_* helpers below. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "store.h"

#define FS_PATH_MAX 3072
#define FS_VALUE_MAX 4096
#define FS_MAX_TX 16
#define FS_MAX_PERMS 8

#include "fake.h"	/* the test-side helpers */

/* One allocation for a node and its name, and none for an empty value
 * (most nodes: the parents a write creates): the fuzz harness of the task
 * code (test/fuzz/fuzz_task.c) sets up an agent and its tree for every
 * input, under ASan, where each malloc costs a stack trace. */
struct fnode {
	char *val;			/* NULL: the empty value */
	size_t len;
	struct fnode *kids, *next;	/* first child, next sibling */
	struct store_perm perms[FS_MAX_PERMS];
	unsigned nperms;
	size_t namelen;
	char name[];
};

struct fchange {
	char *path;
	int removed;
};

struct ftx {
	store_tx id;			/* 0: slot free */
	/* The transaction's tree: NULL while it has not written and the
	 * store's tree has not changed since it started (fs_root is then
	 * still its snapshot); a private copy from its first write, or from
	 * the first change of fs_root before that (tx_detach_all). */
	struct fnode *root;
	unsigned long gen0;
	struct fchange *changes;
	unsigned nchanges;
};

struct fwatch {
	char *path, *token;
	struct fwatch *next;
};

struct fevent {
	char *path, *token;
	struct fevent *next;
};

struct fintro {
	unsigned domid, port;
	unsigned long mfn;
};

struct store {
	int evfd;
};

static struct fnode *fs_root;
static unsigned long fs_gen;		/* bumped by every change of fs_root */
static struct ftx fs_tx[FS_MAX_TX];
static store_tx fs_next_tx = 1;
static unsigned fs_conflicts;		/* the next N commits conflict */
static struct store *fs_conn;		/* the one open connection */
static struct fwatch *fs_watches;
static struct fevent *fs_events, **fs_events_tail = &fs_events;
static struct fintro fs_intro[64];
static unsigned fs_nintro;
static unsigned long fs_ncalls;

/* ---- the tree -------------------------------------------------------------- */

static void node_free(struct fnode *n)
{
	while (n) {
		struct fnode *next = n->next;

		node_free(n->kids);
		free(n->val);
		free(n);
		n = next;
	}
}

static struct fnode *node_new(const char *name, size_t nl)
{
	struct fnode *n = calloc(1, sizeof(*n) + nl + 1);

	if (!n)
		abort();
	memcpy(n->name, name, nl);
	n->namelen = nl;
	return n;
}

static const char *node_val(const struct fnode *n)
{
	return n->val ? n->val : "";
}

/* A copy of len bytes and a NUL; NULL for an empty value. */
static char *val_dup(const char *val, size_t len)
{
	char *v;

	if (!len)
		return NULL;
	v = malloc(len + 1);
	if (!v)
		abort();
	memcpy(v, val, len);
	v[len] = '\0';
	return v;
}

static struct fnode *node_copy(const struct fnode *n)
{
	struct fnode *c, *head = NULL, **tail = &head;

	for (; n; n = n->next) {
		c = node_new(n->name, n->namelen);
		c->val = val_dup(n->val, n->len);
		c->len = n->len;
		memcpy(c->perms, n->perms, sizeof(c->perms));
		c->nperms = n->nperms;
		c->kids = node_copy(n->kids);
		*tail = c;
		tail = &c->next;
	}
	return head;
}

static struct fnode *root_get(void)
{
	if (!fs_root)
		fs_root = node_new("", 0);
	return fs_root;
}

static int valid_path(const char *path)
{
	size_t len = strlen(path);

	if (path[0] != '/' || len > FS_PATH_MAX ||
	    (len > 1 && path[len - 1] == '/') || strstr(path, "//"))
		return 0;
	return strspn(path, "/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789-_.@") == len;
}

/* The node at path, and with create the missing ones on the way; *link_r
 * (when not NULL) is where the node hangs, for removal. */
static struct fnode *walk(struct fnode *root, const char *path, int create,
			  struct fnode ***link_r)
{
	struct fnode *n = root, **link = NULL;
	const char *p = path + 1;

	while (*p) {
		size_t nl = strcspn(p, "/");
		struct fnode **k;

		for (k = &n->kids; *k; k = &(*k)->next)
			if ((*k)->namelen == nl && !memcmp((*k)->name, p, nl))
				break;
		if (!*k) {
			if (!create)
				return NULL;
			*k = node_new(p, nl);
			/* A new node inherits its parent's permissions. */
			memcpy((*k)->perms, n->perms, sizeof(n->perms));
			(*k)->nperms = n->nperms;
		}
		link = k;
		n = *k;
		p += nl;
		if (*p == '/')
			p++;
	}
	if (link_r)
		*link_r = link;
	return n;
}

/* ---- watches and events ---------------------------------------------------- */

static void event_add(const char *path, const char *token)
{
	struct fevent *e = calloc(1, sizeof(*e));
	uint64_t one = 1;
	int was_empty = !fs_events;

	if (!e || !(e->path = strdup(path)) || !(e->token = strdup(token)))
		abort();
	*fs_events_tail = e;
	fs_events_tail = &e->next;
	/* The fd is readable while events are queued: it is written when the
	 * queue stops being empty, and read empty by store_next_event once
	 * the queue is. */
	if (was_empty && fs_conn && write(fs_conn->evfd, &one, sizeof(one)) < 0)
		abort();
}

/* Is a the same node as b or below it? */
static int at_or_below(const char *a, const char *b)
{
	size_t bl = strlen(b);

	if (strncmp(a, b, bl))
		return 0;
	return a[bl] == '\0' || a[bl] == '/' || (bl == 1 && b[0] == '/');
}

static void fire(const char *path, int removed)
{
	for (struct fwatch *w = fs_watches; w; w = w->next) {
		if (at_or_below(path, w->path))
			event_add(path, w->token);
		else if (removed && at_or_below(w->path, path))
			event_add(w->path, w->token);
	}
}

/* A change of the tree: at once outside a transaction, at commit inside. */
static void changed(store_tx tx, struct ftx *t, const char *path, int removed)
{
	if (tx == STORE_NOTX) {
		fs_gen++;
		fire(path, removed);
		return;
	}
	t->changes = realloc(t->changes, (t->nchanges + 1) * sizeof(*t->changes));
	if (!t->changes)
		abort();
	t->changes[t->nchanges].path = strdup(path);
	t->changes[t->nchanges].removed = removed;
	if (!t->changes[t->nchanges].path)
		abort();
	t->nchanges++;
}

/* ---- transactions ---------------------------------------------------------- */

static struct ftx *tx_find(store_tx tx)
{
	for (int i = 0; i < FS_MAX_TX; i++)
		if (fs_tx[i].id && fs_tx[i].id == tx)
			return &fs_tx[i];
	return NULL;
}

static void tx_free(struct ftx *t)
{
	node_free(t->root);
	for (unsigned i = 0; i < t->nchanges; i++)
		free(t->changes[i].path);
	free(t->changes);
	memset(t, 0, sizeof(*t));
}

/* fs_root is about to change: every open transaction still reading it
 * as its snapshot gets a copy of it first. */
static void tx_detach_all(void)
{
	for (int i = 0; i < FS_MAX_TX; i++)
		if (fs_tx[i].id && !fs_tx[i].root)
			fs_tx[i].root = node_copy(root_get());
}

/* The tree an operation in tx reads; NULL with err set for a bad tx. */
static struct fnode *tree_of(store_tx tx, struct ftx **t_r, struct agent_err *err)
{
	struct ftx *t = NULL;

	fs_ncalls++;
	if (tx != STORE_NOTX) {
		t = tx_find(tx);
		if (!t) {
			err_set(err, EINVAL, "fake xenstore: no transaction %u", tx);
			return NULL;
		}
	}
	if (t_r)
		*t_r = t;
	return t && t->root ? t->root : root_get();
}

/* The tree an operation about to change it works on: transaction t's own
 * (copied now, at its first write), or with none the store's (copied first
 * for the transactions that still read it). */
static struct fnode *tree_write(struct ftx *t)
{
	if (!t) {
		tx_detach_all();
		return root_get();
	}
	if (!t->root)
		t->root = node_copy(root_get());
	return t->root;
}

int store_tx_start(struct store *s, store_tx *tx_r, struct agent_err *err)
{
	(void)s;
	fs_ncalls++;
	for (int i = 0; i < FS_MAX_TX; i++) {
		if (fs_tx[i].id)
			continue;
		root_get();
		fs_tx[i].id = fs_next_tx++;
		fs_tx[i].root = NULL;	/* fs_root, until one of them changes */
		fs_tx[i].gen0 = fs_gen;
		*tx_r = fs_tx[i].id;
		return 0;
	}
	return err_set(err, EBUSY, "fake xenstore: too many transactions open");
}

int store_tx_end(struct store *s, store_tx tx, bool abort_tx,
		 struct agent_err *err)
{
	struct ftx *t = tx_find(tx);

	(void)s;
	fs_ncalls++;
	if (!t)
		return err_set(err, EINVAL, "fake xenstore: no transaction %u", tx);
	if (abort_tx) {
		tx_free(t);
		return 0;
	}
	/* Only commits conflict: an abort always succeeds in xenstored. */
	if (fs_conflicts || t->gen0 != fs_gen) {
		if (fs_conflicts)
			fs_conflicts--;
		tx_free(t);
		return err_set(err, EAGAIN, "xenstore transaction conflicted");
	}
	/* A transaction that wrote replaces the tree with its own; one that
	 * did not leaves it as it is (the same nodes its copy would have
	 * held).  Either way the generation moves: any commit conflicts the
	 * transactions open beside it, as before. */
	if (t->root) {
		tx_detach_all();
		node_free(fs_root);
		fs_root = t->root;
		t->root = NULL;
	}
	fs_gen++;
	for (unsigned i = 0; i < t->nchanges; i++)
		fire(t->changes[i].path, t->changes[i].removed);
	tx_free(t);
	return 0;
}

/* ---- the store API --------------------------------------------------------- */

int store_open(struct store **s_r, struct agent_err *err)
{
	struct store *s;

	if (fs_conn)
		return err_set(err, EBUSY, "fake xenstore: one connection at a time");
	s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(err, ENOMEM, "out of memory");
	s->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->evfd < 0) {
		int e = errno;

		free(s);
		return err_sys(err, e, "cannot connect to xenstored (fake: eventfd)");
	}
	root_get();
	fs_conn = s;
	if (fs_events) {	/* queued before the connection: readable now */
		uint64_t one = 1;

		if (write(s->evfd, &one, sizeof(one)) < 0)
			abort();
	}
	*s_r = s;
	return 0;
}

static void events_clear(void)
{
	while (fs_events) {
		struct fevent *e = fs_events;

		fs_events = e->next;
		free(e->path);
		free(e->token);
		free(e);
	}
	fs_events_tail = &fs_events;
}

static void watches_clear(void)
{
	while (fs_watches) {
		struct fwatch *w = fs_watches;

		fs_watches = w->next;
		free(w->path);
		free(w->token);
		free(w);
	}
}

void store_close(struct store *s)
{
	if (!s)
		return;
	/* The connection's watches, events and transactions go with it. */
	watches_clear();
	events_clear();
	for (int i = 0; i < FS_MAX_TX; i++)
		if (fs_tx[i].id)
			tx_free(&fs_tx[i]);
	close(s->evfd);
	free(s);
	fs_conn = NULL;
}

int store_fd(struct store *s)
{
	return s->evfd;
}

int store_watch(struct store *s, const char *path, const char *token,
		struct agent_err *err)
{
	struct fwatch *w, **tail;

	(void)s;
	fs_ncalls++;
	if (path[0] != '@' && !valid_path(path))
		return err_sys(err, EINVAL, "xenstore watch %s", path);
	for (tail = &fs_watches; *tail; tail = &(*tail)->next)
		if (!strcmp((*tail)->path, path) && !strcmp((*tail)->token, token))
			return err_sys(err, EEXIST, "xenstore watch %s", path);
	w = calloc(1, sizeof(*w));
	if (!w || !(w->path = strdup(path)) || !(w->token = strdup(token)))
		abort();
	*tail = w;
	/* xenstored fires a new watch once, at once. */
	event_add(path, token);
	return 0;
}

int store_unwatch(struct store *s, const char *path, const char *token)
{
	(void)s;
	fs_ncalls++;
	for (struct fwatch **p = &fs_watches; *p; p = &(*p)->next) {
		struct fwatch *w = *p;

		if (strcmp(w->path, path) || strcmp(w->token, token))
			continue;
		*p = w->next;
		free(w->path);
		free(w->token);
		free(w);
		return 0;
	}
	return -ENOENT;
}

int store_next_event(struct store *s, char **path_r, char **token_r)
{
	struct fevent *e = fs_events;

	if (!e) {
		uint64_t v;

		/* Nothing queued: the fd is not readable any more. */
		if (read(s->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return -errno;
		return 0;
	}
	fs_events = e->next;
	if (!fs_events)
		fs_events_tail = &fs_events;
	*path_r = e->path;
	*token_r = e->token;
	free(e);
	return 1;
}

int store_read(struct store *s, store_tx tx, const char *path, char **val_r,
	       size_t *len_r, struct agent_err *err)
{
	struct fnode *root = tree_of(tx, NULL, err), *n;

	(void)s;
	if (!root)
		return -err->errnum;
	if (!valid_path(path))
		return err_sys(err, EINVAL, "xenstore read %s", path);
	n = walk(root, path, 0, NULL);
	if (!n)
		return -ENOENT;
	*val_r = malloc(n->len + 1);
	if (!*val_r)
		return err_set(err, ENOMEM, "out of memory");
	memcpy(*val_r, node_val(n), n->len + 1);
	if (len_r)
		*len_r = n->len;
	return 0;
}

void store_read_str(struct store *s, store_tx tx, const char *path, char *buf,
		    size_t n)
{
	struct agent_err err;
	char *v = NULL;

	buf[0] = '\0';
	if (store_read(s, tx, path, &v, NULL, &err) == 0)
		snprintf(buf, n, "%s", v);
	free(v);
}

static int put(store_tx tx, const char *path, const char *val, size_t len,
	       struct agent_err *err)
{
	struct ftx *t;
	struct fnode *root = tree_of(tx, &t, err), *n;

	if (!root)
		return -err->errnum;
	if (!valid_path(path) || !strcmp(path, "/"))
		return err_sys(err, EINVAL, "xenstore write %s", path);
	if (len > FS_VALUE_MAX)
		return err_sys(err, E2BIG, "xenstore write %s", path);
	n = walk(tree_write(t), path, 1, NULL);
	free(n->val);
	n->val = val_dup(val, len);
	n->len = len;
	changed(tx, t, path, 0);
	return 0;
}

int store_write(struct store *s, store_tx tx, const char *path,
		const char *val, struct agent_err *err)
{
	(void)s;
	return put(tx, path, val, strlen(val), err);
}

int store_writef(struct store *s, store_tx tx, const char *path,
		 struct agent_err *err, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return store_write(s, tx, path, buf, err);
}

int store_mkdir(struct store *s, store_tx tx, const char *path,
		struct agent_err *err)
{
	struct ftx *t;
	struct fnode *root = tree_of(tx, &t, err);

	(void)s;
	if (!root)
		return -err->errnum;
	if (!valid_path(path))
		return err_sys(err, EINVAL, "xenstore mkdir %s", path);
	if (walk(root, path, 0, NULL))
		return 0;	/* xenstored: an existing node is fine, no event */
	walk(tree_write(t), path, 1, NULL);
	changed(tx, t, path, 0);
	return 0;
}

int store_rm(struct store *s, store_tx tx, const char *path,
	     struct agent_err *err)
{
	struct ftx *t;
	struct fnode *root = tree_of(tx, &t, err), *n, **link = NULL;

	(void)s;
	if (!root)
		return -err->errnum;
	if (!valid_path(path) || !strcmp(path, "/"))
		return err_sys(err, EINVAL, "xenstore rm %s", path);
	if (!walk(root, path, 0, NULL))
		return 0;	/* store.h: removing an absent node is fine */
	n = walk(tree_write(t), path, 0, &link);
	*link = n->next;
	n->next = NULL;
	node_free(n);
	changed(tx, t, path, 1);
	return 0;
}

int store_set_perms(struct store *s, store_tx tx, const char *path,
		    const struct store_perm *perms, unsigned n,
		    struct agent_err *err)
{
	struct ftx *t;
	struct fnode *root = tree_of(tx, &t, err), *node;

	(void)s;
	if (!root)
		return -err->errnum;
	if (n > FS_MAX_PERMS)
		return err_set(err, E2BIG, "too many permissions for %s", path);
	if (!valid_path(path) || !walk(root, path, 0, NULL))
		return err_sys(err, ENOENT, "xenstore set permissions %s", path);
	node = walk(tree_write(t), path, 0, NULL);
	memcpy(node->perms, perms, n * sizeof(*perms));
	node->nperms = n;
	changed(tx, t, path, 0);
	return 0;
}

int store_ls(struct store *s, store_tx tx, const char *path,
	     char ***names_r, unsigned *n_r, struct agent_err *err)
{
	struct fnode *root = tree_of(tx, NULL, err), *node;
	size_t size = 0;
	unsigned n = 0;
	char **names, *p;

	(void)s;
	*names_r = NULL;
	*n_r = 0;
	if (!root)
		return -err->errnum;
	if (!valid_path(path))
		return err_sys(err, EINVAL, "xenstore directory %s", path);
	node = walk(root, path, 0, NULL);
	if (!node)
		return -ENOENT;
	for (struct fnode *k = node->kids; k; k = k->next, n++)
		size += k->namelen + 1;
	/* One allocation, as libxenstore's xs_directory. */
	names = malloc((n + 1) * sizeof(*names) + size);
	if (!names)
		return err_set(err, ENOMEM, "out of memory");
	p = (char *)(names + n + 1);
	n = 0;
	for (struct fnode *k = node->kids; k; k = k->next) {
		names[n++] = p;
		memcpy(p, k->name, k->namelen + 1);
		p += k->namelen + 1;
	}
	names[n] = NULL;
	*names_r = names;
	*n_r = n;
	return 0;
}

int store_introduce(struct store *s, unsigned domid, unsigned long mfn,
		    unsigned port, struct agent_err *err)
{
	(void)s;
	fs_ncalls++;
	if (fs_nintro == sizeof(fs_intro) / sizeof(fs_intro[0]))
		return err_set(err, ENOSPC, "fake xenstore: too many introduces");
	fs_intro[fs_nintro++] = (struct fintro){ domid, port, mfn };
	fire("@introduceDomain", 0);
	return 0;
}

/* ---- the test's side ------------------------------------------------------- */

void fake_store_reset(void)
{
	for (int i = 0; i < FS_MAX_TX; i++)
		if (fs_tx[i].id)
			tx_free(&fs_tx[i]);
	watches_clear();
	events_clear();
	node_free(fs_root);
	fs_root = NULL;
	fs_conflicts = 0;
	fs_nintro = 0;
	fs_ncalls = 0;
}

/* A client's write, outside any transaction: 0 or a negative errno. */
int fake_store_write(const char *path, const char *val)
{
	struct agent_err err;

	fs_ncalls--;	/* count the agent's requests only */
	return put(STORE_NOTX, path, val, strlen(val), &err);
}

/* The value (malloc'd), or NULL when absent. */
char *fake_store_read(const char *path)
{
	struct fnode *n;
	char *v;

	if (!valid_path(path) || !(n = walk(root_get(), path, 0, NULL)))
		return NULL;
	v = malloc(n->len + 1);
	if (!v)
		abort();
	memcpy(v, node_val(n), n->len + 1);
	return v;
}

int fake_store_exists(const char *path)
{
	return valid_path(path) && walk(root_get(), path, 0, NULL) != NULL;
}

int fake_store_rm(const char *path)
{
	struct agent_err err;

	fs_ncalls--;
	return store_rm(NULL, STORE_NOTX, path, &err);
}

/* Children of path, or -1 when it is absent. */
int fake_store_nchildren(const char *path)
{
	struct fnode *n;
	int c = 0;

	if (!valid_path(path) || !(n = walk(root_get(), path, 0, NULL)))
		return -1;
	for (struct fnode *k = n->kids; k; k = k->next)
		c++;
	return c;
}

static void dump(FILE *f, const struct fnode *n, char *path, size_t pl)
{
	for (; n; n = n->next) {
		size_t l = n->namelen;

		if (pl + 1 + l + 1 > FS_PATH_MAX + 2)
			continue;
		path[pl] = '/';
		memcpy(path + pl + 1, n->name, l + 1);
		fprintf(f, "# %s = \"%s\"\n", path, node_val(n));
		dump(f, n->kids, path, pl + 1 + l);
		path[pl] = '\0';
	}
}

/* Every node at and below path, one "# path = "value"" line each (TAP
 * comments). */
void fake_store_dump(FILE *f, const char *path)
{
	static char buf[FS_PATH_MAX + 2];
	struct fnode *n;

	if (!valid_path(path) || !(n = walk(root_get(), path, 0, NULL))) {
		fprintf(f, "# %s: absent\n", path);
		return;
	}
	snprintf(buf, sizeof(buf), "%s", strcmp(path, "/") ? path : "");
	fprintf(f, "# %s = \"%s\"\n", path, node_val(n));
	dump(f, n->kids, buf, strlen(buf));
}

/* Fire the watches of a special path ("@releaseDomain") as xenstored does
 * when a domain shuts down or dies. */
void fake_store_fire(const char *path)
{
	fire(path, 0);
}

void fake_store_set_tx_conflicts(unsigned n)
{
	fs_conflicts = n;
}

unsigned fake_store_tx_conflicts_left(void)
{
	return fs_conflicts;
}

unsigned fake_store_nwatches(void)
{
	unsigned n = 0;

	for (struct fwatch *w = fs_watches; w; w = w->next)
		n++;
	return n;
}

unsigned fake_store_open_tx(void)
{
	unsigned n = 0;

	for (int i = 0; i < FS_MAX_TX; i++)
		n += fs_tx[i].id != 0;
	return n;
}

/* How many times domid was introduced; the last mfn and port. */
unsigned fake_store_introduced(unsigned domid, unsigned long *mfn_r,
			       unsigned *port_r)
{
	unsigned c = 0;

	for (unsigned i = 0; i < fs_nintro; i++) {
		if (fs_intro[i].domid != domid)
			continue;
		c++;
		if (mfn_r)
			*mfn_r = fs_intro[i].mfn;
		if (port_r)
			*port_r = fs_intro[i].port;
	}
	return c;
}

/* Requests the agent made (reads, writes, transactions, watches...). */
unsigned long fake_store_calls(void)
{
	return fs_ncalls;
}
