/* xsagent: a dom0 agent that starts Xen VMs on requests written to
 * xenstore.  main() reads the arguments, checks or loads the configuration
 * and runs the one poll() loop; everything else is in the modules. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "hotplug.h"
#include "log.h"
#include "service.h"
#include "task.h"

#define DEFAULT_CONF XSAGENT_SYSCONFDIR "/xsagent/xsagent.ini"
#ifndef XSAGENT_VERSION
#define XSAGENT_VERSION "unknown"
#endif

/* Exit statuses, as --help and README list them. */
/* EXIT_NOSTORE is its own status so that systemd does not restart the
 * agent for it (RestartPreventExitStatus=4): without xenstored nothing can
 * be done, a new agent would fail the same way every RestartSec, and a
 * restart of xen.service restarts the agent anyway (Requires=). */
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_CONFIG = 3,
       EXIT_NOSTORE = 4 };

static bool stopping;

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s", msg);
	exit(EXIT_RUNTIME);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xsagent [-d] [-n] [-c FILE]\n"
		"       xsagent --help | --version\n"
		"  -c, --config FILE  configuration (default " DEFAULT_CONF ")\n"
		"  -d, --foreground   stay in the foreground, log to stderr (as a\n"
		"                     systemd service: Type=notify, journald priorities)\n"
		"  -n, --check        check the configuration and VM files, print them, exit\n"
		"  -h, --help         this text\n"
		"  -V, --version      the version\n"
		"exit status:\n"
		"  0  stopped on SIGTERM/SIGINT (-n: everything is valid)\n"
		"  1  runtime error: another agent holds the lock, Xen could not be\n"
		"     opened\n"
		"  2  usage error\n"
		"  3  the configuration is invalid (-n: the configuration or a VM file)\n"
		"  4  xenstored could not be reached, or went away\n");
}

/* Before daemonizing, while stderr is still the caller's: a problem goes to
 * stderr and, for a daemon, to syslog too (the agent's log). */
static void startup_msg(bool foreground, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void startup_msg(bool foreground, enum log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!foreground)
		fprintf(stderr, "xsagent: %s: %s\n", log_level_names[level], msg);
	log_msg(level, "%s", msg);
}

/* The start-up check: the agent's configuration must be valid (else exit
 * 3); the VM files' problems are reported but do not stop the agent: one
 * bad file must not leave the other VMs' running guests unmanaged, nor the
 * host's shutdown without an agent to stop them (an invalid VM is listed
 * as such, and its start fails with the reason).  Fills c. */
static int startup_check(const char *path, bool foreground, struct agent_conf *c)
{
	struct conf_diag diag = { 0 };
	struct vm_list vms = { 0 };
	int rc;

	rc = conf_load_agent(path, c, &diag);
	for (unsigned i = 0; i < diag.n; i++)
		startup_msg(foreground, LOG_LVL_ERROR, "%s", diag.lines[i]);
	conf_diag_dispose(&diag);
	if (rc < 0) {
		startup_msg(foreground, LOG_LVL_ERROR,
			    "%s: invalid configuration; not started", path);
		return rc;
	}
	if (vm_load_dir(c->vm_dir, c->script_dir, &vms, &diag) < 0) {
		for (unsigned i = 0; i < diag.n; i++)
			startup_msg(foreground, LOG_LVL_WARN, "%s", diag.lines[i]);
		startup_msg(foreground, LOG_LVL_WARN,
			    "%s: some VM files are invalid; they cannot be started",
			    c->vm_dir);
	}
	conf_diag_dispose(&diag);
	vm_list_dispose(&vms);
	return 0;
}

/* -n: every problem as "file:line: message", then the settings; exit 0
 * only when all is well. */
static int check_config(const char *path)
{
	struct agent_conf c;
	struct conf_diag diag = { 0 };
	struct vm_list vms = { 0 };
	int bad;

	bad = conf_load_agent(path, &c, &diag) < 0;
	if (!bad) {
		bad |= vm_load_dir(c.vm_dir, c.script_dir, &vms, &diag) < 0;
		for (struct vm *vm = vms.head; vm; vm = vm->next) {
			if (!vm->valid)
				continue;
			/* Files the start will need must exist now. */
			if (*vm->conf.kernel && access(vm->conf.kernel, R_OK) < 0)
				conf_diag_add(&diag, "%s: kernel %s: %s", vm->file,
					      vm->conf.kernel, strerror(errno)), bad = 1;
			if (*vm->conf.kernel && *vm->conf.ramdisk &&
			    access(vm->conf.ramdisk, R_OK) < 0)
				conf_diag_add(&diag, "%s: ramdisk %s: %s", vm->file,
					      vm->conf.ramdisk, strerror(errno)), bad = 1;
		}
	}
	for (unsigned i = 0; i < diag.n; i++)
		fprintf(stderr, "%s\n", diag.lines[i]);
	if (!bad) {
		struct conf_diag warn = { 0 };

		vm_pci_shared(&vms, &warn);
		for (unsigned i = 0; i < warn.n; i++)
			fprintf(stderr, "warning: %s\n", warn.lines[i]);
		conf_diag_dispose(&warn);
	}
	if (!bad) {
		printf("# %s\n[agent]\n", path);
		conf_dump(stdout, conf_agent_keys, conf_agent_nkeys, &c);
		for (struct vm *vm = vms.head; vm; vm = vm->next) {
			printf("\n# %s\n[vm]\n", vm->file);
			conf_dump(stdout, conf_vm_keys, conf_vm_nkeys, &vm->conf);
			for (int i = 0; i < VM_MAX_DEVS; i++) {
				if (vm->vif_mask & 1u << i) {
					printf("[vif.%d]\n", i);
					conf_dump(stdout, conf_vif_keys, conf_vif_nkeys, &vm->vif[i]);
				}
				if (vm->vbd_mask & 1u << i) {
					printf("[vbd.%d]\n", i);
					conf_dump(stdout, conf_vbd_keys, conf_vbd_nkeys, &vm->vbd[i]);
				}
				if (vm->pci_mask & 1u << i) {
					printf("[pci.%d]\n", i);
					conf_dump(stdout, conf_pci_keys, conf_pci_nkeys, &vm->pci[i]);
				}
			}
		}
	}
	conf_diag_dispose(&diag);
	vm_list_dispose(&vms);
	conf_dispose(conf_agent_keys, conf_agent_nkeys, &c);
	return bad ? EXIT_CONFIG : EXIT_OK;
}

