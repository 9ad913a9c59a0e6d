/* libFuzzer harness: task records driven through random sequences of
 * requests, builder reports, guest events, clock steps, SIGTERM, SIGKILL
 * restarts and reloads, through the real agent (agent.c, task.c, start.c,
 * ops.c, refresh.c, policy.c ...) linked with test_agent's doubles of
 * xenstored and Xen (test/unit/fake_store.c, fake_hv.c).
 *
 * The input is a program.  Byte 0 picks the agent's configuration
 * (task_max, task_retention, queue_max); then each op is one byte (modulo
 * NOPS) and its argument bytes (missing ones read as 0):
 *
 *   REQ a b c      a client writes <root>/request/<ID>: a % 10 the request
 *                  (start stop reboot destroy pause unpause cancel refresh,
 *                  an unknown op, a start without argument), b the VM (or,
 *                  for cancel, the task), c the ID (new, one used before,
 *                  65 characters); a & 0x80: then one round of the loop
 *   LOOP a         1-4 rounds of the agent's loop (never blocking)
 *   CLOCK a        the monotonic clock steps forward (1 ms - 1 h)
 *   BUILDER a b    builder a: reports its result, dies without one,
 *                  writes half of it, or is reaped (SIGCHLD)
 *   GUEST a b      the domain of VM a (in the agent's list: broken, web1,
 *                  web2 ...): powers off, reboots, crashes (each with
 *                  @releaseDomain), vanishes, is dying, or the guest takes
 *                  the shutdown request
 *   STOP a         SIGTERM (agent_stop_tasks, dispose), then the agent
 *                  starts again with configuration a and reads the records
 *   RESTART a      SIGKILL (dispose only), then the same
 *   RELOAD a       SIGHUP; a & 1: web5's VM file appears or goes first
 *   CONFLICT a     the next a % 12 transaction commits conflict
 *   JUNK a b c ... SIGKILL, then one record the next agent reads back
 *                  holds other bytes: a % 8 the record (a task's state, op,
 *                  stage, domid or vm; a VM's domid or restarts; a figures
 *                  client), b the task (an ID the client used, or one
 *                  never used) or VM, c % 24 the number of bytes that
 *                  follow (0: the node is gone; a NUL ends the value, as
 *                  the store layer's string reads do); then the agent
 *                  starts again with the same configuration.  Another dom0
 *                  writer's bytes, or a record cut by a crash between two
 *                  of its writes: the agent must take or refuse each
 *                  without breaking what it promises (below), and log none
 *                  of them unquoted
 *
 * Time is the harness's: agent/loop.c is compiled with its clock_gettime
 * and poll (fuzz.mk: -Dclock_gettime=fuzz_clock_gettime -Dpoll=fuzz_poll),
 * so timers fire when the program steps the clock, and a round of the loop
 * never sleeps.  No process is forked: child_fork, kill and hotplug_start
 * are the harness's (-Wl,--wrap); a builder runs in-process at the fork
 * (fake_hv's build), and its result waits in the harness until the
 * program lets it report.  The VMs have no devices (no hotplug script).
 *
 * After every op the harness checks what task.h, agent.h and core.h
 * promise (check_all): ended tasks kept at most task_max once the prune is
 * not due and the prune timer armed no later than the first retention
 * ends, every task's record present and saying its state (error exactly
 * when failed), every record a task's, IDs unique, a running task busy on
 * exactly one VM with exactly one pipeline or wait, no queued task left
 * that could run, no transaction open, no builder pipe left open once no
 * start is in flight.  A broken one aborts (libFuzzer reports it). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "fuzz_util.h"
#include "agent.h"
#include "child.h"
#include "hotplug.h"
#include "task.h"
#include "../unit/fake.h"

#define ROOT "/xsagent"
#define MAX_OPS 200
#define MAX_BUILDERS 32
#define MAX_IDS 64
#define FAKE_PID 0x40000000	/* above any pid_max */
#define CLOCK_BASE_MS 1000000

/* ---- the clock and poll of agent/loop.c ----------------------------------- */

static uint64_t now_ms;
/* FUZZ_TASK_TRACE=1: each op and the tasks after it, on stderr (to read
 * what an input does: build/fuzz/fuzz_task INPUT). */
