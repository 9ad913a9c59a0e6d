/* tree: xsagentctl's view of the control tree (tree.h), on the agent's own
 * xenstore layer (agent/store.c): the same reads, watches and transactions,
 * the same error convention. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "tree.h"

/* Conflicting transactions are run again this many times (other clients
 * and the agent write the same tree). */
#define TREE_TX_TRIES 16

struct tree {
	struct store *s;
};

int tree_open(struct tree **t_r, struct agent_err *err)
{
	struct tree *t = calloc(1, sizeof(*t));
	int rc;

	if (!t)
		return err_set(err, ENOMEM, "out of memory");
	if ((rc = store_open(&t->s, err)) < 0) {
		char cause[sizeof(err->msg)];

		free(t);
		/* store_open's words (refused, or no answer in time), and the
		 * usual reason. */
		snprintf(cause, sizeof(cause), "%s", err->msg);
		return err_set(err, -rc, "%s (run it as root in dom0, with "
			       "xenstored running)", cause);
	}
	*t_r = t;
	return 0;
}

void tree_close(struct tree *t)
{
	if (!t)
		return;
	store_close(t->s);
	free(t);
}

int tree_fd(struct tree *t)
{
	return store_fd(t->s);
}

int tree_read(struct tree *t, const char *path, char **val_r,
	      struct agent_err *err)
{
	return store_read(t->s, STORE_NOTX, path, val_r, NULL, err);
}

void tree_read_str(struct tree *t, const char *path, char *buf, size_t n)
{
	store_read_str(t->s, STORE_NOTX, path, buf, n);
}

/* A node we may not read exists all the same. */
static bool tree_present(struct tree *t, store_tx tx, const char *path)
{
	struct agent_err err;
	char *v = NULL;
	int rc = store_read(t->s, tx, path, &v, NULL, &err);

	free(v);
	return rc != -ENOENT;
}

bool tree_exists(struct tree *t, const char *path)
{
	return tree_present(t, STORE_NOTX, path);
}

static int tree_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int tree_ls(struct tree *t, const char *path, char ***names_r, unsigned *n_r,
	    struct agent_err *err)
{
	int rc = store_ls(t->s, STORE_NOTX, path, names_r, n_r, err);

	if (rc == 0)
		qsort(*names_r, *n_r, sizeof(**names_r), tree_cmp);
	return rc;
}

int tree_watch(struct tree *t, const char *path, const char *token,
	       struct agent_err *err)
{
	return store_watch(t->s, path, token, err);
}

int tree_next_event(struct tree *t, char *tok, size_t n)
{
	char *path = NULL, *token = NULL;
	int rc = store_next_event(t->s, &path, &token);

	if (rc == 1)
		snprintf(tok, n, "%s", token);
	free(path);
	free(token);
	return rc;
}

/* Run body(t, tx, arg) in a transaction, again on a conflict.  body
 * returns >= 0 to commit (that value is returned), < 0 to abort. */
static int tree_tx(struct tree *t, int (*body)(struct tree *, store_tx,
					       void *, struct agent_err *),
		   void *arg, struct agent_err *err)
{
	for (int i = 0; i < TREE_TX_TRIES; i++) {
		store_tx tx;
		int rc, end;

		if ((rc = store_tx_start(t->s, &tx, err)) < 0)
			return rc;
		rc = body(t, tx, arg, err);
		if (rc < 0) {
			struct agent_err ignored;

			store_tx_end(t->s, tx, true, &ignored);
			return rc;
		}
		end = store_tx_end(t->s, tx, false, err);
		if (end != -EAGAIN)
			return end < 0 ? end : rc;
	}
	return err_set(err, EAGAIN, "xenstore transaction conflicted %d times "
		       "in a row", TREE_TX_TRIES);
}

struct submit {
	const char *root, *id, *value;
	bool early;
};

static int submit_body(struct tree *t, store_tx tx, void *arg,
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
	return store_write(t->s, tx, p, s->value, err);
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

static int withdraw_body(struct tree *t, store_tx tx, void *arg,
			 struct agent_err *err)
{
	const struct withdraw *w = arg;
	char p[512], *v = NULL;
	int rc;

	snprintf(p, sizeof(p), "%s/request/%s", w->root, w->id);
	rc = store_read(t->s, tx, p, &v, NULL, err);
	free(v);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	if ((rc = store_rm(t->s, tx, p, err)) < 0)
		return rc;
	return 1;
}

int tree_withdraw(struct tree *t, const char *root, const char *id,
		  struct agent_err *err)
{
	struct withdraw w = { root, id };

	return tree_tx(t, withdraw_body, &w, err);
}
