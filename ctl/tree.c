/* tree: xenstore for xsagentctl (tree.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "tree.h"

/* Conflicting transactions are run again this many times (other clients
 * and the agent write the same tree). */
#define TREE_TX_TRIES 16

struct tree {
	struct xs_handle *xsh;
};

int tree_open(struct tree **t_r, struct agent_err *err)
{
	struct tree *t = calloc(1, sizeof(*t));

	if (!t)
		return err_set(err, ENOMEM, "out of memory");
	t->xsh = xs_open(0);
	if (!t->xsh) {
		int e = errno;

		free(t);
		return err_sys(err, e, "cannot connect to xenstored (run it as root "
			       "in dom0, with xenstored running)");
	}
	*t_r = t;
	return 0;
}

void tree_close(struct tree *t)
{
	if (!t)
		return;
	xs_close(t->xsh);
	free(t);
}

int tree_fd(struct tree *t)
{
	return xs_fileno(t->xsh);
}

static int tree_read_tx(struct tree *t, xs_transaction_t tx, const char *path,
			char **val_r, struct agent_err *err)
{
	unsigned len;
	char *v = xs_read(t->xsh, tx, path, &len);

	if (!v) {
		if (errno == ENOENT)
			return -ENOENT;
		return err_sys(err, errno, "read %s", path);
	}
	*val_r = v;
	return 0;
}

int tree_read(struct tree *t, const char *path, char **val_r,
	      struct agent_err *err)
{
	return tree_read_tx(t, XBT_NULL, path, val_r, err);
}

void tree_read_str(struct tree *t, const char *path, char *buf, size_t n)
{
	struct agent_err err;
	char *v = NULL;

	if (!n)
		return;
	buf[0] = '\0';
	if (tree_read(t, path, &v, &err) == 0)
		snprintf(buf, n, "%s", v);
	free(v);
}

bool tree_exists(struct tree *t, const char *path)
{
	struct agent_err err;
	char *v = NULL;
	int rc = tree_read(t, path, &v, &err);

	free(v);
	/* A node we may not read exists all the same. */
	return rc != -ENOENT;
}

static int tree_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int tree_ls(struct tree *t, const char *path, char ***names_r, unsigned *n_r,
	    struct agent_err *err)
{
	unsigned n = 0;
	char **names = xs_directory(t->xsh, XBT_NULL, path, &n);

	if (!names) {
		if (errno == ENOENT)
			return -ENOENT;
		return err_sys(err, errno, "list %s", path);
	}
	qsort(names, n, sizeof(*names), tree_cmp);
	*names_r = names;
	*n_r = n;
	return 0;
}

int tree_watch(struct tree *t, const char *path, const char *token,
	       struct agent_err *err)
{
	if (!xs_watch(t->xsh, path, token))
		return err_sys(err, errno, "watch %s", path);
	return 0;
}

int tree_next_event(struct tree *t, char *tok, size_t n)
{
	char **ev = xs_check_watch(t->xsh);

	if (!ev)
		return errno == EAGAIN ? 0 : -(errno ? errno : EIO);
	snprintf(tok, n, "%s", ev[XS_WATCH_TOKEN]);
	free(ev);
	return 1;
}

/* Run body(t, tx, arg) in a transaction, again on a conflict.  body
 * returns >= 0 to commit (that value is returned), < 0 to abort. */
static int tree_tx(struct tree *t, int (*body)(struct tree *, xs_transaction_t,
					       void *, struct agent_err *),
		   void *arg, struct agent_err *err)
{
	for (int i = 0; i < TREE_TX_TRIES; i++) {
		xs_transaction_t tx = xs_transaction_start(t->xsh);
		int rc;

		if (tx == XBT_NULL)
			return err_sys(err, errno, "xenstore transaction start");
		rc = body(t, tx, arg, err);
		if (rc < 0) {
			xs_transaction_end(t->xsh, tx, true);
			return rc;
		}
		if (xs_transaction_end(t->xsh, tx, false))
			return rc;
		if (errno != EAGAIN)
			return err_sys(err, errno, "xenstore transaction end");
	}
	return err_set(err, EAGAIN, "xenstore transaction conflicted %d times "
		       "in a row", TREE_TX_TRIES);
}

struct submit {
	const char *root, *id, *value;
	bool early;
};

static bool tree_present(struct tree *t, xs_transaction_t tx, const char *path)
{
	unsigned len;
	char *v = xs_read(t->xsh, tx, path, &len);

	free(v);
	return v || errno != ENOENT;
}

static int submit_body(struct tree *t, xs_transaction_t tx, void *arg,
		       struct agent_err *err)
{
	const struct submit *s = arg;
	char p[512];

	snprintf(p, sizeof(p), "%s/task/%s", s->root, s->id);
	if (tree_present(t, tx, p))
		return err_set(err, EEXIST, "task %s exists already (IDs name "
			       "tasks until they are pruned); choose another ID",
			       s->id);
	snprintf(p, sizeof(p), "%s/request", s->root);
	if (!s->early && !tree_present(t, tx, p))
		return err_set(err, ENOENT, "the agent is not running: %s does "
			       "not exist (no agent has run with control root %s)",
			       p, s->root);
	snprintf(p, sizeof(p), "%s/request/%s", s->root, s->id);
	if (tree_present(t, tx, p))
		return err_set(err, EEXIST, "a request with ID %s is waiting "
			       "already; choose another ID", s->id);
	if (!xs_write(t->xsh, tx, p, s->value, strlen(s->value)))
		return err_sys(err, errno, "write %s", p);
	return 0;
}

int tree_submit(struct tree *t, const char *root, const char *id,
		const char *value, bool early, struct agent_err *err)
{
	struct submit s = { root, id, value, early };

	return tree_tx(t, submit_body, &s, err);
}

struct withdraw {
	const char *root, *id;
};

static int withdraw_body(struct tree *t, xs_transaction_t tx, void *arg,
			 struct agent_err *err)
{
	const struct withdraw *w = arg;
	char p[512], *v = NULL;
	int rc;

	snprintf(p, sizeof(p), "%s/request/%s", w->root, w->id);
	rc = tree_read_tx(t, tx, p, &v, err);
	free(v);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	if (!xs_rm(t->xsh, tx, p))
		return err_sys(err, errno, "remove %s", p);
	return 1;
}

int tree_withdraw(struct tree *t, const char *root, const char *id,
		  struct agent_err *err)
{
	struct withdraw w = { root, id };

	return tree_tx(t, withdraw_body, &w, err);
}