static bool trace;

int fuzz_clock_gettime(clockid_t clk, struct timespec *ts);
int fuzz_poll(struct pollfd *fds, nfds_t n, int timeout);

int fuzz_clock_gettime(clockid_t clk, struct timespec *ts)
{
	if (clk != CLOCK_MONOTONIC)
		return clock_gettime(clk, ts);
	ts->tv_sec = (time_t)(now_ms / 1000);
	ts->tv_nsec = (long)(now_ms % 1000) * 1000000;
	return 0;
}

/* The loop's poll never waits: time passes only by CLOCK. */
int fuzz_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	(void)timeout;
	return poll(fds, n, 0);
}

/* ---- builders: child_fork and kill ----------------------------------------- */

struct builder {
	pid_t pid;
	int wfd;		/* the child's end; -1 once it has exited */
	int rfd;		/* the agent's end (the agent closes it) */
	int keep;		/* a dup of rfd: the pipe lives until the input ends */
	ino_t ino;
	char msg[1024];		/* what the build wrote */
	size_t len;
	bool reaped;		/* SIGCHLD delivered, or its parent is gone */
	bool killed;
};

static struct builder builders[MAX_BUILDERS];
static unsigned nbuilders;

int __wrap_child_fork(child_fn *fn, void *arg, pid_t *pid_r, int *fd_r,
		      struct agent_err *err);
int __real_kill(pid_t pid, int sig);
int __wrap_kill(pid_t pid, int sig);
int __wrap_hotplug_start(struct loop *l, const struct hotplug_args *a,
			 struct hotplug_run **run_r, struct agent_err *err);

/* The builder runs here and now (fake_hv's build: no delay, nothing
 * allocated); what it writes to its pipe is kept for the program's
 * BUILDER op, and the agent gets a pipe of its own to wait on. */
int __wrap_child_fork(child_fn *fn, void *arg, pid_t *pid_r, int *fd_r,
		      struct agent_err *err)
{
	struct builder *b;
	int cap[2], p[2];
	struct stat sb;
	ssize_t n;

	if (nbuilders == MAX_BUILDERS)
		return err_set(err, EAGAIN, "fork: the fuzzer's builders are used up");
	b = &builders[nbuilders];
	fuzz_check(pipe2(cap, O_CLOEXEC) == 0, "pipe");
	fn(arg, cap[1]);	/* writes its result and closes cap[1] */
	b->len = 0;
	while ((n = read(cap[0], b->msg + b->len, sizeof(b->msg) - b->len)) > 0)
		b->len += (size_t)n;
	close(cap[0]);
	fuzz_check(b->len > 0 && b->len < sizeof(b->msg), "the builder wrote a result");
	fuzz_check(pipe2(p, O_CLOEXEC) == 0, "pipe");
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	b->pid = FAKE_PID + (pid_t)nbuilders;
	b->rfd = p[0];
	b->wfd = p[1];
	b->keep = dup(p[0]);
	fuzz_check(b->keep >= 0 && fstat(p[0], &sb) == 0, "dup");
	b->ino = sb.st_ino;
	b->reaped = b->killed = false;
	nbuilders++;
	*pid_r = b->pid;
	*fd_r = p[0];
	return 0;
}

static struct builder *builder_of(pid_t pid)
{
	if (pid < FAKE_PID || pid >= FAKE_PID + (pid_t)nbuilders)
		return NULL;
	return &builders[pid - FAKE_PID];
}

static void builder_exit(struct builder *b)
{
	if (b->wfd >= 0)
		close(b->wfd);
	b->wfd = -1;
}

/* The agent kills only its builders, and only those not reaped yet (a
 * reaped pid may belong to another process by now). */
int __wrap_kill(pid_t pid, int sig)
{
	struct builder *b = builder_of(pid);

	if (!b) {
		fuzz_check(pid == getpid(), "kill: only the builders the agent forked");
		return __real_kill(pid, sig);
	}
	fuzz_check(!b->reaped, "kill of a builder already reaped (its pid may be reused)");
	if (b->wfd >= 0 && sig == SIGKILL) {
		b->killed = true;
		builder_exit(b);
	}
	return 0;
}

