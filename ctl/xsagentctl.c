/* xsagentctl: one client for every xsagent operation.  It writes requests
 * under <root>/request/<ID> and follows <root>/task/<ID> to the end
 * (follow.c); it reads the VM records under <root>/vm for list and status.
 * The protocol is in README, "The xenstore interface"; the command line
 * and exit codes in xsagentctl(8). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "follow.h"
#include "import.h"
#include "show.h"
#include "tree.h"

#ifndef XSAGENT_VERSION
#define XSAGENT_VERSION "0.1"
#endif

static const char *prog = "xsagentctl";

static void usage(FILE *f)
{
	fprintf(f,
"usage: xsagentctl [-r ROOT] [-i ID] [-t SECONDS] [-n] [-q] COMMAND [ARG]\n"
"\n"
"Requests (each follows its task to the end):\n"
"  start VM | stop VM | reboot VM | destroy VM | pause VM | unpause VM\n"
"                 VM: a name, a domid or a UUID\n"
"  cancel TASK    cancel a queued or running task\n"
"  refresh        reconcile with the hypervisor and publish the figures\n"
"Queries:\n"
"  list           the VMs: name, domid, state, memory, vcpus, uptime\n"
"  status VM      every node of the VM's record\n"
"  wait TASK      follow a task someone else requested\n"
"  import FILE.cfg  an xl.cfg file as a VM file, on stdout\n"
"\n"
"Options:\n"
"  -r, --root ROOT     control tree (default $XSAGENT_ROOT, else /xsagent)\n"
"  -i, --id ID         the request's ID (default HOST-PID-TIME-N);\n"
"                      1-64 of A-Z a-z 0-9 _ -, not in use\n"
"  -t, --timeout SECS  give up waiting after SECS (default $XSAGENT_TIMEOUT,\n"
"                      else 300; 0: no limit); the task goes on\n"
"  -n, --no-wait       submit the request, print its ID, do not follow it\n"
"  -q, --quiet         no progress, only the result\n"
"  -h, --help, -V, --version\n"
"\n"
"Progress: a bar on a terminal, else one line \"STATE PERCENT%% STAGE\" per\n"
"change.  Ctrl-C (SIGINT, SIGTERM) cancels the task this run requested.\n"
"\n"
"Exit status:\n"
"  0    done\n"
"  1    the task failed, or no such VM or task, or xenstore failed\n"
"  2    bad usage\n"
"  3    the agent is not running (no request taken within 1.5 s)\n"
"  4    timeout (-t); the task goes on\n"
"  5    refused: the ID is in use, or the agent refused the request\n"
"  130  interrupted (the task this run requested is cancelled)\n");
}

static void say_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A fresh request ID (cli_make_id); the counter tells apart the IDs of
 * one run (a request and its cancel). */
static void ctl_new_id(char *buf, size_t n)
{
	static unsigned counter;
	char host[65] = "";

	if (gethostname(host, sizeof(host) - 1) < 0)
		host[0] = '\0';
	cli_make_id(host, (long)getpid(), (long long)time(NULL), counter++, buf, n);
}

/* ---- a task's result ------------------------------------------------------ */

struct ctl_task {
	char op[16], vm[140], domid[16], result[300], error[400], time[300];
};

static void ctl_task_read(struct tree *t, const char *root, const char *id,
			  struct ctl_task *k)
{
	static const struct { const char *key; size_t off, n; } keys[] = {
#define K(f) { #f, offsetof(struct ctl_task, f), sizeof(((struct ctl_task *)0)->f) }
		K(op), K(vm), K(domid), K(result), K(error), K(time),
#undef K
	};
	char p[400];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(p, sizeof(p), "%s/task/%s/%s", root, id, keys[i].key);
		tree_read_str(t, p, (char *)k + keys[i].off, keys[i].n);
	}
}

/* One line for a task that is done, by its operation. */
static void ctl_print_done(const char *id, const struct ctl_task *k)
{
	const char *what = k->vm[0] ? k->vm : id;

	if (!strcmp(k->op, "start") || !strcmp(k->op, "restart") ||
	    (!strcmp(k->op, "reboot") && k->domid[0])) {
		printf("%s: %srunning as domid %s%s%s%s\n", what,
		       k->op[0] == 'r' ? "restarted, " : "",
		       k->domid[0] ? k->domid : "?", k->time[0] ? " (" : "",
		       k->time, k->time[0] ? ")" : "");
	} else if (!strcmp(k->op, "stop") || !strcmp(k->op, "destroy")) {
		printf("%s: halted%s%s\n", what, k->result[0] ? ": " : "",
		       k->result);
	} else if (!strcmp(k->op, "pause")) {
		printf("%s: paused\n", what);
	} else if (!strcmp(k->op, "unpause")) {
		printf("%s: running\n", what);
	} else if (!strcmp(k->op, "cancel")) {
		printf("%s: %s\n", id, k->result[0] ? k->result : "cancelled");
	} else if (!strcmp(k->op, "refresh")) {
		printf("refreshed\n");
	} else {
		printf("%s: %s done%s%s\n", what, k->op[0] ? k->op : "task",
		       k->result[0] ? ": " : "", k->result);
	}
}

