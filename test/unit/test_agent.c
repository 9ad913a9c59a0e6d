/* The agent's core on the host: the real agent.c, task.c, start.c, ops.c,
 * refresh.c, dev.c, domtree.c (and the modules below them) linked against
 * two in-memory doubles, fake_store.c for xenstored and fake_hv.c for Xen,
 * which cannot run here.  The test writes an agent configuration and VM
 * files in a temporary directory, calls agent_init, writes requests as a
 * client would and drives the agent's real poll loop until the records say
 * the request ended, then checks <root>/task, <root>/vm and the guest's
 * nodes, and disposes the agent.
 *
 * Each case runs in a child process of its own (fork), so that a memory
 * error ASan or valgrind finds there, or a leak at its exit, fails that
 * case alone: the child's exit status is a check of its own ("no memory
 * error, leak or crash"), with the sanitizer's report quoted below it.
 * The child's checks come back as TAP lines, renumbered here. */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "agent.h"
#include "hv.h"
#include "loop.h"
#include "task.h"

#include "fake.h"

#define ROOT "/xsagent"
#define UUID1 "11111111-1111-4111-8111-111111111111"
#define UUID2 "22222222-2222-4222-8222-222222222222"
#define UUID3 "33333333-3333-4333-8333-333333333333"
#define WAIT_MS 15000	/* bound of one wait (valgrind is slow) */
#define HOLD_MS 60000	/* a builder that must still run when the test acts */

static char dir[] = "/tmp/xsagent-core-XXXXXX";
static struct agent ag;
static struct loop_timer tick;
static bool ag_up;
static int case_failed0;	/* tap_failed when the case began */

/* ---- set-up ---------------------------------------------------------------- */

