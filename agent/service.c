/* The single-instance lock and systemd's readiness notification (see
 * service.h for the protocols). */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "service.h"

static char notify_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static char lock_path[1100];	/* for messages */
static int lock_fd = -1;

/* Make the lock file's directory (one level: /run/xsagent in a fresh /run,
 * a tmpfs emptied at every boot). */
static int service_lock_dir(const char *path, struct agent_err *err)
{
	char dir[1100];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return err_sys(err, errno, "lock directory %s", dir);
	return 0;
}

static int service_write_pid(int fd, const char *path, struct agent_err *err)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		return err_sys(err, errno, "lock file %s: write pid", path);
	return 0;
}

int service_lock(const char *path, int *fd_r, struct agent_err *err)
{
	char holder[32] = "";
	int fd = -1, rc;
	ssize_t n;

	*fd_r = -1;
	if ((rc = service_lock_dir(path, err)) < 0)
		goto out;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		rc = err_sys(err, errno, "lock file %s", path);
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			rc = err_sys(err, errno, "lock file %s: flock", path);
			goto out;
		}
		/* The holder may be between truncate and write: then the pid
		 * is not known, and the message says so. */
		n = pread(fd, holder, sizeof(holder) - 1, 0);
		holder[n > 0 ? n : 0] = '\0';
		holder[strcspn(holder, "\n")] = '\0';
		rc = err_set(err, EWOULDBLOCK,
			     "another xsagent is running: %s is locked by pid %s",
			     path, *holder ? holder : "(unknown)");
		goto out;
	}
	if ((rc = service_write_pid(fd, path, err)) < 0)
		goto out;
	snprintf(lock_path, sizeof(lock_path), "%s", path);
	lock_fd = fd;
	*fd_r = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int service_lock_update_pid(int fd, struct agent_err *err)
{
	return service_write_pid(fd, lock_path, err);
}

void service_forked_child(void)
{
	if (lock_fd >= 0)
		close(lock_fd);
	lock_fd = -1;
}

void service_notify_init(void)
{
	const char *s = getenv("NOTIFY_SOCKET");

	if (s && strlen(s) < sizeof(notify_path) && (*s == '/' || *s == '@'))
		snprintf(notify_path, sizeof(notify_path), "%s", s);
	unsetenv("NOTIFY_SOCKET");
}

int service_notify(const char *state, struct agent_err *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t plen = strlen(notify_path), len = strlen(state);
	socklen_t salen;
	int fd = -1, rc = 0;

	if (!plen)
		goto out;
	/* "@name": an abstract address, a leading NUL and no terminator. */
	memcpy(sa.sun_path, notify_path, plen);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
			    (notify_path[0] == '/'));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = err_sys(err, errno, "notify socket");
		goto out;
	}
	if (sendto(fd, state, len, MSG_NOSIGNAL, (struct sockaddr *)&sa, salen) !=
	    (ssize_t)len)
		rc = err_sys(err, errno, "notify %s: send '%s'", notify_path, state);
out:
	if (fd >= 0)
		close(fd);
	return rc;
}
