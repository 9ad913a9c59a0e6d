/* cli: the command line (cli.h). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const struct cli_cmd_info cli_cmds[] = {
	[CLI_START] = { "start", "VM", true },
	[CLI_STOP] = { "stop", "VM", true },
	[CLI_REBOOT] = { "reboot", "VM", true },
	[CLI_DESTROY] = { "destroy", "VM", true },
	[CLI_PAUSE] = { "pause", "VM", true },
	[CLI_UNPAUSE] = { "unpause", "VM", true },
	[CLI_CANCEL] = { "cancel", "TASK", true },
	[CLI_REFRESH] = { "refresh", NULL, true },
	[CLI_LIST] = { "list", NULL, false },
	[CLI_STATUS] = { "status", "VM", false },
	[CLI_WAIT] = { "wait", "TASK", false },
	[CLI_IMPORT] = { "import", "FILE.cfg", false },
	[CLI_HELP] = { "help", NULL, false },
	[CLI_VERSION] = { "version", NULL, false },
};
#define NCMDS (sizeof(cli_cmds) / sizeof(cli_cmds[0]))

static bool cli_id_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* Any task's ID, the agent's own included. */
static bool cli_task_id(const char *id)
{
	size_t n = 0;

	for (; id[n]; n++)
		if (!cli_id_char(id[n]))
			return false;
	return n >= 1 && n <= CLI_ID_MAX;
}

bool cli_valid_id(const char *id)
{
	return cli_task_id(id) && strncmp(id, "xsagent-", 8);
}

bool cli_valid_root(const char *root)
{
	size_t n = strlen(root);

	if (n < 2 || n > CLI_ROOT_MAX || root[0] != '/' || root[n - 1] == '/' ||
	    strstr(root, "//"))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!cli_id_char(root[i]) && root[i] != '/' && root[i] != '@')
			return false;
	return true;
}

bool cli_valid_arg(const char *arg)
{
	size_t n = 0;

	for (; arg[n]; n++)
		if (!isgraph((unsigned char)arg[n]))
			return false;
	return n >= 1 && n <= 128;
}

void cli_make_id(const char *host, long pid, long long now, unsigned counter,
		 char *buf, size_t n)
{
	char h[25];
	size_t i;

	for (i = 0; host[i] && i < sizeof(h) - 1; i++)
		h[i] = cli_id_char(host[i]) ? host[i] : '_';
	h[i] = '\0';
	snprintf(buf, n, "%s%s-%ld-%lld-%u", strncmp(h, "xsagent", 7) ? "" : "ctl-",
		 i ? h : "host", pid, now, counter);
}

static int cli_seconds(const char *s, const char *what, unsigned *v_r,
		       struct agent_err *err)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!isdigit((unsigned char)*s) || *end || errno || v > 86400)
		return err_set(err, EINVAL, "%s: '%s' is not a number of seconds "
			       "(0-86400)", what, s);
	*v_r = (unsigned)v;
	return 0;
}

int cli_parse(int argc, char **argv, const char *env_root,
	      const char *env_timeout, struct cli *c, struct agent_err *err)
{
	static const struct option longopts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "id", required_argument, NULL, 'i' },
		{ "timeout", required_argument, NULL, 't' },
		{ "no-wait", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd;
	size_t k;
	int o, rc;

	memset(c, 0, sizeof(*c));
	c->root = env_root && *env_root ? env_root : CLI_DEFAULT_ROOT;
	c->timeout = CLI_DEFAULT_TIMEOUT;
	if (env_timeout && *env_timeout &&
	    (rc = cli_seconds(env_timeout, "XSAGENT_TIMEOUT", &c->timeout, err)) < 0)
		return rc;
	optind = 0;	/* a full reset (glibc), for callers that parse twice */
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":r:i:t:nqhV", longopts, NULL)) != -1) {
		switch (o) {
		case 'r':
			c->root = optarg;
			break;
		case 'i':
			c->id = optarg;
			break;
		case 't':
			if ((rc = cli_seconds(optarg, "-t", &c->timeout, err)) < 0)
				return rc;
			break;
		case 'n':
			c->nowait = true;
			break;
		case 'q':
			c->quiet = true;
			break;
		case 'h':
			c->cmd = CLI_HELP;
			return 0;
		case 'V':
			c->cmd = CLI_VERSION;
			return 0;
		case ':':
			return err_set(err, EINVAL, "option %s needs an argument",
				       argv[optind - 1]);
		default:
			if (optopt)
				return err_set(err, EINVAL, "unknown option -%c", optopt);
			return err_set(err, EINVAL, "unknown option %s",
				       argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return err_set(err, EINVAL, "no command given");
	cmd = argv[optind++];
	for (k = 0; k < NCMDS; k++)
		if (!strcmp(cli_cmds[k].name, cmd))
			break;
	if (k == NCMDS)
		return err_set(err, EINVAL, "unknown command '%.64s'", cmd);
	c->cmd = (enum cli_cmd)k;
	if (cli_cmds[k].arg) {
		if (optind >= argc)
			return err_set(err, EINVAL, "usage: xsagentctl %s %s", cmd,
				       cli_cmds[k].arg);
		c->arg = argv[optind++];
	}
	if (optind < argc)
		return err_set(err, EINVAL, "%s: unexpected argument '%.64s'", cmd,
			       argv[optind]);
	if (!cli_valid_root(c->root))
		return err_set(err, EINVAL, "control root '%.140s' is not a path of at "
			       "most %d of A-Z a-z 0-9 / _ - @", c->root, CLI_ROOT_MAX);
	if (c->id && !cli_valid_id(c->id))
		return err_set(err, EINVAL, "ID '%.80s' is not 1-%d of A-Z a-z 0-9 _ - "
			       "(IDs starting xsagent- are the agent's)", c->id,
			       CLI_ID_MAX);
	if (c->id && !cli_cmds[k].request)
		return err_set(err, EINVAL, "%s: -i is for commands that make a "
			       "request", cmd);
	if (c->arg && (k <= CLI_UNPAUSE || k == CLI_STATUS) && !cli_valid_arg(c->arg))
		return err_set(err, EINVAL, "%s: '%.64s' is not a VM name, domid or "
			       "UUID (1-128 printable characters, no space)", cmd,
			       c->arg);
	if (c->arg && (k == CLI_CANCEL || k == CLI_WAIT) && !cli_task_id(c->arg))
		return err_set(err, EINVAL, "%s: '%.64s' is not a task ID", cmd,
			       c->arg);
	return 0;
}