static void put_file(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void put_file(const char *name, const char *fmt, ...)
{
	char path[400];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(2);
	}
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static void make_tree(void)
{
	char p[400];

	snprintf(p, sizeof(p), "%s/vms", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/scripts", dir);
	mkdir(p, 0700);
	put_file("vmlinuz", "not a kernel: the fake builder does not read it\n");
	put_file("vms/web1.ini", "[vm]\nname = web1\nuuid = " UUID1 "\n"
		 "memory = 64\nkernel = %s/vmlinuz\n", dir);
	/* web2: a scheduler weight and cap of its own (web1: Xen's defaults). */
	put_file("vms/web2.ini", "[vm]\nname = web2\nuuid = " UUID2 "\n"
		 "memory = 64\nkernel = %s/vmlinuz\ncpu_weight = 512\ncap = 50\n", dir);
	put_file("vms/web3.ini", "[vm]\nname = web3\nuuid = " UUID3 "\n"
		 "memory = 64\nkernel = %s/vmlinuz\non_poweroff = restart\n", dir);
	/* No uuid: listed as invalid, a start of it fails saying why. */
	put_file("vms/broken.ini", "[vm]\nname = broken\nkernel = %s/vmlinuz\n", dir);
}

/* The agent's configuration for one case: path in a static buffer. */
static unsigned queue_max = 1000;
static unsigned build_max = 4;

static const char *conf(unsigned task_max)
{
	static char path[400];

	put_file("agent.ini", "[agent]\ncontrol_root = " ROOT "\n"
		 "vm_dir = %s/vms\nscript_dir = %s/scripts\nkernel_cache =\n"
		 "log_level = info\ntask_retention = 3600\ntask_max = %u\n"
		 "queue_max = %u\nbuild_max = %u\n"
		 "build_timeout = 120\nhotplug_timeout = 5\nshutdown_timeout = 20\n",
		 dir, dir, task_max, queue_max, build_max);
	snprintf(path, sizeof(path), "%s/agent.ini", dir);
	return path;
}

/* ---- the loop -------------------------------------------------------------- */

static void tick_fn(void *arg)
{
	(void)arg;
}

/* What main's SIGCHLD handler does: the builders the starts fork. */
static void reap(void)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		if (ag_up)
			agent_child_exited(&ag, pid, st);
}

/* One round of the agent's loop, at most until deadline (a timer of ours
 * bounds poll: an idle agent arms none). */
static void step(uint64_t deadline)
{
	uint64_t now = loop_now_ms(), until = now + 20;

	if (until > deadline)
		until = deadline;
	loop_timer_init(&tick, tick_fn, NULL);
	loop_timer_arm(ag.loop, &tick, until);
	loop_run_once(ag.loop);
	loop_timer_disarm(ag.loop, &tick);
	reap();
}

/* Run the loop until cond holds or ms pass; the value of cond. */
#define WAIT_FOR(ms, cond)                                              \
	({                                                              \
		uint64_t d_ = loop_now_ms() + (ms);                     \
		while (!(cond) && loop_now_ms() < d_)                   \
			step(d_);                                       \
		!!(cond);                                               \
	})

static void run_for(unsigned ms)
{
	uint64_t d = loop_now_ms() + ms;

	while (loop_now_ms() < d)
		step(d);
}

/* SIGKILL our children (the builders) and reap them. */
static void kill_children(void)
{
	char path[64];
	FILE *f;
	int pid;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	f = fopen(path, "r");
	while (f && fscanf(f, "%d", &pid) == 1)
		kill(pid, SIGKILL);
	if (f)
		fclose(f);
	while (waitpid(-1, NULL, 0) > 0)
		;
}

static int agent_up(const char *conf_path)
{
	struct agent_err err = { 0 };
	int rc;

	memset(&ag, 0, sizeof(ag));
	rc = agent_init(&ag, conf_path, &err);
	ok(rc == 0, "agent_init%s%s", rc ? ": " : "", rc ? err.msg : "");
	ag_up = rc == 0;
	return rc;
}

/* As main does at SIGTERM: stop the tasks, dispose, then wait for the
 * builders still running (killed by the rollback). */
static void agent_down(bool stop)
{
	if (stop)
		agent_stop_tasks(&ag);
	agent_dispose(&ag);
	ag_up = false;
	ok(fake_hv_open_handles() == 0, "agent_dispose closed the hypervisor handle");
	kill_children();
	if (tap_failed > case_failed0)
		fake_store_dump(stdout, "/");
	fake_store_reset();
	fake_hv_reset();
}

/* ---- records --------------------------------------------------------------- */

/* The node's value (a rotating static buffer), NULL when absent.  A path
 * without a leading '/' is below ROOT. */
static const char *rec(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *rec(const char *fmt, ...)
{
	static char bufs[16][1024];
	static unsigned next;
	char rel[600], path[700], *v, *buf = bufs[next++ % 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s%s", rel[0] == '/' ? "" : ROOT "/", rel);
	v = fake_store_read(path);
	if (!v)
		return NULL;
	snprintf(buf, 1024, "%s", v);
	free(v);
	return buf;
}

static bool rec_is(const char *path, const char *want)
{
	const char *v = rec("%s", path);

	return v && !strcmp(v, want);
}

static const char *task_rec(const char *id, const char *key)
{
	return rec("task/%s/%s", id, key);
}

static bool ended(const char *id)
{
	const char *s = task_rec(id, "state");

	return s && (!strcmp(s, "done") || !strcmp(s, "failed"));
}

static bool state_is(const char *id, const char *want)
{
	const char *s = task_rec(id, "state");

	return s && !strcmp(s, want);
}

static bool exists(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool exists(const char *fmt, ...)
{
	char rel[600], path[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s%s", rel[0] == '/' ? "" : ROOT "/", rel);
	return fake_store_exists(path);
}

static void request(const char *id, const char *val)
{
	char path[600];

	snprintf(path, sizeof(path), ROOT "/request/%s", id);
	if (fake_store_write(path, val) < 0)
		printf("# cannot write %s\n", path);
}

/* Write request id and wait for its task to end. */
static bool request_wait(const char *id, const char *val)
{
	request(id, val);
	return WAIT_FOR(WAIT_MS, ended(id));
}

/* For messages: a record that may be absent. */
static const char *nz(const char *s)
{
	return s ? s : "(absent)";
}

static bool contains(const char *s, const char *part)
{
	return s && strstr(s, part);
}

/* ---- cases ----------------------------------------------------------------- */

/* start to done, pause, unpause, stop (the guest powers off), start again,
 * destroy: the task records, the VM record and the guest's nodes. */
static void case_start(void)
{
	struct hv_dominfo d;
	unsigned long mfn = 0;
	unsigned port = 0;

	if (agent_up(conf(200)) < 0)
		return;
	is_str(rec("vm/web1/state"), "halted", "web1 listed halted");
	is_str(rec("vm/web1/uuid"), UUID1, "web1's uuid");
	is_str(rec("vm/web1/domid"), "", "web1 has no domid");
	is_str(rec("vm/broken/state"), "invalid", "broken listed invalid");
	ok(contains(rec("vm/broken/error"), "uuid"), "broken's error names the missing key: %s",
	   nz(rec("vm/broken/error")));
	ok(fake_store_nchildren(ROOT "/request") == 0, "request/ exists and is empty");

	ok(request_wait("s1", "start web1"), "start web1 ends");
	is_str(task_rec("s1", "state"), "done", "start: done");
	is_str(task_rec("s1", "op"), "start", "start: op");
	is_str(task_rec("s1", "vm"), "web1", "start: vm");
	is_str(task_rec("s1", "progress"), "100", "start: progress 100");
	is_str(task_rec("s1", "stage"), "refresh", "start: last stage refresh (no devices)");
	is_str(task_rec("s1", "domid"), "1", "start: domid 1");
	ok(task_rec("s1", "error") == NULL, "start: no error");
	ok(contains(task_rec("s1", "time"), "construct=") &&
	   contains(task_rec("s1", "time"), "total="), "start: time line: %s",
	   nz(task_rec("s1", "time")));
	ok(!exists("request/s1"), "start: request consumed");
	is_str(rec("vm/web1/state"), "running", "web1 running");
	is_str(rec("vm/web1/domid"), "1", "web1 domid 1");
	is_str(rec("/local/domain/1/name"), "web1", "/local/domain/1/name");
	is_str(rec("/local/domain/1/vm"), "/vm/" UUID1, "/local/domain/1/vm");
	is_str(rec("/local/domain/1/memory/target"), "65536", "memory/target in KiB");
	is_str(rec("/local/domain/1/console/type"), "xenconsoled", "console/type");
	is_str(rec("/local/domain/1/store/ring-ref"), "65537", "store/ring-ref from the builder");
	is_str(rec("/local/domain/1/cpu/0/availability"), "online", "cpu/0 online");
	is_str(rec("/vm/" UUID1 "/name"), "web1", "/vm/<uuid>/name");
	ok(fake_store_introduced(1, &mfn, &port) == 1 && mfn == 0x10001 && port >= 1,
	   "domain 1 introduced once (mfn %#lx, port %u)", mfn, port);
	ok(fake_hv_get(1, &d) && !d.paused, "domain 1 exists, unpaused");

	ok(request_wait("p1", "pause web1"), "pause ends");
	is_str(task_rec("p1", "state"), "done", "pause: done");
	is_str(rec("vm/web1/state"), "paused", "web1 paused");
	ok(fake_hv_get(1, &d) && d.paused, "domain 1 paused");
	ok(request_wait("p2", "stop web1"), "stop of a paused VM ends");
	is_str(task_rec("p2", "error"), "lookup: web1 is paused and cannot shut down; "
	       "unpause or destroy it", "stop of a paused VM refused");
	ok(request_wait("u1", "unpause web1"), "unpause ends");
	is_str(task_rec("u1", "state"), "done", "unpause: done");
	is_str(rec("vm/web1/state"), "running", "web1 running again");
	ok(fake_hv_get(1, &d) && !d.paused, "domain 1 unpaused");

	request("st1", "stop web1");
	ok(WAIT_FOR(WAIT_MS, rec_is("/local/domain/1/control/shutdown", "poweroff")),
	   "stop: control/shutdown = poweroff");
	is_str(task_rec("st1", "state"), "running", "stop: running while the guest shuts down");
	is_str(task_rec("st1", "stage"), "shutdown", "stop: stage shutdown");
	fake_hv_shutdown(1, HV_SD_POWEROFF);
	fake_store_fire("@releaseDomain");
	ok(WAIT_FOR(WAIT_MS, ended("st1")), "stop ends when the domain shuts down");
	is_str(task_rec("st1", "state"), "done", "stop: done");
	is_str(task_rec("st1", "result"), "shut down (poweroff)", "stop: result");
	is_str(rec("vm/web1/state"), "halted", "web1 halted");
	is_str(rec("vm/web1/domid"), "", "web1 has no domid");
	is_str(rec("vm/web1/last_shutdown_reason"), "poweroff", "last_shutdown_reason");
	ok(!fake_hv_get(1, NULL), "domain 1 destroyed");
	ok(!exists("/local/domain/1"), "/local/domain/1 removed");
	ok(!exists("/vm/" UUID1), "/vm/<uuid> removed");

	ok(request_wait("s2", "start web1"), "second start ends");
	is_str(task_rec("s2", "state"), "done", "second start: done");
	is_str(rec("vm/web1/domid"), "2", "web1 domid 2 (domids are not reused)");
	ok(request_wait("s3", "start web1"), "start of a running VM ends");
	is_str(task_rec("s3", "error"), "lookup: web1 is running as domid 2",
	       "start of a running VM refused");
	ok(request_wait("d1", "destroy web1"), "destroy ends");
	is_str(task_rec("d1", "state"), "done", "destroy: done");
	is_str(rec("vm/web1/state"), "halted", "web1 halted after destroy");
	ok(fake_hv_ndomains() == 0, "no domain left");
	ok(!exists("/local/domain/2"), "/local/domain/2 removed");

	/* on_poweroff = restart: the agent's own task starts web3 again. */
	ok(request_wait("s4", "start web3"), "start web3 ends");
	fake_hv_shutdown(3, HV_SD_POWEROFF);
	fake_store_fire("@releaseDomain");
	ok(WAIT_FOR(WAIT_MS, rec_is("vm/web3/domid", "4") && rec_is("vm/web3/state", "running")),
	   "web3 restarted as domid 4 after powering off: %s %s",
	   nz(rec("vm/web3/state")), nz(rec("vm/web3/domid")));
	is_str(rec("vm/web3/last_action"), "restarted (poweroff)", "web3 last_action");
	ok(!fake_hv_get(3, NULL) && fake_hv_get(4, NULL), "domain 3 gone, 4 running");
	ok(fake_store_open_tx() == 0, "no transaction left open");
	agent_down(true);
}

/* This case's agent log so far (run_case sends the child's stderr to
 * DIR/NAME.err) has part. */
static bool log_has(const char *name, const char *part)
{
	char path[400], buf[65536];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.err", dir, name);
	fflush(stderr);
	if (!(f = fopen(path, "r")))
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return strstr(buf, part) != NULL;
}

/* A stop writes the guest's control/shutdown; the guest's kernel clears it
 * when it takes the request, which the agent notes once in its log.  The
 * node is the guest's to write: a node it makes below it (an empty
 * control/shutdown/x) fires the agent's watch too, and is not the guest
 * taking the request. */
static void case_guest_shutdown_node(void)
{
	const char *took = "web1: the guest took the poweroff request";

	if (agent_up(conf(200)) < 0)
		return;
	ok(request_wait("g1", "start web1"), "start web1 ends");
	request("g2", "stop web1");
	ok(WAIT_FOR(WAIT_MS, rec_is("/local/domain/1/control/shutdown", "poweroff")),
	   "stop: control/shutdown = poweroff");
	fake_store_write("/local/domain/1/control/shutdown/x", "");
	run_for(300);
	ok(!log_has("guest-shutdown-node", took),
	   "an empty node below control/shutdown is not the guest taking the request");
	fake_store_write("/local/domain/1/control/shutdown", "");
	ok(WAIT_FOR(WAIT_MS, log_has("guest-shutdown-node", took)),
	   "control/shutdown cleared: the guest took the request");
	fake_hv_shutdown(1, HV_SD_POWEROFF);
	fake_store_fire("@releaseDomain");
	ok(WAIT_FOR(WAIT_MS, ended("g2")), "the stop ends when the domain shuts down");
	is_str(task_rec("g2", "state"), "done", "stop: done");
	agent_down(true);
}

/* Requests that cannot run: each fails with a clear error, or (a bad or
 * taken ID) is reported in <root>/error; none is left under request/. */
static void case_bad_requests(void)
{
	static const struct {
		const char *id, *req, *error;
	} bad[] = {
		{ "b1", "frobnicate web1", "request: unknown operation 'frobnicate'" },
		{ "b2", "start", "request: usage: start <VM name, domid or UUID>" },
		{ "b3", "start nosuch", "lookup: no VM named 'nosuch' (by name, domid or UUID)" },
		{ "b4", "stop web1", "lookup: web1 is halted" },
		{ "b5", "cancel nosuch", "cancel: no task 'nosuch'" },
		{ "b6", "refresh now", "request: refresh takes no argument" },
		{ "b7", "start web1 web2", "request: too many arguments; usage: start <VM name, domid or UUID>" },
		{ "b8", "", "request: empty request" },
		{ "b9", "cancel b9", "cancel: task b9 cannot cancel itself" },
	};

	if (agent_up(conf(200)) < 0)
		return;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ok(request_wait(bad[i].id, bad[i].req), "'%s' ends", bad[i].req);
		is_str(task_rec(bad[i].id, "state"), "failed", "'%s': failed", bad[i].req);
		is_str(task_rec(bad[i].id, "error"), bad[i].error, "'%s': error", bad[i].req);
		ok(!exists("request/%s", bad[i].id), "'%s': request removed", bad[i].req);
	}
	is_str(task_rec("b1", "op"), "", "an unparsed request has op \"\"");
	ok(request_wait("b10", "start broken"), "start of an invalid VM ends");
	ok(contains(task_rec("b10", "error"), "lookup: VM file of broken is invalid: "),
	   "start of an invalid VM: %s", nz(task_rec("b10", "error")));

	/* An ID that names a task: reported in <root>/error. */
	request("b1", "refresh");
	ok(WAIT_FOR(WAIT_MS, !exists("request/b1")), "a taken ID: request removed");
	is_str(rec("error"), "request 'b1': a task with this ID exists; choose another ID",
	       "a taken ID: <root>/error");
	is_str(task_rec("b1", "error"), "request: unknown operation 'frobnicate'",
	       "a taken ID: the first task's record is untouched");
	/* '@' is a valid xenstore name but not a valid ID. */
	request("bad@id", "refresh");
	ok(WAIT_FOR(WAIT_MS, !exists("request/bad@id")), "an invalid ID: request removed");
	ok(contains(rec("error"), "request 'bad@id': invalid ID"), "an invalid ID: %s",
	   nz(rec("error")));
	ok(!exists("task/bad@id"), "an invalid ID gets no task");

	/* Not enough memory: refused before anything is created. */
	fake_hv_set_free_kb(10 * 1024);
	ok(request_wait("m1", "start web2"), "start without the memory ends");
	is_str(task_rec("m1", "error"), "construct: web2 needs 64 MiB but the host "
	       "has 10 MiB free", "start without the memory: error");
	ok(fake_hv_ncreated() == 0, "no domain created");
	is_str(rec("vm/web2/state"), "halted", "web2 still halted");
	fake_hv_set_free_kb(8ULL << 20);

	/* The builder fails: everything the start made is undone. */
	fake_hv_set_build(1, 0, "parse kernel image: no loader found");
	ok(request_wait("f1", "start web2"), "start whose build fails ends");
	is_str(task_rec("f1", "error"), "init: parse kernel image: no loader found",
	       "build failure: error");
	is_str(task_rec("f1", "stage"), "init", "build failure: stage init");
	ok(fake_hv_ncreated() == 1 && fake_hv_ndomains() == 0, "the domain was destroyed");
	ok(!exists("/local/domain/1"), "its /local/domain/1 removed");
	ok(!exists("/vm/" UUID2), "its /vm/<uuid> removed");
	is_str(rec("vm/web2/state"), "halted", "web2 halted after the rollback");
	is_str(rec("vm/web2/domid"), "", "web2 without domid after the rollback");
	ok(fake_store_nchildren(ROOT "/request") == 0, "nothing left under request/");
	agent_down(true);
}

/* cancel: a queued task, then a running start (rolled back). */
static void case_cancel(void)
{
	if (agent_up(conf(200)) < 0)
		return;
	fake_hv_set_build(1, HOLD_MS, NULL);
	request("s1", "start web1");
	ok(WAIT_FOR(WAIT_MS, rec_is("task/s1/stage", "init")), "start s1 in init (slow builder)");
	request("q1", "pause web1");
	ok(WAIT_FOR(WAIT_MS, state_is("q1", "queued")), "pause q1 queued behind s1");
	ok(request_wait("c1", "cancel q1"), "cancel of the queued task ends");
	is_str(task_rec("c1", "state"), "done", "cancel c1: done");
	is_str(task_rec("c1", "result"), "cancelled task q1", "cancel c1: result");
	is_str(task_rec("q1", "state"), "failed", "q1 failed");
	is_str(task_rec("q1", "error"), "cancelled by task c1 before it ran", "q1: error");
	is_str(task_rec("s1", "state"), "running", "s1 still running");

	ok(request_wait("c2", "cancel s1"), "cancel of the running start ends");
	is_str(task_rec("c2", "result"), "cancelled task s1", "cancel c2: result");
	is_str(task_rec("s1", "state"), "failed", "s1 failed");
	is_str(task_rec("s1", "error"), "init: cancelled by task c2", "s1: error");
	ok(fake_hv_ndomains() == 0, "s1's domain destroyed");
	ok(!exists("/local/domain/1"), "s1's /local/domain/1 removed");
	is_str(rec("vm/web1/state"), "halted", "web1 halted");
	ok(request_wait("c3", "cancel s1"), "cancel of an ended task ends");
	is_str(task_rec("c3", "error"), "cancel: task s1 has ended already", "c3: error");
	ok(request_wait("s2", "start web1"), "web1 starts after the rollback");
	is_str(task_rec("s2", "state"), "done", "s2 done");
	agent_down(true);
}

/* queue_max tasks queued or running at most: the next request fails at
 * once with the reason, and is taken when the queue has room again. */
static void case_queue_max(void)
{
	queue_max = 2;
	if (agent_up(conf(200)) < 0)
		return;
	fake_hv_set_build(1, HOLD_MS, NULL);
	request("s1", "start web1");
	ok(WAIT_FOR(WAIT_MS, rec_is("task/s1/stage", "init")), "start s1 held in init");
	request("q1", "pause web1");
	ok(WAIT_FOR(WAIT_MS, state_is("q1", "queued")), "q1 queued behind s1");
	ok(request_wait("q2", "pause web1"), "the third request ends at once");
	is_str(task_rec("q2", "state"), "failed", "q2 failed");
	ok(contains(task_rec("q2", "error"), "2 tasks are queued or running (queue_max)"),
	   "q2: error says why (%s)", nz(task_rec("q2", "error")));
	ok(!exists("request/q2"), "and its request is gone");
	ok(request_wait("c1", "cancel s1") && state_is("s1", "failed"),
	   "cancel s1 (the queue has room for it)");
	ok(WAIT_FOR(WAIT_MS, ended("q1")), "q1 runs and ends");
	ok(request_wait("r1", "refresh") && state_is("r1", "done"),
	   "a request after that is taken");
	queue_max = 1000;
	agent_down(true);
}

/* Our children now: the builders still running (or not yet reaped). */
static int nchildren(void)
{
	char path[64];
	FILE *f;
	int pid, n = 0;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	if (!(f = fopen(path, "r")))
		return -1;
	while (fscanf(f, "%d", &pid) == 1)
		n++;
	fclose(f);
	return n;
}

/* build_max builders at once: a start past it waits in init with no
 * builder of its own, runs when a builder is reaped, and can be cancelled
 * while it waits. */
static void case_build_max(void)
{
	build_max = 1;
	if (agent_up(conf(200)) < 0)
		return;
	fake_hv_set_build(1, 3000, NULL);
	request("s1", "start web1");
	ok(WAIT_FOR(WAIT_MS, rec_is("task/s1/stage", "init")), "s1 in init (slow builder)");
	request("s2", "start web2");
	request("s3", "start web3");
	ok(WAIT_FOR(WAIT_MS, rec_is("task/s2/stage", "init") &&
			     rec_is("task/s3/stage", "init")), "s2 and s3 in init");
	run_for(300);
	ok(nchildren() == 1, "build_max = 1: one builder runs (%d)", nchildren());
	is_str(task_rec("s2", "state"), "running", "s2 waits, running");
	is_str(task_rec("s2", "progress"), "31", "s2 waits at progress 31");
	ok(request_wait("c1", "cancel s3"), "cancel of the waiting s3 ends");
	is_str(task_rec("s3", "error"), "init: cancelled by task c1", "s3: error");
	is_str(rec("vm/web3/state"), "halted", "web3 halted, its domain gone");
	ok(WAIT_FOR(WAIT_MS, ended("s1") && ended("s2")), "s1, then s2, end");
	is_str(task_rec("s1", "state"), "done", "s1 done");
	is_str(task_rec("s2", "state"), "done", "s2 done after s1's builder");
	ok(fake_hv_ndomains() == 2, "two domains (%d)", fake_hv_ndomains());
	build_max = 4;
	agent_down(true);
}

/* task_max finished tasks are kept, the oldest go first. */
static void case_prune(void)
{
	char id[8];

	if (agent_up(conf(2)) < 0)
		return;
	for (int i = 1; i <= 4; i++) {
		snprintf(id, sizeof(id), "r%d", i);
		ok(request_wait(id, "refresh"), "refresh %s ends", id);
	}
	ok(WAIT_FOR(WAIT_MS, fake_store_nchildren(ROOT "/task") == 2),
	   "task_max=2: two tasks kept (%d)", fake_store_nchildren(ROOT "/task"));
	ok(!exists("task/r1") && !exists("task/r2"), "r1, r2 pruned");
	ok(state_is("r3", "done") && state_is("r4", "done"), "r3, r4 kept");
	request("bad", "nonsense");
	ok(WAIT_FOR(WAIT_MS, !exists("task/r3")), "a failed request counts: r3 pruned");
	ok(state_is("r4", "done") && state_is("bad", "failed"), "r4 and the failed one kept");
	ok(fake_store_nchildren(ROOT "/task") == 2, "still two");
	agent_down(true);
}

/* SIGTERM: a start in flight is rolled back, a queued task fails, a stop
 * waiting for its guest fails; a request coming now is left for the next
 * run. */
static void case_stop_tasks(void)
{
	if (agent_up(conf(200)) < 0)
		return;
	ok(request_wait("s2", "start web2"), "web2 started");
	request("st2", "stop web2");
	ok(WAIT_FOR(WAIT_MS, rec_is("task/st2/stage", "shutdown")), "stop web2 waiting");
	fake_hv_set_build(2, HOLD_MS, NULL);
	request("s1", "start web1");
	ok(WAIT_FOR(WAIT_MS, rec_is("task/s1/stage", "init")), "start s1 in init");
	request("q1", "start web1");
	ok(WAIT_FOR(WAIT_MS, state_is("q1", "queued")), "q1 queued");
	agent_stop_tasks(&ag);
	is_str(task_rec("s1", "state"), "failed", "in-flight start failed");
	is_str(task_rec("s1", "error"), "init: interrupted: the agent is stopping",
	       "in-flight start: error");
	is_str(task_rec("q1", "state"), "failed", "queued task failed");
	is_str(task_rec("q1", "error"), "the agent stopped before this task ran; "
	       "request it again", "queued task: error");
	is_str(task_rec("st2", "state"), "failed", "waiting stop failed");
	is_str(task_rec("st2", "error"), "shutdown: interrupted: the agent is stopping",
	       "waiting stop: error");
	ok(!fake_hv_get(2, NULL), "the in-flight start's domain destroyed");
	ok(!exists("/local/domain/2"), "its /local/domain/2 removed");
	is_str(rec("vm/web1/state"), "halted", "web1 halted");
	ok(fake_hv_get(1, NULL), "web2's domain left running");
	request("late", "refresh");
	run_for(200);
	ok(exists("request/late") && !exists("task/late"),
	   "a request written while stopping is left for the next run");
	agent_down(false);
}

/* Every request is taken exactly once, or reported: never left under
 * request/ unseen, whatever the conflicts. */
static void case_tx_conflicts(void)
{
	const char *e;

	if (agent_up(conf(200)) < 0)
		return;
	fake_store_set_tx_conflicts(20);
	request("c1", "start web1");
	ok(WAIT_FOR(WAIT_MS, ended("c1") || contains(rec("error"), "c1")),
	   "20 conflicts: the start ends or is reported [regression]");
	ok(!exists("request/c1"), "20 conflicts: request not left under request/ [regression]");
	e = rec("error");
	if (exists("task/c1")) {
		is_str(task_rec("c1", "state"), "done", "20 conflicts: taken, done");
		ok(fake_hv_ncreated() == 1, "20 conflicts: taken exactly once (%u domains created)",
		   fake_hv_ncreated());
		ok(!contains(e, "c1"), "20 conflicts: taken, not also reported");
	} else {
		ok(contains(e, "c1"), "20 conflicts: reported in <root>/error [regression]: %s", e ? e : "(none)");
		ok(fake_hv_ncreated() == 0, "20 conflicts: not taken, nothing created");
	}
	fake_store_set_tx_conflicts(0);

	/* Three requests written at once into a long conflict. */
	fake_store_set_tx_conflicts(40);
	request("m1", "refresh");
	request("m2", "pause web1");
	request("m3", "refresh");
	ok(WAIT_FOR(WAIT_MS, ended("m1") && ended("m2") && ended("m3")),
	   "40 conflicts, three requests: all end [regression]");
	ok(fake_store_nchildren(ROOT "/request") == 0, "40 conflicts: request/ empty [regression]");
	is_str(task_rec("m2", "state"), "done", "m2 (pause) done [regression]");
	is_str(rec("vm/web1/state"), "paused", "web1 paused once [regression]");
	fake_store_set_tx_conflicts(0);
	ok(fake_store_open_tx() == 0, "no transaction left open");
	agent_down(true);
}

/* A 200-character ID: refused in <root>/error and removed, at start-up
 * (the directory's listing) and at run time (the watch event). */
static void case_long_id(void)
{
	char a200[201], b200[201], c65[66];

	memset(a200, 'a', 200);
	a200[200] = '\0';
	memset(b200, 'b', 200);
	b200[200] = '\0';
	memset(c65, 'c', 65);
	c65[65] = '\0';
	request(b200, "refresh");
	if (agent_up(conf(200)) < 0)
		return;
	ok(WAIT_FOR(WAIT_MS, !exists("request/%s", b200)),
	   "200-character ID waiting at start-up: removed");
	ok(contains(rec("error"), "invalid ID"), "... reported: %s", nz(rec("error")));
	fake_store_rm(ROOT "/error");

	request(a200, "refresh");
	ok(WAIT_FOR(WAIT_MS, !exists("request/%s", a200)),
	   "200-character ID written at run time: removed, not left under request/ [regression]");
	ok(contains(rec("error"), "request 'aaaa") && contains(rec("error"), "invalid ID"),
	   "... reported in <root>/error [regression]: %s", nz(rec("error")));
	fake_store_rm(ROOT "/error");

	request(c65, "refresh");
	ok(WAIT_FOR(WAIT_MS, !exists("request/%s", c65)), "65-character ID: removed");
	ok(contains(rec("error"), "invalid ID"), "... reported: %s", nz(rec("error")));
	ok(fake_store_nchildren(ROOT "/task") <= 0, "no task for any of them");
	ok(request_wait("ok-after", "refresh") && state_is("ok-after", "done"),
	   "a good request after them is taken");
	agent_down(true);
}

/* The agent killed (no stop) with a start in flight and a VM running, then
 * started again on the same xenstore and hypervisor: the start is rolled
 * back, the running domain adopted. */
static void case_restart(void)
{
	if (agent_up(conf(200)) < 0)
		return;
	ok(request_wait("s2", "start web2"), "web2 started (domid 1)");
	{
		unsigned w = 0, c = 0;

		ok(fake_hv_sched(1, &w, &c) && w == 512 && c == 50,
		   "web2's domain created with cpu_weight 512 and cap 50 (%u, %u)", w, c);
	}
	fake_hv_set_build(2, HOLD_MS, NULL);
	request("s1", "start web1");
	ok(WAIT_FOR(WAIT_MS, rec_is("task/s1/stage", "init")), "start s1 in init");
	request("q1", "pause web1");
	ok(WAIT_FOR(WAIT_MS, state_is("q1", "queued")), "q1 queued");
	/* SIGKILL: nothing is stopped or rolled back, the records stay; the
	 * builder dies with the agent (PR_SET_PDEATHSIG). */
	agent_dispose(&ag);
	ag_up = false;
	kill_children();
	/* Records another dom0 writer (or a cut) left as no agent writes
	 * them: a state that is none of the four, no state at all, an op
	 * with a newline.  Each is taken as an ended, failed task. */
	fake_store_write(ROOT "/task/j1/state", "\x1b[2Jdone");
	fake_store_write(ROOT "/task/j1/op", "start\nforged line");
	fake_store_write(ROOT "/task/j2/op", "stop");
	if (agent_up(conf(200)) < 0)
		return;
	is_str(task_rec("j1", "state"), "failed", "a record with a junk state: failed");
	is_str(task_rec("j1", "error"),
	       "its record was unreadable at agent restart (no valid state)",
	       "... with the reason");
	is_str(task_rec("j2", "state"), "failed", "a record without a state: failed");
	ok(task_rec("j2", "error") != NULL, "... with the reason");
	is_str(task_rec("s1", "state"), "failed", "interrupted start: failed");
	is_str(task_rec("s1", "error"), "interrupted by agent restart; rolled back",
	       "interrupted start: error");
	is_str(task_rec("q1", "state"), "failed", "interrupted queued task: failed");
	is_str(task_rec("q1", "error"), "interrupted by agent restart",
	       "interrupted queued task: error");
	ok(!fake_hv_get(2, NULL), "the interrupted start's domain destroyed");
	ok(!exists("/local/domain/2"), "its /local/domain/2 removed");
	ok(!exists("/vm/" UUID1), "its /vm/<uuid> removed");
	is_str(rec("vm/web1/state"), "halted", "web1 halted");
	is_str(rec("vm/web1/last_action"), "start interrupted by agent restart; rolled back",
	       "web1 last_action");
	is_str(rec("vm/web2/state"), "running", "web2 adopted: running");
	is_str(rec("vm/web2/domid"), "1", "web2 adopted: domid 1");
	is_str(task_rec("s2", "state"), "done", "the finished start's record kept");
	ok(request_wait("s3", "start web1"), "web1 starts again");
	is_str(task_rec("s3", "state"), "done", "s3 done");
	ok(request_wait("st2", "destroy web2"), "the adopted web2 destroyed");
	ok(!fake_hv_get(1, NULL) && !exists("/local/domain/1"), "domain 1 and its nodes gone");
	agent_down(true);
}

/* HVM: the device-model stage with fake device models (scripts).  One that
 * exits at once and one that never says "running" fail the start with
 * their reason and roll it back; one whose state the test writes (as qemu
 * would) lets the start finish, and its death under the running guest
 * crashes the domain: on_crash (destroy) applies. */
static const char *hvm_conf(const char *dm, unsigned timeout_s)
{
	static char path[400];

	put_file("hvm-agent.ini", "[agent]\ncontrol_root = " ROOT "\n"
		 "vm_dir = %s/hvmvms\nscript_dir = %s/scripts\nkernel_cache =\n"
		 "device_model = %s/%s\nhvmloader = %s/hvmloader\n"
		 "seabios = %s/bios.bin\ndm_log_dir = %s\ndm_timeout = %u\n",
		 dir, dir, dir, dm, dir, dir, dir, timeout_s);
	snprintf(path, sizeof(path), "%s/hvm-agent.ini", dir);
	return path;
}

/* Request "start hvm1" as ID and wait until it waits in device-model;
 * fills domid.  Returns the pid the device-model-pid node names (0: none),
 * a node written when the device model was spawned. */
static int start_in_dm(const char *id, char *domid, size_t n)
{
	char p[200], *v;
	int pid;

	request(id, "start hvm1");
	snprintf(p, sizeof(p), "task/%s/stage", id);
	ok(WAIT_FOR(WAIT_MS, rec_is(p, "device-model")),
	   "start %s waits in device-model", id);
	snprintf(domid, n, "%s", nz(task_rec(id, "domid")));
	snprintf(p, sizeof(p), "/local/domain/%s/image/device-model-pid", domid);
	WAIT_FOR(WAIT_MS, exists("%s", p));
	v = fake_store_read(p);
	pid = v ? atoi(v) : 0;
	free(v);
	return pid;
}

static void case_hvm(void)
{
	char p[400], domid[16];
	struct hv_dominfo info = { 0 };
	int pid;

	snprintf(p, sizeof(p), "%s/hvmvms", dir);
	mkdir(p, 0700);
	put_file("hvmvms/hvm1.ini", "[vm]\nname = hvm1\nuuid = " UUID3 "\n"
		 "type = hvm\nmemory = 64\nkernel = %s/vmlinuz\n", dir);
	put_file("hvmloader", "not hvmloader: the fake builder does not read it\n");
	put_file("bios.bin", "not a BIOS\n");
	put_file("dm-exit", "#!/bin/sh\necho \"fake dm: domain $2\"\n"
		 "echo 'fake dm: no machine'\nexit 3\n");
	put_file("dm-wait", "#!/bin/sh\nexec sleep 1000\n");
	snprintf(p, sizeof(p), "%s/dm-exit", dir);
	chmod(p, 0755);
	snprintf(p, sizeof(p), "%s/dm-wait", dir);
	chmod(p, 0755);

	if (agent_up(hvm_conf("dm-exit", 60)) < 0)
		return;
	is_str(rec("vm/hvm1/type"), "hvm", "VM record type hvm");
	ok(request_wait("h1", "start hvm1"), "start with a device model that exits ends");
	ok(contains(task_rec("h1", "error"), "device-model: device model (pid ") &&
	   contains(task_rec("h1", "error"), "exited with status 3 before it was "
		    "running: fake dm: no machine"),
	   "its error says so with the log's last line: %s", nz(task_rec("h1", "error")));
	ok(fake_hv_ncreated() == 1 && fake_hv_ndomains() == 0, "the domain was destroyed");
	ok(!exists("/local/domain/1") && !exists("/local/domain/0/device-model/1"),
	   "its nodes and the device model's removed");
	agent_down(true);

	if (agent_up(hvm_conf("dm-wait", 1)) < 0)
		return;
	ok(request_wait("h2", "start hvm1"), "start with a silent device model ends");
	ok(contains(task_rec("h2", "error"), "did not report running within 1 s"),
	   "its error is the timeout: %s", nz(task_rec("h2", "error")));
	ok(fake_hv_ndomains() == 0 && !exists("/local/domain/0/device-model/1"),
	   "the domain and the device model's nodes are gone");
	agent_down(true);

	if (agent_up(hvm_conf("dm-wait", 60)) < 0)
		return;
	pid = start_in_dm("h3", domid, sizeof(domid));
	ok(pid > 0, "image/device-model-pid is the device model's pid (%d)", pid);
	snprintf(p, sizeof(p), "/local/domain/%s/hvmloader/bios", domid);
	ok(exists("%s", p), "hvmloader/bios written");
	snprintf(p, sizeof(p), "/local/domain/0/device-model/%s/state", domid);
	fake_store_write(p, "running");
	ok(WAIT_FOR(WAIT_MS, state_is("h3", "done")), "start h3 done once the "
	   "device model says running");
	is_str(rec("vm/hvm1/state"), "running", "hvm1 running");
	if (pid > 0)
		kill(pid, SIGKILL);
	/* (The agent may have seen it already, on a refresh of its own.) */
	ok(WAIT_FOR(WAIT_MS, (fake_hv_get((unsigned)atoi(domid), &info) &&
			      info.shutdown && info.shutdown_reason == HV_SD_CRASH) ||
		    rec_is("vm/hvm1/last_shutdown_reason", "crash")),
	   "the device model's death crashed the domain");
	fake_store_fire("@releaseDomain");	/* as xenstored then does */
	ok(WAIT_FOR(WAIT_MS, rec_is("vm/hvm1/state", "halted")),
	   "on_crash destroy: hvm1 halted");
	is_str(rec("vm/hvm1/last_shutdown_reason"), "crash", "reason crash");
	ok(WAIT_FOR(WAIT_MS, fake_hv_ndomains() == 0 &&
		    !exists("/local/domain/0/device-model/%s", domid)),
	   "the domain and the device model's nodes are gone");
	agent_down(true);
}

/* HVM after an agent restart: the device model outlives a SIGKILLed agent
 * (agent_dispose without a stop, as case_restart), and the next agent
 * adopts the running guest and watches its device model through a pidfd
 * -- it is not that run's child.  Its death crashes the guest as a
 * child's does; a device model that died while no agent ran crashes the
 * guest at adoption; a destroy of an adopted guest kills its device model.
 * The fake device model is a shell that keeps its arguments (the agent
 * checks "-xen-domid <domid>" in /proc/<pid>/cmdline before it adopts). */
/* pid has exec'd the fake device model (its command line names it): the
 * test writes "running" as soon as the fork is done, a real one only once
 * it runs. */
static bool is_dm_live(int pid)
{
	char path[64], buf[512];
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return len > 0 && memmem(buf, (size_t)len, "dm-live", 7);
}

static int hvm_adopt_start(const char *id, char *domid, size_t n)
{
	char p[200];
	int pid = start_in_dm(id, domid, n);

	snprintf(p, sizeof(p), "/local/domain/0/device-model/%s/state", domid);
	fake_store_write(p, "running");
	ok(WAIT_FOR(WAIT_MS, state_is(id, "done")), "start %s done", id);
	ok(pid > 0 && WAIT_FOR(WAIT_MS, is_dm_live(pid)), "device model pid %d", pid);
	/* The agent is SIGKILLed: nothing stopped, the device model lives. */
	agent_dispose(&ag);
	ag_up = false;
	return pid;
}

static bool crashed_and_halted(const char *domid)
{
	struct hv_dominfo info = { 0 };

	if (!WAIT_FOR(WAIT_MS, (fake_hv_get((unsigned)atoi(domid), &info) &&
				info.shutdown && info.shutdown_reason == HV_SD_CRASH) ||
			      rec_is("vm/hvm1/last_shutdown_reason", "crash")))
		return false;
	fake_store_fire("@releaseDomain");
	return WAIT_FOR(WAIT_MS, rec_is("vm/hvm1/state", "halted")) &&
	       rec_is("vm/hvm1/last_shutdown_reason", "crash");
}

static void case_hvm_adopt(void)
{
	char p[400], domid[16];
	int pid;

	snprintf(p, sizeof(p), "%s/hvmvms", dir);
	mkdir(p, 0700);
	put_file("hvmvms/hvm1.ini", "[vm]\nname = hvm1\nuuid = " UUID3 "\n"
		 "type = hvm\nmemory = 64\nkernel = %s/vmlinuz\n", dir);
	put_file("hvmloader", "not hvmloader\n");
	put_file("bios.bin", "not a BIOS\n");
	put_file("dm-live", "#!/bin/sh\nsleep 1000 &\nwait\n");
	snprintf(p, sizeof(p), "%s/dm-live", dir);
	chmod(p, 0755);

	/* 1: adopted, then it dies. */
	if (agent_up(hvm_conf("dm-live", 60)) < 0)
		return;
	pid = hvm_adopt_start("ha1", domid, sizeof(domid));
	if (agent_up(hvm_conf("dm-live", 60)) < 0)
		return;
	is_str(rec("vm/hvm1/state"), "running", "hvm1 adopted: running");
	is_str(rec("vm/hvm1/domid"), domid, "hvm1 adopted: same domain");
	run_for(200);
	ok(fake_hv_get((unsigned)atoi(domid), NULL) && !rec_is("vm/hvm1/state", "halted"),
	   "an adopted guest whose device model lives is left running");
	if (pid > 0)
		kill(-pid, SIGKILL);
	ok(crashed_and_halted(domid), "the adopted device model's death crashed "
	   "the guest; on_crash destroy: hvm1 halted, reason crash");
	ok(WAIT_FOR(WAIT_MS, !exists("/local/domain/0/device-model/%s", domid)),
	   "the device model's nodes are gone");

	/* 2: it died while no agent ran. */
	pid = hvm_adopt_start("ha2", domid, sizeof(domid));
	if (pid > 0) {
		kill(-pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (agent_up(hvm_conf("dm-live", 60)) < 0)
		return;
	ok(crashed_and_halted(domid), "a guest found without its device model "
	   "crashed at adoption; hvm1 halted, reason crash");

	/* 3: a destroy of an adopted guest kills its device model. */
	pid = hvm_adopt_start("ha3", domid, sizeof(domid));
	if (agent_up(hvm_conf("dm-live", 60)) < 0)
		return;
	ok(request_wait("ha4", "destroy hvm1"), "the adopted hvm1 destroyed");
	is_str(task_rec("ha4", "state"), "done", "destroy done");
	ok(pid > 0 && WAIT_FOR(WAIT_MS, kill(pid, 0) < 0),
	   "its device model (pid %d) was killed and is gone", pid);
	ok(fake_hv_ndomains() == 0 && !exists("/local/domain/0/device-model/%s", domid),
	   "the domain and the device model's nodes are gone");
	agent_down(true);

	/* 4: the agent dies while a start waits for its device model: the
	 * next one rolls the start back and kills that device model
	 * (dm_kill_orphan: no dm of its own knows it). */
	if (agent_up(hvm_conf("dm-live", 60)) < 0)
		return;
	pid = start_in_dm("ha5", domid, sizeof(domid));
	ok(pid > 0, "its device-model-pid node");
	ok(pid > 0 && WAIT_FOR(WAIT_MS, is_dm_live(pid)), "device model pid %d", pid);
	agent_dispose(&ag);	/* SIGKILLed: the device model lives on */
	ag_up = false;
	if (agent_up(hvm_conf("dm-live", 60)) < 0)
		return;
	ok(WAIT_FOR(WAIT_MS, pid > 0 && kill(pid, 0) < 0),
	   "the next agent killed the device model of the start it rolled back "
	   "(pid %d)", pid);
	is_str(rec("vm/hvm1/last_shutdown_reason"), "rolled back", "hvm1: rolled back");
	ok(fake_hv_ndomains() == 0 && !exists("/local/domain/0/device-model/%s", domid),
	   "the domain and the device model's nodes are gone");
	agent_down(true);
}

/* task_end() must not free the task its caller holds: task_max=1 and an
 * older task ending after a newer one (the prune then removes the older
 * one first).  Before 246bcbb task_end pruned at once: ASan reported
 * heap-use-after-free in start_end, cancel_run and agent_stop_tasks. */
static void case_prune_start_end(void)
{
	if (agent_up(conf(1)) < 0)
		return;
	fake_hv_set_build(1, 2000, NULL);	/* web1, the older start, ends last */
	request("s1", "start web1");
	request("s2", "start web2");
	ok(WAIT_FOR(WAIT_MS, rec_is("vm/web2/state", "running")) &&
	   rec_is("vm/web1/state", "starting"), "the newer start (web2) ends first");
	ok(WAIT_FOR(WAIT_MS, rec_is("vm/web1/state", "running") &&
		    rec_is("vm/web2/state", "running")),
	   "both starts end, the older last: web1 %s, web2 %s",
	   nz(rec("vm/web1/state")), nz(rec("vm/web2/state")));
	ok(WAIT_FOR(WAIT_MS, fake_store_nchildren(ROOT "/task") == 1),
	   "task_max=1: one task kept (%d)", fake_store_nchildren(ROOT "/task"));
	agent_down(true);
}

static void case_prune_cancel(void)
{
	if (agent_up(conf(1)) < 0)
		return;
	fake_hv_set_build(1, HOLD_MS, NULL);
	request("s1", "start web1");
	ok(WAIT_FOR(WAIT_MS, rec_is("task/s1/stage", "init")), "start s1 in init");
	request("q1", "start web1");
	ok(WAIT_FOR(WAIT_MS, state_is("q1", "queued")), "q1 queued");
	ok(request_wait("r1", "refresh"), "a newer task (refresh) ended");
	ok(request_wait("c1", "cancel q1"), "cancel of the older queued task ends");
	is_str(task_rec("c1", "result"), "cancelled task q1", "cancel: result");
	ok(request_wait("c2", "cancel s1"), "cancel of the start ends");
	ok(WAIT_FOR(WAIT_MS, fake_store_nchildren(ROOT "/task") == 1),
	   "task_max=1: one task kept (%d)", fake_store_nchildren(ROOT "/task"));
	agent_down(true);
}

static void case_prune_stop_tasks(void)
{
	if (agent_up(conf(1)) < 0)
		return;
	ok(request_wait("s1", "start web1"), "web1 started");
	request("st1", "stop web1");
	ok(WAIT_FOR(WAIT_MS, rec_is("task/st1/stage", "shutdown")), "stop st1 waiting");
	request("q1", "pause web1");
	ok(WAIT_FOR(WAIT_MS, state_is("q1", "queued")), "q1 queued behind it");
	ok(request_wait("r1", "refresh"), "a newer task (refresh) ended");
	fake_hv_set_build(2, HOLD_MS, NULL);
	request("s2", "start web2");
	ok(WAIT_FOR(WAIT_MS, rec_is("task/s2/stage", "init")), "start s2 in init");
	agent_stop_tasks(&ag);
	ok(!fake_hv_get(2, NULL), "s2's domain rolled back");
	ok(fake_hv_get(1, NULL), "web1's domain left running");
	run_for(50);
	ok(fake_store_nchildren(ROOT "/task") == 1, "task_max=1: one task kept (%d)",
	   fake_store_nchildren(ROOT "/task"));
	agent_down(false);
}

/* ---- running a case in a child --------------------------------------------- */

static void quote_report(const char *path)
{
	char line[1024];
	int shown = 0, in_report = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && shown < 40) {
		line[strcspn(line, "\n")] = '\0';
		if (strstr(line, "ERROR: AddressSanitizer") ||
		    strstr(line, "ERROR: LeakSanitizer") ||
		    strstr(line, "runtime error:") || strstr(line, "Invalid read") ||
		    strstr(line, "Invalid write") || strstr(line, "definitely lost"))
			in_report = 1;
		if (in_report || strstr(line, "SUMMARY:")) {
			printf("#     %s\n", line);
			shown++;
		}
	}
	fclose(f);
}

static void run_case(const char *name, const char *note, void (*fn)(void))
{
	char out[400], err[400], line[2048];
	int status, failed0 = tap_failed;
	pid_t pid;
	FILE *f;

	snprintf(out, sizeof(out), "%s/%s.out", dir, name);
	snprintf(err, sizeof(err), "%s/%s.err", dir, name);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		ok(0, "%s: fork", name);
		return;
	}
	if (pid == 0) {
		int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0)
			_exit(3);
		close(fo);
		close(fe);
		setvbuf(stdout, NULL, _IOLBF, 0);
		alarm(120);
		case_failed0 = failed0;
		fn();
		fflush(stdout);
		exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		;
	f = fopen(out, "r");
	while (f && fgets(line, sizeof(line), f)) {
		const char *d;
		int pass;

		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "ok ", 3) || !strncmp(line, "not ok ", 7)) {
			pass = line[0] == 'o';
			d = strstr(line, " - ");
			printf("%sok %d - %s: %s\n", pass ? "" : "not ", ++tap_n, name,
			       d ? d + 3 : line);
			tap_failed += !pass;
		} else {
			printf("%s%s\n", line[0] == '#' ? "" : "# ", line);
		}
	}
	if (f)
		fclose(f);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "%s: no memory error, leak or crash%s", name, note);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		if (WIFSIGNALED(status))
			printf("#   killed by signal %d%s\n", WTERMSIG(status),
			       WTERMSIG(status) == SIGALRM ? " (the case hung)" : "");
		else
			printf("#   exit %d (1: ASan/UBSan report, 23: LeakSanitizer, "
			       "99: valgrind errors)\n", WEXITSTATUS(status));
		quote_report(err);
		printf("#   agent log and reports: %s\n", err);
	}
}