/* The VMs have no devices: no hotplug script may run. */
int __wrap_hotplug_start(struct loop *l, const struct hotplug_args *a,
			 struct hotplug_run **run_r, struct agent_err *err)
{
	(void)l, (void)a, (void)run_r, (void)err;
	fuzz_fail("a hotplug script would run (the VMs have no devices)");
	return -EINVAL;
}

/* Does the agent still hold builder b's end of the pipe? */
static bool agent_holds(const struct builder *b)
{
	struct stat sb;

	return b->rfd != b->wfd && b->rfd != b->keep && fstat(b->rfd, &sb) == 0 &&
	       S_ISFIFO(sb.st_mode) && sb.st_ino == b->ino;
}

/* The agent is gone: its builders die with it (PR_SET_PDEATHSIG) and it
 * will not reap them; fds it held close with the process. */
static void builders_orphan(void)
{
	for (unsigned i = 0; i < nbuilders; i++) {
		struct builder *b = &builders[i];

		builder_exit(b);
		if (agent_holds(b))
			close(b->rfd);
		b->rfd = -1;
		b->reaped = true;
	}
}

static void builders_free(void)
{
	builders_orphan();
	for (unsigned i = 0; i < nbuilders; i++)
		close(builders[i].keep);
	nbuilders = 0;
}

/* ---- the agent's set-up ---------------------------------------------------- */

struct agent_setup {
	unsigned task_max, retention, queue_max;
};

static const struct agent_setup setups[] = {
	{ 1, 3600, 1000 }, { 2, 3600, 1000 }, { 1, 0, 1000 }, { 3, 2, 1000 },
	{ 1, 30, 3 }, { 2, 0, 2 }, { 5, 30, 1000 }, { 200, 3600, 1000 },
};
#define NSETUPS (sizeof(setups) / sizeof(setups[0]))

static char conf_paths[NSETUPS][128];
static char web5_on[128], web5_off[128];
static bool web5_in;

/* VMs as the requests name them: by the files' names (web1: pv with the
 * default on_* actions; web2: pvh, on_crash = restart; web3: on_poweroff =
 * restart, on_reboot = destroy, on_crash = preserve; web5 comes and goes
 * with RELOAD; broken is invalid), by domid, unknown, by web1's UUID. */
static const char *const targets[] = {
	"web1", "web2", "web3", "1", "web5", "broken", "nosuch",
	"11111111-1111-4111-8111-111111111111",
};
#define NTARGETS (sizeof(targets) / sizeof(targets[0]))

