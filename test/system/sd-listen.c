/* sd-listen SOCKET: stand in for systemd's end of the sd_notify protocol in
 * the tests (dom0 of the bed has no systemd, socat or python).  Binds an
 * AF_UNIX datagram socket at SOCKET ("@name": abstract), prints "listening"
 * once bound, then every datagram it gets as one line (newlines inside
 * shown as "|"), flushed, until killed. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[4096];
	size_t plen;
	int fd;

	if (argc != 2 || (argv[1][0] != '/' && argv[1][0] != '@') ||
	    (plen = strlen(argv[1])) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: sd-listen /PATH | @ABSTRACT (under %zu bytes)\n",
			sizeof(sa.sun_path));
		return 2;
	}
	memcpy(sa.sun_path, argv[1], plen);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	else
		unlink(argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa,
			   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen)) < 0) {
		perror("sd-listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

		if (n < 0) {
			perror("sd-listen: recv");
			return 1;
		}
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\n')
				buf[i] = '|';
		buf[n] = '\0';
		printf("%s\n", buf);
		fflush(stdout);
	}
}