/* Follow task id to its end and say how it ended; returns the exit code. */
static int ctl_follow(struct tree *t, const struct cli *c, const char *id,
		      const char *what, bool own, int sigfd)
{
	struct follow f = {
		.tree = t, .root = c->root, .id = id, .own = own,
		.bar = !c->quiet && isatty(STDOUT_FILENO),
		.lines = !c->quiet && !isatty(STDOUT_FILENO),
		.timeout = c->timeout, .sigfd = sigfd, .new_id = ctl_new_id,
	};
	struct agent_err err = { 0 };
	struct ctl_task k = { 0 };
	enum follow_end end;

	if (follow_run(&f, &end, &err) < 0) {
		say_err("%s: %s", what, err.msg);
		return CLI_EXIT_FAILED;
	}
	switch (end) {
	case FOLLOW_DONE:
		ctl_task_read(t, c->root, id, &k);
		ctl_print_done(id, &k);
		return CLI_EXIT_OK;
	case FOLLOW_FAILED:
		ctl_task_read(t, c->root, id, &k);
		say_err("%s: %s", what, k.error[0] ? k.error : "failed (no error given)");
		return CLI_EXIT_FAILED;
	case FOLLOW_NO_TASK:
		say_err("no task %s (nor a request with that ID) under %s", id,
			c->root);
		return CLI_EXIT_FAILED;
	case FOLLOW_NOT_RUNNING:
		say_err("%s", f.note);
		return CLI_EXIT_NOT_RUNNING;
	case FOLLOW_REFUSED:
		say_err("refused: %s", f.note);
		return CLI_EXIT_REFUSED;
	case FOLLOW_VANISHED:
		say_err("%s: %s", what, f.note);
		return CLI_EXIT_FAILED;
	case FOLLOW_TIMEOUT:
		say_err("%s: %s", what, f.note);
		return CLI_EXIT_TIMEOUT;
	case FOLLOW_INTERRUPTED:
		say_err("%s: %s", what, f.note);
		return CLI_EXIT_INTERRUPTED;
	}
	return CLI_EXIT_FAILED;
}

/* SIGINT and SIGTERM as a file descriptor the follower polls: a Ctrl-C
 * between the request and its task is seen, never lost. */