static const char *const req_ops[] = {
	"start", "stop", "reboot", "destroy", "pause", "unpause", "cancel",
	"refresh", "frobnicate", "start",
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[128], vms[128], text[512];
	static const char *const vmfiles[][2] = {
		{ "web1", "uuid = 11111111-1111-4111-8111-111111111111\n" },
		{ "web2", "uuid = 22222222-2222-4222-8222-222222222222\ntype = pvh\n"
			  "on_crash = restart\n" },
		{ "web3", "uuid = 33333333-3333-4333-8333-333333333333\n"
			  "on_poweroff = restart\non_reboot = destroy\n"
			  "on_crash = preserve\n" },
		{ "broken", "" },	/* no uuid: invalid */
	};

	(void)argc, (void)argv;
	signal(SIGPIPE, SIG_IGN);
	trace = getenv("FUZZ_TASK_TRACE") != NULL;
	fuzz_log_printable = 1;
	fuzz_make_dir();
	fuzz_write("vmlinuz", "not a kernel\n", 13, path);
	snprintf(vms, sizeof(vms), "%s/vms", fuzz_dir);
	fuzz_check(mkdir(vms, 0700) == 0, "mkdir vms");
	snprintf(path, sizeof(path), "%s/off", fuzz_dir);
	fuzz_check(mkdir(path, 0700) == 0, "mkdir off");
	for (size_t i = 0; i < sizeof(vmfiles) / sizeof(vmfiles[0]); i++) {
		int n = snprintf(text, sizeof(text), "[vm]\nname = %s\n%smemory = 64\n"
				 "kernel = %s/vmlinuz\n", vmfiles[i][0], vmfiles[i][1],
				 fuzz_dir);
		char name[64];

		snprintf(name, sizeof(name), "vms/%s.ini", vmfiles[i][0]);
		fuzz_write(name, text, (size_t)n, path);
	}
	/* web5 comes and goes with RELOAD. */
	int n = snprintf(text, sizeof(text), "[vm]\nname = web5\nuuid = "
			 "55555555-5555-4555-8555-555555555555\nmemory = 64\n"
			 "kernel = %s/vmlinuz\n", fuzz_dir);

	fuzz_write("off/web5.ini", text, (size_t)n, web5_off);
	snprintf(web5_on, sizeof(web5_on), "%s/vms/web5.ini", fuzz_dir);
	for (size_t i = 0; i < NSETUPS; i++) {
		char name[32];

		n = snprintf(text, sizeof(text), "[agent]\ncontrol_root = " ROOT "\n"
			     "vm_dir = %s/vms\nscript_dir = %s\nkernel_cache =\n"
			     "lock_file =\nlog_level = info\ntask_max = %u\n"
			     "task_retention = %u\nqueue_max = %u\n"
			     "build_timeout = 10\nshutdown_timeout = 5\n",
			     fuzz_dir, fuzz_dir, setups[i].task_max,
			     setups[i].retention, setups[i].queue_max);
		snprintf(name, sizeof(name), "agent%zu.ini", i);
		fuzz_write(name, text, (size_t)n, conf_paths[i]);
	}
	return 0;
}

/* ---- the run --------------------------------------------------------------- */

static struct agent ag;
static unsigned setup;			/* index into setups[] */
static char ids[MAX_IDS][REQUEST_ID_MAX + 1];	/* IDs the client used */
static unsigned nids, next_id;
/* Tasks the running agent adopted from an earlier run's records (each op
 * makes at most one task: a request's, or a restart's). */
static char adopted[2 * MAX_OPS][REQUEST_ID_MAX + 1];
static unsigned nadopted;

static void agent_up(unsigned s)
{
	struct agent_err err = { 0 };

	setup = s % NSETUPS;
	memset(&ag, 0, sizeof(ag));
	fuzz_check(agent_init(&ag, conf_paths[setup], &err) == 0, "agent_init");
	nadopted = 0;
	for (struct task *t = ag.core.tasks.head; t; t = t->next) {
		fuzz_check(nadopted < 2 * MAX_OPS, "a task per op at most");
		snprintf(adopted[nadopted++], sizeof(adopted[0]), "%s", t->id);
	}
}

static bool is_adopted(const struct task *t)
{
	for (unsigned i = 0; i < nadopted; i++)
		if (!strcmp(adopted[i], t->id))
			return true;
	return false;
}

static void check_all(void);

static void agent_down(bool sigterm)
{
	if (sigterm) {
		agent_stop_tasks(&ag);
		check_all();	/* stopping: nothing runs, queued tasks failed */
	}
	agent_dispose(&ag);
	fuzz_check(fake_hv_open_handles() == 0, "the hypervisor handle closed");
	builders_orphan();
}

static void loop_round(void)
{
	fuzz_check(loop_run_once(ag.loop) == 0, "loop_run_once");
}

/* ---- the checks ------------------------------------------------------------ */

static char *task_rec(const struct task *t, const char *key)
{
	char p[256];

	snprintf(p, sizeof(p), ROOT "/task/%s/%s", t->id, key);
	return fake_store_read(p);
}

static const struct vm *vm_of_queued(const struct task *t)
{
	return request_on_vm(t->req.op) ? vm_lookup(&ag.core.vms, t->req.arg, NULL)
					: NULL;
}