/* Tell systemd (Type=notify) where the agent is; a failure is logged only:
 * the agent works the same without it. */
static void notify(const char *state)
{
	struct agent_err err;

	if (service_notify(state, &err) < 0)
		log_warn("%s", err.msg);
}

static void on_signal(void *arg, int fd, short revents)
{
	struct agent *a = arg;
	struct signalfd_siginfo si;

	(void)revents;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			log_info("signal %d: stopping", (int)si.ssi_signo);
			if (!stopping)
				notify("STOPPING=1");
			stopping = true;
			break;
		case SIGHUP:
			notify("RELOADING=1");
			agent_reload(a);
			notify("READY=1");
			break;
		case SIGCHLD:
			for (;;) {
				int status;
				pid_t pid = waitpid(-1, &status, WNOHANG);

				if (pid <= 0)
					break;
				agent_child_exited(a, pid, status);
			}
			break;
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'd' },
		{ "check", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf = DEFAULT_CONF;
	bool foreground = false, check = false;
	struct agent a = { 0 };
	struct agent_conf c = { 0 };
	struct agent_err err = { 0 };
	sigset_t mask;
	int opt, sfd, lockfd = -1;

	while ((opt = getopt_long(argc, argv, "c:dnhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': conf = optarg; break;
		case 'd': foreground = true; break;
		case 'n': check = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'V': printf("xsagent %s\n", XSAGENT_VERSION); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "xsagent: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (check)
		return check_config(conf);

	service_notify_init();
	log_init("xsagent", foreground, LOG_LVL_INFO);
	/* Everything that can be wrong with the files is said here, on the
	 * caller's stderr, with the exit status, rather than by a daemon
	 * nobody waits for. */
	if (startup_check(conf, foreground, &c) < 0)
		return EXIT_CONFIG;
	log_set_level(c.log_level);
	/* One agent per host, and the lock before anything touches xenstore:
	 * a second agent must not take the first one's starts for
	 * interrupted ones and roll them back. */
	if (*c.lock_file && service_lock(c.lock_file, &lockfd, &err) < 0) {
		startup_msg(foreground, LOG_LVL_ERROR, "%s", err.msg);
		conf_dispose(conf_agent_keys, conf_agent_nkeys, &c);
		return EXIT_RUNTIME;
	}
	if (!*c.lock_file)
		log_warn("lock_file is empty: no single-instance lock");
	conf_dispose(conf_agent_keys, conf_agent_nkeys, &c);
	if (!foreground) {
		if (daemon(0, 0) < 0)
			die("daemon: %s", strerror(errno));
		/* flock's lock belongs to the open file, which the child
		 * shares: only the pid in it is the parent's. */
		if (lockfd >= 0 && service_lock_update_pid(lockfd, &err) < 0)
			log_warn("%s", err.msg);
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		die("sigprocmask: %s", strerror(errno));
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		die("signalfd: %s", strerror(errno));
	if (agent_init(&a, conf, &err) < 0) {
		log_error("%s", err.msg);
		exit(a.store_dead ? EXIT_NOSTORE : EXIT_RUNTIME);
	}
	if (loop_add(a.loop, sfd, on_signal, &a) < 0)
		die("poll signals: too many fds");
	/* agent_init has adopted the running domains and taken the waiting
	 * requests: the agent serves now. */
	notify("READY=1");
	while (!stopping && !a.store_dead) {
		int r = loop_run_once(a.loop);

		if (r < 0)
			die("poll: %s", strerror(-r));
	}
	agent_stop_tasks(&a);
	/* Scripts freeing devices (a rollback's, a teardown's) finish before
	 * the agent goes: each has its own timeout. */
	if (hotplug_running()) {
		uint64_t end = loop_now_ms() + (uint64_t)a.conf.hotplug_timeout * 1000 + 5000;

		log_info("waiting for %u hotplug script(s) to finish", hotplug_running());
		while (hotplug_running() && loop_now_ms() < end && !a.store_dead)
			if (loop_run_once(a.loop) < 0)
				break;
	}
	agent_dispose(&a);
	close(sfd);
	/* Last: the next agent may start once this one is done with xenstore. */
	if (lockfd >= 0)
		close(lockfd);
	return a.store_dead ? EXIT_NOSTORE : EXIT_OK;
}