static int ctl_signals(void)
{
	sigset_t set;

	/* A shell starts a background job with SIGINT ignored, and an
	 * ignored signal never reaches a signalfd: the cancel on SIGINT is
	 * this command's documented behaviour, so take it back. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC);
}

/* ---- commands --------------------------------------------------------------- */

static int cmd_request(struct tree *t, const struct cli *c)
{
	char id[CLI_ID_MAX + 1], value[200], what[160];
	struct agent_err err = { 0 };
	int sigfd = -1, rc, code;

	if (c->id)
		snprintf(id, sizeof(id), "%s", c->id);
	else
		ctl_new_id(id, sizeof(id));
	if (c->arg) {
		snprintf(value, sizeof(value), "%s %s", cli_cmds[c->cmd].name, c->arg);
		snprintf(what, sizeof(what), "%s%s", c->cmd == CLI_CANCEL ?
			 "cancel " : "", c->arg);
	} else {
		snprintf(value, sizeof(value), "%s", cli_cmds[c->cmd].name);
		snprintf(what, sizeof(what), "%s", cli_cmds[c->cmd].name);
	}
	if (!c->nowait && (sigfd = ctl_signals()) < 0) {
		say_err("signalfd: %s", strerror(errno));
		return CLI_EXIT_FAILED;
	}
	rc = tree_submit(t, c->root, id, value, c->nowait, &err);
	if (rc == -EEXIST) {
		say_err("refused: %s", err.msg);
		code = CLI_EXIT_REFUSED;
	} else if (rc == -ENOENT) {
		say_err("%s", err.msg);
		code = CLI_EXIT_NOT_RUNNING;
	} else if (rc < 0) {
		say_err("%s: %s", what, err.msg);
		code = CLI_EXIT_FAILED;
	} else if (c->nowait) {
		printf("%s\n", id);
		code = CLI_EXIT_OK;
	} else {
		code = ctl_follow(t, c, id, what, true, sigfd);
	}
	if (sigfd >= 0)
		close(sigfd);
	return code;
}

static int cmd_wait(struct tree *t, const struct cli *c)
{
	char what[80];
	int sigfd = ctl_signals(), code;

	if (sigfd < 0) {
		say_err("signalfd: %s", strerror(errno));
		return CLI_EXIT_FAILED;
	}
	snprintf(what, sizeof(what), "task %s", c->arg);
	code = ctl_follow(t, c, c->arg, what, false, sigfd);
	close(sigfd);
	return code;
}

/* The name of the VM record that arg names: a name, else a domid, else a
 * UUID, as the agent looks VMs up.  0 with name filled, or -ENOENT. */
static int ctl_find_vm(struct tree *t, const char *root, const char *arg,
		       char *name, size_t n, struct agent_err *err)
{
	char p[400], **names = NULL, v[64];
	unsigned cnt = 0;
	int rc;

	snprintf(p, sizeof(p), "%s/vm/%s/state", root, arg);
	if (strlen(arg) <= 64 && tree_exists(t, p)) {
		snprintf(name, n, "%s", arg);
		return 0;
	}
	snprintf(p, sizeof(p), "%s/vm", root);
	rc = tree_ls(t, p, &names, &cnt, err);
	if (rc == -ENOENT)
		return err_set(err, ENOENT, "no VM records under %s (is the agent "
			       "running?)", p);
	if (rc < 0)
		return rc;
	rc = err_set(err, ENOENT, "no VM named '%s' (by name, domid or UUID)", arg);
	for (int pass = 0; pass < 2 && rc < 0; pass++)
		for (unsigned i = 0; i < cnt; i++) {
			snprintf(p, sizeof(p), "%s/vm/%s/%s", root, names[i],
				 pass ? "uuid" : "domid");
			tree_read_str(t, p, v, sizeof(v));
			if (v[0] && !strcasecmp(v, arg)) {
				snprintf(name, n, "%s", names[i]);
				err_clear(err);
				rc = 0;
				break;
			}
		}
	free(names);
	return rc;
}

/* Every node under path, "rel: value", depth first: a node with a value
 * or without children (an empty domid of a halted VM) gets a line. */
static int ctl_dump(struct tree *t, const char *path, const char *rel, int depth,
		    struct agent_err *err)
{
	char **names = NULL;
	unsigned n = 0;
	int rc;

	if ((rc = tree_ls(t, path, &names, &n, err)) < 0)
		return rc == -ENOENT ? 0 : rc;
	for (unsigned i = 0; i < n && rc == 0; i++) {
		char p[600], r[300], v[600], **sub = NULL;
		unsigned nsub = 0;

		snprintf(p, sizeof(p), "%s/%s", path, names[i]);
		snprintf(r, sizeof(r), "%s%s%s", rel, *rel ? "/" : "", names[i]);
		tree_read_str(t, p, v, sizeof(v));
		if (depth < 3 && tree_ls(t, p, &sub, &nsub, err) < 0)
			nsub = 0;
		free(sub);
		if (v[0] || !nsub)
			printf("%s: %s\n", r, v);
		if (nsub)
			rc = ctl_dump(t, p, r, depth + 1, err);
	}
	free(names);
	return rc;
}

static int cmd_status(struct tree *t, const struct cli *c)
{
	struct agent_err err = { 0 };
	char name[80], p[300];

	if (ctl_find_vm(t, c->root, c->arg, name, sizeof(name), &err) < 0) {
		say_err("%s: %s", c->arg, err.msg);
		return CLI_EXIT_FAILED;
	}
	printf("name: %s\n", name);
	snprintf(p, sizeof(p), "%s/vm/%s", c->root, name);
	if (ctl_dump(t, p, "", 0, &err) < 0) {
		say_err("%s: %s", name, err.msg);
		return CLI_EXIT_FAILED;
	}
	return CLI_EXIT_OK;
}

/* Seconds since the domain of the VM with this UUID started, from
 * /vm/<uuid>/start_time (wall clock, written by the start); -1 when
 * unknown. */
static long long ctl_uptime(struct tree *t, const char *uuid)
{
	char p[100], v[32], *end;
	long long st;

	snprintf(p, sizeof(p), "/vm/%s/start_time", uuid);
	tree_read_str(t, p, v, sizeof(v));
	if (!uuid[0] || !v[0])
		return -1;
	st = strtoll(v, &end, 10);
	if (*end && *end != '.')
		return -1;
	st = (long long)time(NULL) - st;
	return st < 0 ? 0 : st;
}

static int cmd_list(struct tree *t, const struct cli *c)
{
	struct agent_err err = { 0 };
	char p[400], **names = NULL;
	unsigned n = 0;
	int rc;

	snprintf(p, sizeof(p), "%s/vm", c->root);
	rc = tree_ls(t, p, &names, &n, &err);
	if (rc == -ENOENT) {
		say_err("no VM records under %s (is the agent running?)", p);
		return CLI_EXIT_FAILED;
	}
	if (rc < 0) {
		say_err("%s", err.msg);
		return CLI_EXIT_FAILED;
	}
	printf("%-24s %5s %-9s %8s %5s %12s\n", "Name", "ID", "State", "Mem(MiB)",
	       "VCPUs", "Uptime");
	for (unsigned i = 0; i < n; i++) {
		static const char *const keys[] = { "domid", "state", "memory",
						    "vcpus", "uuid", "memory_kb" };
		char v[6][64], up[32], mem[24];

		for (unsigned j = 0; j < 6; j++) {
			snprintf(p, sizeof(p), "%s/vm/%s/%s", c->root, names[i], keys[j]);
			tree_read_str(t, p, v[j], sizeof(v[j]));
		}
		/* What the domain holds now when the figures are published,
		 * else what the VM file gives it. */
		if (v[5][0])
			snprintf(mem, sizeof(mem), "%lld", atoll(v[5]) / 1024);
		else
			snprintf(mem, sizeof(mem), "%s", v[2][0] ? v[2] : "-");
		show_uptime(up, sizeof(up), v[0][0] ? ctl_uptime(t, v[4]) : -1);
		printf("%-24s %5s %-9s %8s %5s %12s\n", names[i],
		       v[0][0] ? v[0] : "-", v[1][0] ? v[1] : "?", mem,
		       v[3][0] ? v[3] : "-", up);
	}
	free(names);
	/* Domains the agent does not manage (made by xl, say): listed. */
	names = NULL;
	snprintf(p, sizeof(p), "%s/unmanaged", c->root);
	if (tree_ls(t, p, &names, &n, &err) == 0) {
		for (unsigned i = 0; i < n; i++) {
			char nm[64];

			snprintf(p, sizeof(p), "%s/unmanaged/%s/name", c->root, names[i]);
			tree_read_str(t, p, nm, sizeof(nm));
			printf("%-24s %5s %-9s %8s %5s %12s\n", nm[0] ? nm : "?",
			       names[i], "unmanaged", "-", "-", "-");
		}
		free(names);
	}
	return CLI_EXIT_OK;
}

static int cmd_import(const struct cli *c)
{
	char err[256] = "";
	int rc = import_xlcfg(c->arg, stdout, err, sizeof(err));

	if (fflush(stdout) != 0 && !rc) {
		snprintf(err, sizeof(err), "write: %s", strerror(errno));
		rc = -EIO;
	}
	if (rc < 0) {
		say_err("%s: %s", c->arg, err[0] ? err : strerror(-rc));
		return CLI_EXIT_FAILED;
	}
	return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct agent_err err = { 0 };
	struct tree *t = NULL;
	struct cli c;
	int code;

	signal(SIGPIPE, SIG_IGN);
	if (cli_parse(argc, argv, getenv("XSAGENT_ROOT"), getenv("XSAGENT_TIMEOUT"),
		      &c, &err) < 0) {
		say_err("%s", err.msg);
		fprintf(stderr, "Try 'xsagentctl --help'.\n");
		return CLI_EXIT_USAGE;
	}
	switch (c.cmd) {
	case CLI_HELP:
		usage(stdout);
		return CLI_EXIT_OK;
	case CLI_VERSION:
		printf("xsagentctl %s\n", XSAGENT_VERSION);
		return CLI_EXIT_OK;
	case CLI_IMPORT:
		return cmd_import(&c);
	default:
		break;
	}
	if (tree_open(&t, &err) < 0) {
		say_err("%s", err.msg);
		return CLI_EXIT_FAILED;
	}
	switch (c.cmd) {
	case CLI_LIST:
		code = cmd_list(t, &c);
		break;
	case CLI_STATUS:
		code = cmd_status(t, &c);
		break;
	case CLI_WAIT:
		code = cmd_wait(t, &c);
		break;
	default:
		code = cmd_request(t, &c);
		break;
	}
	tree_close(t);
	fflush(stdout);
	return code;
}