static void check_task(const struct task *t)
{
	static const char *const names[] = { "queued", "running", "done", "failed" };
	char *state = task_rec(t, "state"), *error = task_rec(t, "error");
	const char *want = names[t->state];
	unsigned busy_on = 0;

	fuzz_check(t->list == &ag.core.tasks, "a task knows its list");
	fuzz_check(state != NULL, "a live task has its record (state)");
	switch (t->state) {
	case TASK_QUEUED:
		fuzz_check(!t->start && !t->wait, "a queued task has no pipeline or wait");
		if (t->published_running)
			want = "running";
		break;
	case TASK_RUNNING:
		fuzz_check(!t->start != !t->wait,
			   "a running task has a pipeline or a wait, not both");
		for (const struct vm *v = ag.core.vms.head; v; v = v->next)
			busy_on += v->busy == t;
		fuzz_check(busy_on == 1, "a running task is busy on exactly one VM");
		break;
	case TASK_DONE:
	case TASK_FAILED:
		fuzz_check(!t->start && !t->wait, "an ended task has no pipeline or wait");
		if (is_adopted(t) && !strcmp(state, "failed"))
			want = "failed";	/* adopted: kept as it was */
		fuzz_check((error != NULL) == !strcmp(want, "failed"),
			   "an ended record has an error exactly when failed");
		break;
	}
	fuzz_check(!strcmp(state, want), "the record's state is the task's");
	free(state);
	free(error);
}

static void check_all(void)
{
	const struct tasks *ts = &ag.core.tasks;
	uint64_t keep = (uint64_t)ts->retention_s * 1000, first_due = UINT64_MAX;
	long long ended = 0;
	char **names = NULL;
	unsigned n = 0;
	struct agent_err err;
	bool in_flight = false;

	fuzz_check(ts->max == setups[setup].task_max &&
		   ts->retention_s == setups[setup].retention, "the configuration's limits");
	for (const struct task *t = ts->head; t; t = t->next) {
		check_task(t);
		for (const struct task *u = t->next; u; u = u->next)
			fuzz_check(strcmp(t->id, u->id) != 0, "task IDs are unique");
		in_flight |= t->start != NULL;
		if (t->state >= TASK_DONE) {
			ended++;
			fuzz_check(t->ended_ms <= now_ms, "ended in the past");
			if (t->ended_ms + keep < first_due)
				first_due = t->ended_ms + keep;
		}
		/* The scheduler left no queued task that could run.  (Not for
		 * one naming its VM by domid: the scheduler looks the VM up
		 * again at each pass, and a domid that changed -- a reboot, a
		 * restart -- names no VM until the next pass, when the VM's
		 * task ends, runs it and it fails.) */
		if (t->state == TASK_QUEUED && !ag.core.stopping &&
		    strspn(t->req.arg, "0123456789") != strlen(t->req.arg)) {
			const struct vm *v = vm_of_queued(t);
			bool waits = v && v->busy;

			for (const struct task *e = ts->head; v && e != t; e = e->next)
				waits |= e->state == TASK_QUEUED && vm_of_queued(e) == v;
			fuzz_check(waits, "a queued task waits only behind another on its VM");
		}
	}
	/* The prune: armed for the first retention to end (or due now, when
	 * the clock passed it), due at once past task_max. */
	if (ended) {
		fuzz_check(ts->prune.armed &&
			   ts->prune.when_ms <= (first_due > now_ms ? first_due : now_ms),
			   "the prune is armed for the first ended task's retention");
		if (ended > ts->max)
			fuzz_check(ts->prune.when_ms <= now_ms,
				   "past task_max the prune is due");
	}
	/* Every record is a live task's. */
	if (store_ls(ag.store, STORE_NOTX, ROOT "/task", &names, &n, &err) == 0) {
		for (unsigned i = 0; i < n; i++)
			fuzz_check(task_find(ts, names[i]) != NULL,
				   "every task record is a live task's (none left pruned)");
		free(names);
	}
	/* A VM's busy task is a running task of the list. */
	for (const struct vm *v = ag.core.vms.head; v; v = v->next) {
		const struct task *t;

		if (!v->busy)
			continue;
		for (t = ts->head; t && t != v->busy; t = t->next)
			;
		fuzz_check(t && t->state == TASK_RUNNING,
			   "a VM's busy task is a running task of the list");
	}
	fuzz_check(fake_store_open_tx() == 0, "no transaction left open");
	if (!in_flight)
		for (unsigned i = 0; i < nbuilders; i++)
			fuzz_check(!agent_holds(&builders[i]),
				   "no builder pipe left open once no start is in flight");
}

