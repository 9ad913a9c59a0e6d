/* Running as a service: the single-instance lock, the sd_notify datagrams
 * and the journal's "<N>" priority prefix. */
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "service.h"
#include "tap.h"

static char dir[] = "/tmp/xsagent-svc-XXXXXX";

/* A datagram socket at path ("@..." abstract), as systemd's end. */
static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memcpy(sa.sun_path, path, n);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa,
			   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0)
		return -1;
	return fd;
}

static void recv_is(int fd, const char *want, const char *what)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	is_str(buf, want, "%s", what);
}

int main(void)
{
	struct agent_err err = { 0 };
	char lock[300], sock[300], abs_name[64], logf[300], env[64], buf[256];
	int fd1 = -1, fd2 = -1, lfd, sfd, saved, rc;
	struct stat st;
	FILE *f;

	if (!mkdtemp(dir))
		return 2;

	/* The lock: its directory made, our pid in it; a second taker gets
	 * EWOULDBLOCK and the holder's pid in the message. */
	snprintf(lock, sizeof(lock), "%s/run/x.lock", dir);
	ok(service_lock(lock, &fd1, &err) == 0 && fd1 >= 0, "lock taken (%s)", err.msg);
	f = fopen(lock, "r");
	ok(f && fgets(buf, sizeof(buf), f) && atol(buf) == (long)getpid(),
	   "lock file holds our pid");
	if (f)
		fclose(f);
	rc = service_lock(lock, &fd2, &err);
	snprintf(buf, sizeof(buf), "is locked by pid %ld", (long)getpid());
	ok(rc == -EWOULDBLOCK && fd2 < 0 && strstr(err.msg, buf) &&
	   strstr(err.msg, "another xsagent is running"),
	   "second taker refused, holder named (%s)", err.msg);
	/* A forked child (a builder) lets go of its copy: with the agent
	 * gone and the child still alive, the lock is free. */
	{
		int p[2];
		pid_t pid;
		char c;

		if (pipe(p) < 0)
			return 2;
		pid = fork();
		if (pid == 0) {
			service_forked_child();
			close(p[0]);
			if (write(p[1], "r", 1) != 1)
				_exit(1);
			pause();
			_exit(0);
		}
		close(p[1]);
		ok(read(p[0], &c, 1) == 1, "child forked");
		close(fd1);
		ok(service_lock(lock, &fd2, &err) == 0,
		   "taken again once the agent let go, its child still alive (%s)", err.msg);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(p[0]);
	}
	close(fd2);
	ok(service_lock("/proc/nonexistent/x.lock", &fd2, &err) < 0 &&
	   strstr(err.msg, "/proc/nonexistent"), "unmakeable lock directory: %s", err.msg);

	/* Notify: nothing without NOTIFY_SOCKET, a datagram with it (a path
	 * or an abstract name), and the variable gone from the environment. */
	unsetenv("NOTIFY_SOCKET");
	service_notify_init();
	ok(service_notify("READY=1", &err) == 0, "no socket: nothing to do");
	snprintf(sock, sizeof(sock), "%s/notify", dir);
	sfd = listen_at(sock);
	ok(sfd >= 0, "listening at %s", sock);
	setenv("NOTIFY_SOCKET", sock, 1);
	service_notify_init();
	ok(!getenv("NOTIFY_SOCKET"), "NOTIFY_SOCKET removed from the environment");
	ok(service_notify("READY=1", &err) == 0, "READY=1 sent (%s)", err.msg);
	recv_is(sfd, "READY=1", "READY=1 received");
	ok(service_notify("STOPPING=1", &err) == 0, "STOPPING=1 sent");
	recv_is(sfd, "STOPPING=1", "STOPPING=1 received");
	close(sfd);
	snprintf(abs_name, sizeof(abs_name), "@xsagent-test-%ld", (long)getpid());
	sfd = listen_at(abs_name);
	setenv("NOTIFY_SOCKET", abs_name, 1);
	service_notify_init();
	ok(sfd >= 0 && service_notify("RELOADING=1", &err) == 0,
	   "abstract socket %s (%s)", abs_name, err.msg);
	recv_is(sfd, "RELOADING=1", "RELOADING=1 received on the abstract socket");
	close(sfd);
	unlink(sock);
	ok(service_notify("READY=1", &err) < 0 && strstr(err.msg, abs_name),
	   "nobody listening: an error naming the socket (%s)", err.msg);
	setenv("NOTIFY_SOCKET", sock, 1);	/* gone now */
	service_notify_init();
	ok(service_notify("READY=1", &err) < 0, "socket file gone: an error (%s)", err.msg);

	/* The journal: stderr is the stream JOURNAL_STREAM names -> "<N>"
	 * prefix; any other stderr -> the time-stamped form. */
	snprintf(logf, sizeof(logf), "%s/log", dir);
	fflush(stderr);
	saved = dup(2);
	lfd = open(logf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(lfd, 2);
	fstat(lfd, &st);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	log_init("xsagent", true, LOG_LVL_DEBUG);
	log_error("e1");
	log_warn("w2");
	log_info("i3");
	log_debug("d4");
	setenv("JOURNAL_STREAM", "1:2", 1);
	log_init("xsagent", true, LOG_LVL_DEBUG);
	log_info("plain");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(lfd);
	unsetenv("JOURNAL_STREAM");
	f = fopen(logf, "r");
	{
		char all[512] = "";
		size_t n = f ? fread(all, 1, sizeof(all) - 1, f) : 0;

		all[n] = '\0';
		ok(!strncmp(all, "<3>e1\n<4>w2\n<6>i3\n<7>d4\nxsagent[", 32),
		   "journal: priorities as <N>, then the plain form (%s)", all);
		ok(strstr(all, "] info: plain\n") != NULL, "plain form when stderr is not the journal");
	}
	if (f)
		fclose(f);

	unlink(logf);
	unlink(lock);
	snprintf(buf, sizeof(buf), "%s/run", dir);
	rmdir(buf);
	rmdir(dir);
	return tap_done();
}