int main(void)
{
	static const char *const uaf =
		" [regression: task_end() pruned and freed the task its caller "
		"held (use-after-free), fixed in 246bcbb]";

	if (!mkdtemp(dir))
		return 2;
	make_tree();
	run_case("start", "", case_start);
	run_case("bad-requests", "", case_bad_requests);
	run_case("guest-shutdown-node", "", case_guest_shutdown_node);
	run_case("cancel", "", case_cancel);
	run_case("prune", "", case_prune);
	run_case("stop-tasks", "", case_stop_tasks);
	run_case("queue-max", "", case_queue_max);
	run_case("build-max", " [50 builders at once: dom0 ran out of memory]",
		 case_build_max);
	run_case("restart", "", case_restart);
	run_case("hvm", "", case_hvm);
	run_case("hvm-adopt", "", case_hvm_adopt);
	run_case("tx-conflicts", " [regression: intake gave up after 8 conflicts, "
		 "the request sat unseen; fixed in 5b66712]", case_tx_conflicts);
	run_case("long-id", " [regression: a long ID was cut and the request "
		 "left; fixed in 5b66712]", case_long_id);
	run_case("prune-start-end", uaf, case_prune_start_end);
	run_case("prune-cancel", uaf, case_prune_cancel);
	run_case("prune-stop-tasks", uaf, case_prune_stop_tasks);
	if (!tap_failed) {
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	} else {
		printf("# logs kept in %s\n", dir);
	}
	return tap_done();
}