static void trace_op(const char *op, unsigned a, unsigned b)
{
	static const char *const st[] = { "queued", "running", "done", "failed" };

	if (!trace)
		return;
	fprintf(stderr, "%-8s %3u %3u  t=%llu |", op, a, b,
		(unsigned long long)(now_ms - CLOCK_BASE_MS));
	for (const struct task *t = ag.core.tasks.head; t; t = t->next)
		fprintf(stderr, " %s:%s", t->id, st[t->state]);
	fprintf(stderr, " |");
	for (const struct vm *v = ag.core.vms.head; v; v = v->next)
		fprintf(stderr, " %s:%s/%d", v->name, vm_state_names[v->state], v->domid);
	fprintf(stderr, "\n");
}

/* ---- the ops --------------------------------------------------------------- */

enum { OP_REQ, OP_LOOP, OP_CLOCK, OP_BUILDER, OP_GUEST, OP_STOP, OP_RESTART,
       OP_RELOAD, OP_CONFLICT, OP_JUNK, NOPS };

static void op_req(uint8_t a, uint8_t b, uint8_t c)
{
	unsigned kind = (a & 0x7f) % 10;
	char id[80], val[160], p[200];

	if (kind == 6)		/* cancel: a task the client named, or none */
		snprintf(val, sizeof(val), "cancel %s",
			 nids && b % 8 ? ids[b % nids] : "nosuch");
	else if (kind == 7 || kind == 9)
		snprintf(val, sizeof(val), "%s", req_ops[kind]);
	else
		snprintf(val, sizeof(val), "%s %s", req_ops[kind], targets[b % NTARGETS]);
	if ((c & 0x0f) == 15) {
		memset(id, 'x', 65);
		id[65] = '\0';
	} else if ((c & 0x0f) == 14 && nids) {
		snprintf(id, sizeof(id), "%s", ids[(c >> 4) % nids]);
	} else {
		snprintf(id, sizeof(id), "t%u", next_id++);
		if (nids < MAX_IDS)
			snprintf(ids[nids++], sizeof(ids[0]), "%s", id);
	}
	snprintf(p, sizeof(p), ROOT "/request/%s", id);
	fuzz_check(fake_store_write(p, val) == 0, "write a request");
	if (a & 0x80)
		loop_round();
}

static void op_builder(uint8_t a, uint8_t b)
{
	struct builder *bd;

	if (!nbuilders)
		return;
	bd = &builders[a % nbuilders];
	switch (b % 4) {
	case 0:		/* reports, exits */
		if (bd->wfd >= 0) {
			fuzz_check(write(bd->wfd, bd->msg, bd->len) == (ssize_t)bd->len,
				   "write the builder's result");
			builder_exit(bd);
		}
		break;
	case 1:		/* dies before reporting */
		builder_exit(bd);
		break;
	case 2:		/* half a result, then dies */
		if (bd->wfd >= 0) {
			fuzz_check(write(bd->wfd, bd->msg, bd->len / 2) == (ssize_t)(bd->len / 2),
				   "write half the builder's result");
			builder_exit(bd);
		}
		break;
	case 3:		/* SIGCHLD: reaped once it has exited */
		if (bd->wfd < 0 && !bd->reaped) {
			bd->reaped = true;
			agent_child_exited(&ag, bd->pid, bd->killed ? SIGKILL : 0);
		}
		break;
	}
}

static void op_guest(uint8_t a, uint8_t b)
{
	struct agent_err err;
	struct vm *v = ag.core.vms.head;
	char p[128];

	for (unsigned i = 0; v && i < a % 8u; i++)
		v = v->next;
	if (!v || v->domid < 1)
		return;
	switch (b % 6) {
	case 0:
	case 1:
	case 2: {
		static const unsigned reasons[] = { HV_SD_POWEROFF, HV_SD_REBOOT,
						    HV_SD_CRASH };

		if (fake_hv_shutdown((unsigned)v->domid, reasons[b % 6]) == 0)
			fake_store_fire("@releaseDomain");
		break;
	}
	case 3:		/* destroyed behind the agent's back */
		hv_destroy(ag.hv, (unsigned)v->domid, &err);
		fake_store_fire("@releaseDomain");
		break;
	case 4:
		if (fake_hv_set_dying((unsigned)v->domid) == 0)
			fake_store_fire("@releaseDomain");
		break;
	case 5:		/* the guest's kernel takes the shutdown request */
		snprintf(p, sizeof(p), "/local/domain/%d/control/shutdown", v->domid);
		fake_store_write(p, "");
		break;
	}
}

