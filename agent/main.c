/* xsagent: a dom0 agent that starts Xen VMs on requests written to
 * xenstore.  main() reads the arguments, checks or loads the configuration
 * and runs the one poll() loop; everything else is in the modules. */
#include <errno.h>
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
#include "task.h"

#define DEFAULT_CONF XSAGENT_SYSCONFDIR "/xsagent/xsagent.ini"

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
	exit(1);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: xsagent [-d] [-n] [-c FILE]\n"
		"  -c FILE  configuration (default " DEFAULT_CONF ")\n"
		"  -d       stay in the foreground, log to stderr\n"
		"  -n       check the configuration and VM files, print them, exit\n");
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
			if (access(vm->conf.kernel, R_OK) < 0)
				conf_diag_add(&diag, "%s: kernel %s: %s", vm->file,
					      vm->conf.kernel, strerror(errno)), bad = 1;
			if (*vm->conf.ramdisk && access(vm->conf.ramdisk, R_OK) < 0)
				conf_diag_add(&diag, "%s: ramdisk %s: %s", vm->file,
					      vm->conf.ramdisk, strerror(errno)), bad = 1;
		}
	}
	for (unsigned i = 0; i < diag.n; i++)
		fprintf(stderr, "%s\n", diag.lines[i]);
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
			}
		}
	}
	conf_diag_dispose(&diag);
	vm_list_dispose(&vms);
	conf_dispose(conf_agent_keys, conf_agent_nkeys, &c);
	return bad ? 1 : 0;
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
			stopping = true;
			break;
		case SIGHUP:
			agent_reload(a);
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
	const char *conf = DEFAULT_CONF;
	bool foreground = false, check = false;
	struct agent a = { 0 };
	struct agent_err err = { 0 };
	sigset_t mask;
	int opt, sfd;

	while ((opt = getopt(argc, argv, "c:dnh")) != -1) {
		switch (opt) {
		case 'c': conf = optarg; break;
		case 'd': foreground = true; break;
		case 'n': check = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (check)
		return check_config(conf);

	log_init("xsagent", foreground, LOG_LVL_INFO);
	if (!foreground && daemon(0, 0) < 0)
		die("daemon: %s", strerror(errno));
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
	if (agent_init(&a, conf, &err) < 0)
		die("%s", err.msg);
	if (loop_add(a.loop, sfd, on_signal, &a) < 0)
		die("poll signals: too many fds");
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
	return a.store_dead ? 1 : 0;
}
