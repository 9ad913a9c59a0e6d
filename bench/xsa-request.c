/* xsa-request: one xsagent request from a C client, as another dom0 agent
 * would make it — watch <root>/task/<ID>/state, write the request, wait for
 * done or failed — timed inside one process, so the benchmark measures the
 * agent and not the spawning of xenstore-* tools under emulation.
 *
 *   xsa-request ROOT ID "start VM"
 *
 * Prints "request-ms <n> <state>"; exit 0 when the task is done. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>

#include "loop.h"
#include "store.h"

int main(int argc, char **argv)
{
	struct store *s = NULL;
	struct agent_err err = { 0 };
	char state_path[256], req[256], *v = NULL;
	long long t0;
	int rc = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: xsa-request ROOT ID REQUEST\n");
		return 2;
	}
	snprintf(state_path, sizeof(state_path), "%s/task/%s/state", argv[1], argv[2]);
	snprintf(req, sizeof(req), "%s/request/%s", argv[1], argv[2]);
	if (store_open(&s, &err) < 0 ||
	    store_watch(s, state_path, "s", &err) < 0)
		goto out;
	t0 = (long long)loop_now_ms();
	if (store_write(s, STORE_NOTX, req, argv[3], &err) < 0)
		goto out;
	for (;;) {
		struct pollfd p = { .fd = store_fd(s), .events = POLLIN };
		char *path, *token;

		if (poll(&p, 1, 600000) <= 0) {
			fprintf(stderr, "xsa-request: no answer in 600 s\n");
			goto out;
		}
		while (store_next_event(s, &path, &token) > 0) {
			free(path);
			free(token);
			free(v);
			v = NULL;
			if (store_read(s, STORE_NOTX, state_path, &v, NULL, &err) == 0 &&
			    (!strcmp(v, "done") || !strcmp(v, "failed"))) {
				printf("request-ms %lld %s\n", (long long)loop_now_ms() - t0, v);
				rc = strcmp(v, "done") ? 1 : 0;
				goto out;
			}
		}
	}
out:
	if (rc && err.msg[0])
		fprintf(stderr, "xsa-request: %s\n", err.msg);
	free(v);
	store_close(s);
	return rc;
}
