#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenstore.h>

#include "store.h"

/* How long xenstored has to answer the first request (a read of "/"). */
#define STORE_OPEN_TIMEOUT_S 15

struct store {
	struct xs_handle *xsh;
};

/* A handle whose first request got no answer: left to the thread that
 * waits in libxenstore, and reachable from here (the agent exits). */
static struct xs_handle *store_unanswered;

static void *store_probe(void *arg)
{
	unsigned len;

	free(xs_read(arg, XBT_NULL, "/", &len));
	return NULL;
}

/* xs_open connects to xenstored's socket, and when that fails opens the
 * kernel's xenbus device instead (the way to a xenstore stub domain).
 * With xenstored dead, that device takes requests that nobody answers:
 * every libxenstore call would block for ever.  So the first request is
 * made by a thread, and an answer (any: an error reply is xenstored's too)
 * must come within STORE_OPEN_TIMEOUT_S. */
int store_open(struct store **s_r, struct agent_err *err)
{
	struct timespec until;
	struct store *s;
	pthread_t t;
	int e;

	s = calloc(1, sizeof(*s));
	if (!s)
		return err_set(err, ENOMEM, "out of memory");
	s->xsh = xs_open(0);
	if (!s->xsh) {
		e = errno;
		free(s);
		return err_sys(err, e, "cannot connect to xenstored");
	}
	if ((e = pthread_create(&t, NULL, store_probe, s->xsh)) != 0) {
		xs_close(s->xsh);
		free(s);
		return err_sys(err, e, "xenstore: a thread for the first request");
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += STORE_OPEN_TIMEOUT_S;
	if ((e = pthread_timedjoin_np(t, NULL, &until)) != 0) {
		pthread_detach(t);
		store_unanswered = s->xsh;
		free(s);
		return err_set(err, ETIMEDOUT, "xenstored does not answer (no reply "
			       "in %d s to a read of /)", STORE_OPEN_TIMEOUT_S);
	}
	*s_r = s;
	return 0;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	xs_close(s->xsh);
	free(s);
}

int store_fd(struct store *s)
{
	return xs_fileno(s->xsh);
}

int store_watch(struct store *s, const char *path, const char *token,
		struct agent_err *err)
{
	if (!xs_watch(s->xsh, path, token))
		return err_sys(err, errno, "xenstore watch %s", path);
	return 0;
}

int store_unwatch(struct store *s, const char *path, const char *token)
{
	return xs_unwatch(s->xsh, path, token) ? 0 : -errno;
}

int store_next_event(struct store *s, char **path_r, char **token_r)
{
	char **ev = xs_check_watch(s->xsh);

	/* libxenstore's reader thread ends when a read of the connection fails
	 * (xenstored gone: the socket reached its end); it closes the socket
	 * and then xs_check_watch answers EINVAL, once the events it had
	 * queued are taken, rather than EAGAIN. */
	if (!ev)
		return errno == EAGAIN ? 0 : errno == EINVAL ? -ECONNRESET : -errno;
	*path_r = strdup(ev[XS_WATCH_PATH]);
	*token_r = strdup(ev[XS_WATCH_TOKEN]);
	free(ev);
	if (!*path_r || !*token_r) {
		free(*path_r);
		free(*token_r);
		return -ENOMEM;
	}
	return 1;
}

int store_tx_start(struct store *s, store_tx *tx_r, struct agent_err *err)
{
	xs_transaction_t t = xs_transaction_start(s->xsh);

	if (t == XBT_NULL)
		return err_sys(err, errno, "xenstore transaction start");
	*tx_r = t;
	return 0;
}

int store_tx_end(struct store *s, store_tx tx, bool abort,
		 struct agent_err *err)
{
	if (xs_transaction_end(s->xsh, tx, abort))
		return 0;
	if (errno == EAGAIN)
		return err_set(err, EAGAIN, "xenstore transaction conflicted");
	return err_sys(err, errno, "xenstore transaction end");
}

int store_read(struct store *s, store_tx tx, const char *path, char **val_r,
	       size_t *len_r, struct agent_err *err)
{
	unsigned int len;
	char *v;

	v = xs_read(s->xsh, tx, path, &len);
	if (!v) {
		if (errno == ENOENT)
			return -ENOENT;
		return err_sys(err, errno, "xenstore read %s", path);
	}
	*val_r = v;	/* libxenstore NUL-terminates what it returns */
	if (len_r)
		*len_r = len;
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

int store_write(struct store *s, store_tx tx, const char *path,
		const char *val, struct agent_err *err)
{
	if (!xs_write(s->xsh, tx, path, val, strlen(val)))
		return err_sys(err, errno, "xenstore write %s", path);
	return 0;
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
	if (!xs_mkdir(s->xsh, tx, path))
		return err_sys(err, errno, "xenstore mkdir %s", path);
	return 0;
}

int store_rm(struct store *s, store_tx tx, const char *path,
	     struct agent_err *err)
{
	if (!xs_rm(s->xsh, tx, path) && errno != ENOENT)
		return err_sys(err, errno, "xenstore rm %s", path);
	return 0;
}

int store_set_perms(struct store *s, store_tx tx, const char *path,
		    const struct store_perm *perms, unsigned n,
		    struct agent_err *err)
{
	struct xs_permissions xp[8];

	if (n > sizeof(xp) / sizeof(xp[0]))
		return err_set(err, E2BIG, "too many permissions for %s", path);
	for (unsigned i = 0; i < n; i++) {
		xp[i].id = perms[i].domid;
		switch (perms[i].mode) {
		case 'r': xp[i].perms = XS_PERM_READ; break;
		case 'w': xp[i].perms = XS_PERM_WRITE; break;
		case 'b': xp[i].perms = XS_PERM_READ | XS_PERM_WRITE; break;
		default: xp[i].perms = XS_PERM_NONE; break;
		}
	}
	if (!xs_set_permissions(s->xsh, tx, path, xp, n))
		return err_sys(err, errno, "xenstore set permissions %s", path);
	return 0;
}

int store_ls(struct store *s, store_tx tx, const char *path,
	     char ***names_r, unsigned *n_r, struct agent_err *err)
{
	unsigned int n;
	char **names;

	names = xs_directory(s->xsh, tx, path, &n);
	if (!names) {
		if (errno == ENOENT) {
			*names_r = NULL;
			*n_r = 0;
			return -ENOENT;
		}
		return err_sys(err, errno, "xenstore directory %s", path);
	}
	*names_r = names;
	*n_r = n;
	return 0;
}

int store_introduce(struct store *s, unsigned domid, unsigned long mfn,
		    unsigned port, struct agent_err *err)
{
	if (!xs_introduce_domain(s->xsh, domid, mfn, port))
		return err_sys(err, errno, "xenstore introduce domain %u", domid);
	return 0;
}
