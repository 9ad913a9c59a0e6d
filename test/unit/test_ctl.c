/* xsagentctl's pure parts: the command line, task IDs, progress lines. */
#include <stdlib.h>

#include "tap.h"
#include "cli.h"
#include "show.h"

/* Parse a command line given as one string of words. */
static int parse(const char *line, const char *env_root, const char *env_t,
		 struct cli *c, struct agent_err *e)
{
	static char buf[512];
	char *argv[32];
	int argc = 0;

	snprintf(buf, sizeof(buf), "xsagentctl %s", line);
	for (char *w = strtok(buf, " "); w && argc < 31; w = strtok(NULL, " "))
		argv[argc++] = w;
	argv[argc] = NULL;
	err_clear(e);
	return cli_parse(argc, argv, env_root, env_t, c, e);
}

int main(void)
{
	struct agent_err e;
	struct cli c;
	char id[80], line[200];

	/* Commands and their arguments. */
	ok(parse("start demo", NULL, NULL, &c, &e) == 0 && c.cmd == CLI_START,
	   "start demo parses");
	is_str(c.arg, "demo", "its VM");
	is_str(c.root, "/xsagent", "default root");
	ok(c.timeout == 300 && !c.id && !c.nowait && !c.quiet, "defaults");
	ok(parse("-r /x/y -i web1-boot -t 10 -n -q stop 3", NULL, NULL, &c, &e) == 0 &&
	   c.cmd == CLI_STOP, "options before the command");
	ok(!strcmp(c.root, "/x/y") && !strcmp(c.id, "web1-boot") && c.timeout == 10 &&
	   c.nowait && c.quiet && !strcmp(c.arg, "3"), "options taken");
	ok(parse("pause demo --timeout 0 --id p1", NULL, NULL, &c, &e) == 0 &&
	   c.timeout == 0 && !strcmp(c.id, "p1"), "options after the command, long");
	ok(parse("refresh", NULL, NULL, &c, &e) == 0 && c.cmd == CLI_REFRESH &&
	   !c.arg, "refresh takes no argument");
	ok(parse("list", "/other", "42", &c, &e) == 0 && c.cmd == CLI_LIST &&
	   !strcmp(c.root, "/other") && c.timeout == 42, "environment used");
	ok(parse("-r /mine -t 5 list", "/other", "42", &c, &e) == 0 &&
	   !strcmp(c.root, "/mine") && c.timeout == 5, "options beat environment");
	ok(parse("wait xsagent-1700000000-3", NULL, NULL, &c, &e) == 0 &&
	   c.cmd == CLI_WAIT, "wait for the agent's own task");
	ok(parse("cancel t7", NULL, NULL, &c, &e) == 0 && c.cmd == CLI_CANCEL,
	   "cancel parses");
	ok(parse("--help", NULL, NULL, &c, &e) == 0 && c.cmd == CLI_HELP, "--help");
	ok(parse("-V", NULL, NULL, &c, &e) == 0 && c.cmd == CLI_VERSION, "-V");
	ok(parse("import /etc/xen/web.cfg", NULL, NULL, &c, &e) == 0 &&
	   c.cmd == CLI_IMPORT && !strcmp(c.arg, "/etc/xen/web.cfg"), "import");
	ok(parse("status 00000000-0000-4000-8000-000000000001", NULL, NULL, &c, &e) == 0,
	   "status by UUID");

	/* Bad usage: each with its reason. */
	ok(parse("", NULL, NULL, &c, &e) == -EINVAL, "no command refused");
	is_str(e.msg, "no command given", "its message");
	ok(parse("launch demo", NULL, NULL, &c, &e) == -EINVAL, "unknown command");
	is_str(e.msg, "unknown command 'launch'", "its message");
	ok(parse("start", NULL, NULL, &c, &e) == -EINVAL, "start without VM");
	is_str(e.msg, "usage: xsagentctl start VM", "its message");
	ok(parse("start a b", NULL, NULL, &c, &e) == -EINVAL, "two VMs refused");
	is_str(e.msg, "start: unexpected argument 'b'", "its message");
	ok(parse("refresh now", NULL, NULL, &c, &e) == -EINVAL, "refresh with argument");
	ok(parse("-x start demo", NULL, NULL, &c, &e) == -EINVAL, "unknown option");
	is_str(e.msg, "unknown option -x", "its message");
	ok(parse("--bogus start demo", NULL, NULL, &c, &e) == -EINVAL, "unknown long option");
	is_str(e.msg, "unknown option --bogus", "its message");
	ok(parse("start demo -t", NULL, NULL, &c, &e) == -EINVAL, "-t without value");
	is_str(e.msg, "option -t needs an argument", "its message");
	ok(parse("-t 5s start demo", NULL, NULL, &c, &e) == -EINVAL, "-t 5s refused");
	is_str(e.msg, "-t: '5s' is not a number of seconds (0-86400)", "its message");
	ok(parse("-t -1 start demo", NULL, NULL, &c, &e) == -EINVAL, "-t -1 refused");
	ok(parse("-t 86401 start demo", NULL, NULL, &c, &e) == -EINVAL, "-t too big");
	ok(parse("start demo", NULL, "soon", &c, &e) == -EINVAL, "bad XSAGENT_TIMEOUT");
	is_str(e.msg, "XSAGENT_TIMEOUT: 'soon' is not a number of seconds (0-86400)",
	       "its message");
	ok(parse("-i a.b start demo", NULL, NULL, &c, &e) == -EINVAL,
	   "ID with '.' refused (xenstored would)");
	ok(parse("-i xsagent-7 start demo", NULL, NULL, &c, &e) == -EINVAL,
	   "the agent's ID space refused");
	ok(parse("-i t1 list", NULL, NULL, &c, &e) == -EINVAL, "-i with list refused");
	ok(parse("-r xsagent list", NULL, NULL, &c, &e) == -EINVAL, "relative root");
	ok(parse("-r /xsagent/ list", NULL, NULL, &c, &e) == -EINVAL, "root with trailing /");
	ok(parse("-r /a//b list", NULL, NULL, &c, &e) == -EINVAL, "root with //");
	ok(parse("-r /a.b list", NULL, NULL, &c, &e) == -EINVAL, "root with .");
	ok(parse("cancel a/b", NULL, NULL, &c, &e) == -EINVAL, "task ID with /");
	{
		char argv0[] = "xsagentctl", cmd[] = "start", vm[] = "web 1";
		char *argv[] = { argv0, cmd, vm, NULL };

		err_clear(&e);
		ok(cli_parse(3, argv, NULL, NULL, &c, &e) == -EINVAL,
		   "VM with a space refused (it would change the request)");
	}

	/* IDs. */
	ok(cli_valid_id("a") && cli_valid_id("web1_boot-2"), "good IDs");
	ok(!cli_valid_id("") && !cli_valid_id("a b") && !cli_valid_id("a.b") &&
	   !cli_valid_id("a/b") && !cli_valid_id("xsagent-1"), "bad IDs");
	memset(id, 'x', 65);
	id[65] = '\0';
	ok(!cli_valid_id(id), "65 characters refused");
	id[64] = '\0';
	ok(cli_valid_id(id), "64 characters taken");
	cli_make_id("dom0.example.org", 1234, 1700000000, 0, id, sizeof(id));
	is_str(id, "dom0_example_org-1234-1700000000-0", "made ID: '.' as '_'");
	ok(cli_valid_id(id), "made ID is valid");
	cli_make_id("a-very-long-host-name-of-a-big-machine.example", 4194304,
		    99999999999LL, 4294967295u, id, sizeof(id));
	is_str(id, "a-very-long-host-name-of-4194304-99999999999-4294967295",
	       "long host cut to 24");
	ok(cli_valid_id(id), "longest made ID is valid");
	cli_make_id("xsagent-host", 1, 2, 3, id, sizeof(id));
	is_str(id, "ctl-xsagent-host-1-2-3", "never in the agent's ID space");
	cli_make_id("", 1, 2, 3, id, sizeof(id));
	is_str(id, "host-1-2-3", "no host name");
	{
		char a[80], b[80];

		cli_make_id("h", 9, 5, 0, a, sizeof(a));
		cli_make_id("h", 9, 5, 1, b, sizeof(b));
		ok(strcmp(a, b), "the counter tells IDs of one second apart");
	}

	/* Progress. */
	ok(show_pct("31") == 31 && show_pct("0") == 0 && show_pct("100") == 100,
	   "progress values");
	ok(show_pct("") == 0 && show_pct(NULL) == 0 && show_pct("x") == 0 &&
	   show_pct("5x") == 0 && show_pct("-4") == 0, "junk progress is 0");
	ok(show_pct("250") == 100, "progress above 100 is 100");
	show_line(line, sizeof(line), "running", 31, "init");
	is_str(line, "running 31% init", "plain line");
	show_line(line, sizeof(line), "queued", 0, "");
	is_str(line, "queued 0%", "plain line without stage");
	show_bar(line, sizeof(line), "running", 50, "init");
	is_str(line, "\rrunning   [###############               ]  50% init          ",
	       "bar at 50%%");
	show_bar(line, sizeof(line), "done", 100, "refresh");
	is_str(line, "\rdone      [##############################] 100% refresh       ",
	       "bar at 100%%");
	show_bar(line, sizeof(line), "queued", 0, "");
	is_str(line, "\rqueued    [                              ]   0%               ",
	       "bar at 0%%");
	show_bar(line, sizeof(line), "running", 999, "x");
	ok(strstr(line, "100%") != NULL, "bar clamps");

	/* Uptime. */
	show_uptime(line, sizeof(line), 0);
	is_str(line, "0:00:00", "uptime 0");
	show_uptime(line, sizeof(line), 307);
	is_str(line, "0:05:07", "uptime 307 s");
	show_uptime(line, sizeof(line), 86400 + 3 * 3600 + 4 * 60 + 5);
	is_str(line, "1 day, 3:04:05", "uptime a day");
	show_uptime(line, sizeof(line), 2 * 86400);
	is_str(line, "2 days, 0:00:00", "uptime two days");
	show_uptime(line, sizeof(line), -1);
	is_str(line, "-", "no uptime");
	return tap_done();
}
