/* Work that takes seconds (building a guest) runs in a forked child and
 * reports back through a pipe, so the loop never waits on it. */
#ifndef XSAGENT_CHILD_H
#define XSAGENT_CHILD_H

#include <sys/types.h>

#include "err.h"

/* fn runs in the child with the pipe's write end; its return value is the
 * child's exit status.  The parent gets the read end, non-blocking and
 * close-on-exec.  The child has an empty signal mask and dies with the
 * agent (PR_SET_PDEATHSIG). */
typedef int child_fn(void *arg, int fd);
int child_fork(child_fn *fn, void *arg, pid_t *pid_r, int *fd_r,
	       struct agent_err *err);
/* Write all of buf to fd (blocking); 0 or -errno. */
int child_write_all(int fd, const void *buf, size_t len);

#endif
