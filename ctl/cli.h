/* cli: xsagentctl's command line and task IDs -- pure, unit-tested
 * (test/unit/test_ctl.c). */
#ifndef XSAGENTCTL_CLI_H
#define XSAGENTCTL_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* Exit codes, documented in --help and xsagentctl(8). */
enum cli_exit {
	CLI_EXIT_OK = 0,	 /* done */
	CLI_EXIT_FAILED = 1,	 /* the task failed, or no such VM/task, or a
				    xenstore error */
	CLI_EXIT_USAGE = 2,
	CLI_EXIT_NOT_RUNNING = 3,/* the agent took no request within 2 s */
	CLI_EXIT_TIMEOUT = 4,	 /* -t ran out; the task goes on */
	CLI_EXIT_REFUSED = 5,	 /* the ID is in use, or the agent refused
				    the request */
	CLI_EXIT_INTERRUPTED = 130,
};

enum cli_cmd {
	CLI_START, CLI_STOP, CLI_REBOOT, CLI_DESTROY, CLI_PAUSE, CLI_UNPAUSE,
	CLI_CANCEL, CLI_REFRESH,	/* requests, in request.h's order */
	CLI_LIST, CLI_STATUS, CLI_WAIT, CLI_IMPORT, CLI_HELP, CLI_VERSION,
};

struct cli_cmd_info {
	const char *name;
	const char *arg;	/* what its one argument is; NULL: none */
	bool request;		/* it writes <root>/request/<id> */
};

extern const struct cli_cmd_info cli_cmds[];

#define CLI_ROOT_MAX 128
#define CLI_ID_MAX 64
#define CLI_DEFAULT_ROOT "/xsagent"
#define CLI_DEFAULT_TIMEOUT 300

struct cli {
	enum cli_cmd cmd;
	const char *arg;	/* VM, task ID or file; NULL when none */
	const char *root;
	const char *id;		/* -i; NULL: make one */
	unsigned timeout;	/* seconds; 0: no limit */
	bool nowait, quiet;
};

/* Parse argv.  env_root and env_timeout are $XSAGENT_ROOT and
 * $XSAGENT_TIMEOUT (NULL when unset); options win over them.  On error
 * err says why in one line.  getopt's state is reset first, so it may be
 * called more than once. */
int cli_parse(int argc, char **argv, const char *env_root,
	      const char *env_timeout, struct cli *c, struct agent_err *err);

/* A task ID: 1-64 of [A-Za-z0-9_-] (what xenstored allows in a node name
 * and the agent in an ID), not starting "xsagent-" (the agent's own). */
bool cli_valid_id(const char *id);
/* A control root: "/" then at most 128 of [A-Za-z0-9/_-@], no "//", no
 * trailing "/". */
bool cli_valid_root(const char *root);
/* A VM name, domid or UUID as a request argument: 1-128 printable
 * characters, no space. */
bool cli_valid_arg(const char *arg);

/* A fresh ID "<host>-<pid>-<time>-<counter>": host cut to 24 characters,
 * anything xenstored would refuse in it shown as '_'; "ctl-" in front if it
 * would start "xsagent-".  Unique across hosts sharing nothing, processes
 * and calls within one process. */
void cli_make_id(const char *host, long pid, long long now, unsigned counter,
		 char *buf, size_t n);

#endif