static void op_reload(uint8_t a)
{
	if (a & 1) {
		fuzz_check(rename(web5_in ? web5_on : web5_off,
				  web5_in ? web5_off : web5_on) == 0, "move web5.ini");
		web5_in = !web5_in;
	}
	agent_reload(&ag);
}

static void op_junk(uint8_t a, uint8_t b, const uint8_t *bytes, size_t n)
{
	static const char *const task_keys[] = { "state", "op", "stage", "domid", "vm" };
	static const char *const vms[] = { "web1", "web2", "web3", "web5", "broken" };
	char p[256], val[32];

	agent_down(false);
	memcpy(val, bytes, n);
	val[n] = '\0';
	if (a % 8 < 5)
		snprintf(p, sizeof(p), ROOT "/task/%s/%s",
			 nids && b % 8 ? ids[b % nids] : "never", task_keys[a % 8]);
	else if (a % 8 < 7)
		snprintf(p, sizeof(p), ROOT "/vm/%s/%s", vms[b % 5],
			 a % 8 == 5 ? "domid" : "restarts");
	else
		snprintf(p, sizeof(p), ROOT "/figures/c%u", b % 2);
	if (n)
		fuzz_check(fake_store_write(p, val) == 0, "write a junk record");
	else
		fake_store_rm(p);
	agent_up(setup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i = 1;
	unsigned ops = 0;

	if (!size)
		return 0;
	now_ms = CLOCK_BASE_MS;
	nids = next_id = 0;
	if (web5_in) {		/* every input starts without web5 */
		fuzz_check(rename(web5_on, web5_off) == 0, "move web5.ini");
		web5_in = false;
	}
	agent_up(data[0]);
	check_all();
#define ARG(k) (i + (k) < size ? data[i + (k)] : 0)
	trace_op("init", data[0] % NSETUPS, 0);
	while (i < size && ops++ < MAX_OPS) {
		static const char *const opn[] = { "REQ", "LOOP", "CLOCK", "BUILDER",
			"GUEST", "STOP", "RESTART", "RELOAD", "CONFLICT", "JUNK" };
		uint8_t op = data[i] % NOPS, a = ARG(1), b = ARG(2), c = ARG(3);

		switch (op) {
		case OP_REQ:
			op_req(a, b, c);
			i += 4;
			break;
		case OP_LOOP:
			for (unsigned k = 0; k <= a % 4u; k++)
				loop_round();
			i += 2;
			break;
		case OP_CLOCK: {
			static const uint64_t steps[] = { 1, 10, 500, 2000, 6000, 11000,
							  61000, 3600500 };

			now_ms += steps[a % 8];
			i += 2;
			break;
		}
		case OP_BUILDER:
			op_builder(a, b);
			i += 3;
			break;
		case OP_GUEST:
			op_guest(a, b);
			i += 3;
			break;
		case OP_STOP:
		case OP_RESTART:
			agent_down(op == OP_STOP);
			agent_up(a);
			i += 2;
			break;
		case OP_RELOAD:
			op_reload(a);
			i += 2;
			break;
		case OP_CONFLICT:
			fake_store_set_tx_conflicts(a % 12u);
			i += 2;
			break;
		case OP_JUNK: {
			size_t n = c % 24u, have = i + 4 < size ? size - (i + 4) : 0;

			if (n > have)
				n = have;
			op_junk(a, b, data + i + 4, n);
			i += 4 + n;
			break;
		}
		}
		trace_op(opn[op], a, b);
		check_all();
	}
#undef ARG
	agent_dispose(&ag);
	builders_free();
	fake_store_reset();
	fake_hv_reset();
	return 0;
}
