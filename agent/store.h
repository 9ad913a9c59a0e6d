/* The store layer: the agent's one connection to xenstored.  The only file
 * that includes xenstore.h.  Every call is one xenstore request (count them:
 * the start's request budget is measured on this connection). */
#ifndef XSAGENT_STORE_H
#define XSAGENT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct store;
typedef uint32_t store_tx;
#define STORE_NOTX 0

/* A permission entry as in xenstore-chmod: the first entry names the owner
 * and what every other domain may do; later ones grant a domain
 * 'r'ead, 'w'rite, 'b'oth or 'n'one. */
struct store_perm {
	unsigned domid;
	char mode;
};

int store_open(struct store **s_r, struct agent_err *err);
void store_close(struct store *s);
int store_fd(struct store *s);

int store_watch(struct store *s, const char *path, const char *token,
		struct agent_err *err);
int store_unwatch(struct store *s, const char *path, const char *token);
/* Next pending watch event, without blocking: 1 with *path_r and *token_r
 * set (free both with free()), 0 when there is none, or a negative errno
 * when the connection failed (-ECONNRESET: xenstored closed it).  The fd
 * of store_fd() does not wake on a lost connection: call this now and then
 * to learn of it. */
int store_next_event(struct store *s, char **path_r, char **token_r);

int store_tx_start(struct store *s, store_tx *tx_r, struct agent_err *err);
/* Commit (abort=false) or abort.  -EAGAIN: the transaction conflicted and
 * the caller should run it again. */
int store_tx_end(struct store *s, store_tx tx, bool abort,
		 struct agent_err *err);

/* *val_r is NUL-terminated (and may hold NULs before *len_r). -ENOENT when
 * the node is absent. */
int store_read(struct store *s, store_tx tx, const char *path, char **val_r,
	       size_t *len_r, struct agent_err *err);
/* The node's value into buf, cut at n - 1 bytes and at the first NUL; ""
 * when it is absent or cannot be read (for readers that treat both alike). */
void store_read_str(struct store *s, store_tx tx, const char *path, char *buf,
		    size_t n);
int store_write(struct store *s, store_tx tx, const char *path,
		const char *val, struct agent_err *err);
int store_writef(struct store *s, store_tx tx, const char *path,
		 struct agent_err *err, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int store_mkdir(struct store *s, store_tx tx, const char *path,
		struct agent_err *err);
/* Removing an absent node is not an error. */
int store_rm(struct store *s, store_tx tx, const char *path,
	     struct agent_err *err);
int store_set_perms(struct store *s, store_tx tx, const char *path,
		    const struct store_perm *perms, unsigned n,
		    struct agent_err *err);
/* Children names of path: *names_r is one allocation (free it alone).
 * -ENOENT (err untouched) when path is absent. */
int store_ls(struct store *s, store_tx tx, const char *path,
	     char ***names_r, unsigned *n_r, struct agent_err *err);
int store_introduce(struct store *s, unsigned domid, unsigned long mfn,
		    unsigned port, struct agent_err *err);

#endif
