/* tree: xsagentctl's one connection to xenstored and the control tree.
 * It works through the agent's xenstore layer (agent/store.c).
 *
 * The protocol with the agent (README, "The xenstore interface"): a client
 * writes <root>/request/<ID>; the agent takes it, in one transaction that
 * removes the request and creates <root>/task/<ID>, or refuses it and says
 * why in <root>/error ("request '<ID>': <reason>"). */
#ifndef XSAGENTCTL_TREE_H
#define XSAGENTCTL_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct tree;

int tree_open(struct tree **t_r, struct agent_err *err);
void tree_close(struct tree *t);
int tree_fd(struct tree *t);

/* *val_r is NUL-terminated; -ENOENT when the node is absent. */
int tree_read(struct tree *t, const char *path, char **val_r,
	      struct agent_err *err);
/* The value into buf, cut to fit and at the first NUL; "" when absent or
 * unreadable (for readers that treat both alike). */
void tree_read_str(struct tree *t, const char *path, char *buf, size_t n);
bool tree_exists(struct tree *t, const char *path);
/* Children of path, sorted; *names_r is one allocation (free it alone).
 * -ENOENT when path is absent. */
int tree_ls(struct tree *t, const char *path, char ***names_r, unsigned *n_r,
	    struct agent_err *err);

int tree_watch(struct tree *t, const char *path, const char *token,
	       struct agent_err *err);
/* Drain one pending watch event without blocking: 1 (its token in tok,
 * cut to n), 0 when none is pending, -errno when the connection failed. */
int tree_next_event(struct tree *t, char *tok, size_t n);

/* Write <root>/request/<id> = value, in one transaction that first checks
 * that neither <root>/task/<id> nor <root>/request/<id> exists (-EEXIST,
 * err says which) and, unless early is set, that <root>/request does
 * (-ENOENT: the agent never ran with this root). */
int tree_submit(struct tree *t, const char *root, const char *id,
		const char *value, bool early, struct agent_err *err);
/* Remove our own <root>/request/<id>, in one transaction, only if it is
 * still there: 1 removed, 0 gone already (the agent took it), -errno. */
int tree_withdraw(struct tree *t, const char *root, const char *id,
		  struct agent_err *err);

#endif
