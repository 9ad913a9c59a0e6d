/* xsa-request: xsagent requests from a C client, as another dom0 agent
 * would make them — watch <root>/task/<ID>/state, write the request, wait
 * for done or failed — timed inside one process, so the benchmark measures
 * the agent and not the spawning of xenstore-* tools under emulation.
 *
 *   xsa-request ROOT ID "start VM"
 *       prints "request-ms <n> <state>"; exit 0 when the task is done.
 *   xsa-request [-s] ROOT ID1 "start VM1" ID2 "start VM2" ...
 *       several tasks: every request written at once (back to back), or
 *       with -s one after another (the next written when the last ended).
 *       Prints "task <ID> <ms> <state>" per task as it ends (ms since the
 *       first write), then "request-ms <ms until the last ended> <state>"
 *       (done when every task is); exit 0 when every task is done. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "store.h"

struct req {
	const char *id, *op;
	char state_path[256], req_path[256];
	long long end_ms;	/* -1 until it ended */
	int done;
};

int main(int argc, char **argv)
{
	struct store *s = NULL;
	struct agent_err err = { 0 };
	struct req *r;
	char *v = NULL;
	long long t0, last = 0;
	int seq = 0, n, next = 0, left, rc = 1, all_done = 1;
	const char *root;

	if (argc > 1 && !strcmp(argv[1], "-s")) {
		seq = 1;
		argv++;
		argc--;
	}
	if (argc < 4 || (argc - 2) % 2) {
		fprintf(stderr, "usage: xsa-request [-s] ROOT ID REQUEST [ID REQUEST...]\n");
		return 2;
	}
	root = argv[1];
	n = (argc - 2) / 2;
	r = calloc((size_t)n, sizeof(*r));
	if (!r)
		return 1;
	if (store_open(&s, &err) < 0)
		goto out;
	for (int i = 0; i < n; i++) {
		char tok[16];

		r[i].id = argv[2 + 2 * i];
		r[i].op = argv[3 + 2 * i];
		r[i].end_ms = -1;
		snprintf(r[i].state_path, sizeof(r[i].state_path), "%s/task/%s/state", root, r[i].id);
		snprintf(r[i].req_path, sizeof(r[i].req_path), "%s/request/%s", root, r[i].id);
		snprintf(tok, sizeof(tok), "%d", i);
		if (store_watch(s, r[i].state_path, tok, &err) < 0)
			goto out;
	}
	t0 = (long long)loop_now_ms();
	/* All at once, or the first one. */
	do {
		if (store_write(s, STORE_NOTX, r[next].req_path, r[next].op, &err) < 0)
			goto out;
		next++;
	} while (!seq && next < n);
	left = n;
	while (left) {
		struct pollfd p = { .fd = store_fd(s), .events = POLLIN };
		char *path, *token;

		if (poll(&p, 1, 600000) <= 0) {
			fprintf(stderr, "xsa-request: no answer in 600 s\n");
			goto out;
		}
		while (left && store_next_event(s, &path, &token) > 0) {
			int i = atoi(token);

			free(path);
			free(token);
			if (i < 0 || i >= next || r[i].end_ms >= 0)
				continue;
			free(v);
			v = NULL;
			if (store_read(s, STORE_NOTX, r[i].state_path, &v, NULL, &err) < 0 ||
			    (strcmp(v, "done") && strcmp(v, "failed")))
				continue;
			r[i].end_ms = last = (long long)loop_now_ms() - t0;
			r[i].done = !strcmp(v, "done");
			all_done &= r[i].done;
			left--;
			if (n > 1)
				printf("task %s %lld %s\n", r[i].id, r[i].end_ms, v);
			if (seq && next < n) {
				if (store_write(s, STORE_NOTX, r[next].req_path, r[next].op, &err) < 0)
					goto out;
				next++;
			}
		}
	}
	printf("request-ms %lld %s\n", last, all_done ? "done" : "failed");
	rc = all_done ? 0 : 1;
out:
	fflush(stdout);
	if (rc && err.msg[0])
		fprintf(stderr, "xsa-request: %s\n", err.msg);
	free(v);
	free(r);
	store_close(s);
	return rc;
}
