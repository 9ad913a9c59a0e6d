#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "child.h"
#include "service.h"

int child_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int child_fork(child_fn *fn, void *arg, pid_t *pid_r, int *fd_r,
	       struct agent_err *err)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return err_sys(err, errno, "pipe");
	fflush(NULL);	/* the child must not inherit unwritten output */
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(p[0]);
		close(p[1]);
		return err_sys(err, e, "fork");
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		service_forked_child();
		close(p[0]);
		_exit(fn(arg, p[1]) & 0xff);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	*pid_r = pid;
	*fd_r = p[0];
	return 0;
}
