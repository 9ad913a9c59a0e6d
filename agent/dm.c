#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dm.h"
#include "log.h"

struct dm {
	struct dm *next;		/* every run not yet freed */
	struct loop *loop;
	struct store *store;
	unsigned domid;
	pid_t pid;
	unsigned timeout_s;
	dm_ready_fn *ready;		/* NULL once called, or once stopped */
	void *ready_arg;
	dm_died_fn *died;		/* NULL once stopped */
	void *died_arg;
	struct loop_timer timer;	/* the wait for "running" */
	bool watching;
	bool running;			/* it said so */
	bool stopped;			/* dm_stop: the owner let go */
	bool reaped;			/* exited (and, a child, reaped) */
	bool adopted;			/* an earlier run's: not our child */
	int pidfd;			/* adopted: its pidfd, or -1 (polled) */
	char token[32];
	char state_path[64];
	char log[300];
};

static struct dm *dms;

pid_t dm_pid(const struct dm *dm)
{
	return dm->pid;
}

unsigned dm_running(void)
{
	unsigned n = 0;

	for (struct dm *d = dms; d; d = d->next)
		n += !d->reaped;
	return n;
}

static void dm_unlist(struct dm *dm)
{
	for (struct dm **p = &dms; *p; p = &(*p)->next)
		if (*p == dm) {
			*p = dm->next;
			break;
		}
}

static void dm_free(struct dm *dm)
{
	dm_unlist(dm);
	loop_timer_disarm(dm->loop, &dm->timer);
	if (dm->pidfd >= 0) {
		loop_del(dm->loop, dm->pidfd);
		close(dm->pidfd);
	}
	free(dm);
}

static void dm_unwatch(struct dm *dm)
{
	if (dm->watching)
		store_unwatch(dm->store, dm->state_path, dm->token);
	dm->watching = false;
}

/* Remove /local/domain/0/device-model/<domid>: the device model's own
 * directory, which goes with it. */
static int dm_rm_dir(struct store *s, unsigned domid, struct agent_err *err)
{
	char dir[64];

	snprintf(dir, sizeof(dir), "/local/domain/0/device-model/%u", domid);
	return store_rm(s, STORE_NOTX, dir, err);
}

/* The last non-empty line of the device model's log ("" when none). */
static void log_tail(const char *path, char *out, size_t n)
{
	char buf[2048];
	ssize_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *end, *start;

	out[0] = '\0';
	if (fd < 0)
		return;
	if (lseek(fd, 0, SEEK_END) > (off_t)sizeof(buf) - 1)
		lseek(fd, -(off_t)(sizeof(buf) - 1), SEEK_END);
	else
		lseek(fd, 0, SEEK_SET);
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return;
	buf[len] = '\0';
	end = buf + len;
	while (end > buf && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		*--end = '\0';
	start = strrchr(buf, '\n');
	start = start ? start + 1 : buf;
	snprintf(out, n, "%s", start);
}

/* Tell the owner how the wait ended, once. */
static void dm_report(struct dm *dm, int rc, const struct agent_err *err)
{
	dm_ready_fn *fn = dm->ready;

	loop_timer_disarm(dm->loop, &dm->timer);
	dm_unwatch(dm);
	dm->ready = NULL;
	if (fn)
		fn(dm->ready_arg, rc, err);
}

static void dm_timeout(void *arg)
{
	struct dm *dm = arg;
	struct agent_err err;

	kill(-dm->pid, SIGKILL);
	err_set(&err, ETIMEDOUT, "device model (pid %d) did not report running "
		"within %u s (log %s)", (int)dm->pid, dm->timeout_s, dm->log);
	dm_report(dm, -ETIMEDOUT, &err);
}

void dm_event(const char *token)
{
	for (struct dm *dm = dms; dm; dm = dm->next) {
		char state[32];

		if (strcmp(dm->token, token) || dm->stopped || dm->running ||
		    dm->reaped || !dm->ready)
			continue;
		store_read_str(dm->store, STORE_NOTX, dm->state_path, state,
			       sizeof(state));
		if (strcmp(state, "running"))
			return;
		dm->running = true;
		log_info("domain %u: device model (pid %d) running", dm->domid,
			 (int)dm->pid);
		dm_report(dm, 0, NULL);
		return;
	}
}

int dm_reap(pid_t pid, int status)
{
	struct dm *dm;

	/* An adopted one is not our child: its pid is no wait() of ours. */
	for (dm = dms; dm && (dm->pid != pid || dm->adopted); dm = dm->next)
		;
	if (!dm || dm->reaped)
		return 0;
	dm->reaped = true;
	if (dm->stopped) {
		struct agent_err e;

		/* A write it had in flight must not outlive it. */
		dm_rm_dir(dm->store, dm->domid, &e);
		dm_free(dm);
		return 1;
	}
	/* Whatever it left in its group goes with it. */
	kill(-dm->pid, SIGKILL);
	if (dm->ready) {
		struct agent_err err;
		char last[160];

		log_tail(dm->log, last, sizeof(last));
		if (WIFSIGNALED(status))
			err_set(&err, EIO, "device model (pid %d) was killed by "
				"signal %d before it was running%s%s", (int)pid,
				WTERMSIG(status), *last ? ": " : "", last);
		else
			err_set(&err, EIO, "device model (pid %d) exited with "
				"status %d before it was running%s%s", (int)pid,
				WEXITSTATUS(status), *last ? ": " : "", last);
		dm_report(dm, -EIO, &err);	/* may stop and free dm */
		return 1;
	}
	log_warn("domain %u: device model (pid %d) ended (status %d) while "
		 "the guest ran", dm->domid, (int)pid, status);
	if (dm->died)
		dm->died(dm->died_arg, dm->domid, status);	/* may free dm */
	return 1;
}

void dm_stop(struct dm *dm)
{
	struct agent_err e;

	if (!dm || dm->stopped)
		return;
	dm->stopped = true;
	dm->ready = NULL;
	dm->died = NULL;
	loop_timer_disarm(dm->loop, &dm->timer);
	dm_unwatch(dm);
	if (dm_rm_dir(dm->store, dm->domid, &e) < 0)
		log_error("domain %u: %s", dm->domid, e.msg);
	if (dm->reaped) {
		dm_free(dm);
		return;
	}
	log_info("domain %u: stopping its device model (pid %d)", dm->domid,
		 (int)dm->pid);
	kill(-dm->pid, SIGKILL);
	/* An adopted one's parent is init, which reaps it: nothing of ours
	 * waits for it. */
	if (dm->adopted)
		dm_free(dm);
}

/* Whether pid's command line has "-xen-domid <domid>" (argv, NUL-separated). */
static bool dm_cmdline_is(pid_t pid, unsigned domid)
{
	char path[48], buf[4096], want[32];
	size_t wlen;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return false;
	wlen = (size_t)snprintf(want, sizeof(want), "-xen-domid%c%u%c", 0, domid, 0);
	return memmem(buf, (size_t)n, want, wlen) != NULL;
}

/* The pid that /local/domain/<domid>/image/device-model-pid names, when
 * that process is a device model for domid; else 0.  The node is the
 * agent's (the guest can read it, not write it), but the process may be
 * gone and its pid reused: hence the command line. */
static pid_t dm_orphan_pid(struct store *s, unsigned domid)
{
	char p[96], v[24], *end;
	long pid;

	snprintf(p, sizeof(p), "/local/domain/%u/image/device-model-pid", domid);
	store_read_str(s, STORE_NOTX, p, v, sizeof(v));
	pid = strtol(v, &end, 10);
	if (!*v || *end || pid <= 1 || pid > 0x3fffffff ||
	    !dm_cmdline_is((pid_t)pid, domid))
		return 0;
	return (pid_t)pid;
}

/* Hold the device model pid (dm_orphan_pid found it) in a pidfd: *fd_r
 * holds the process that had the pid when it was opened, and while that
 * one is alive (the poll) its pid cannot go to another, so the command
 * line read now is its own.  *fd_r is -1 without pidfds (ENOSYS).
 * -ESRCH: it ended since, or the pid is another program's now. */
static int dm_orphan_hold(pid_t pid, unsigned domid, int *fd_r)
{
	struct pollfd pfd = { .events = POLLIN };

	pfd.fd = pidfd_open(pid, 0);
	if (pfd.fd < 0 && errno != ENOSYS)
		return -errno;
	if ((pfd.fd >= 0 && poll(&pfd, 1, 0) != 0) || !dm_cmdline_is(pid, domid)) {
		if (pfd.fd >= 0)
			close(pfd.fd);
		return -ESRCH;
	}
	*fd_r = pfd.fd;
	return 0;
}

int dm_kill_orphan(struct store *s, unsigned domid)
{
	struct agent_err e;
	pid_t pid = dm_orphan_pid(s, domid);
	int fd = -1;

	/* The command line was read before the kill: the process may have
	 * ended in between and its pid gone to another.  So the kill goes
	 * through a pidfd held and checked first. */
	if (pid && dm_orphan_hold(pid, domid, &fd) < 0)
		pid = 0;
	if (pid) {
		log_info("domain %u: killing the device model an earlier run "
			 "started (pid %d)", domid, (int)pid);
		kill(-pid, SIGKILL);	/* its process group, which it leads */
		if (fd < 0 || pidfd_send_signal(fd, SIGKILL, NULL, 0) < 0)
			kill(pid, SIGKILL);
	}
	if (fd >= 0)
		close(fd);
	dm_rm_dir(s, domid, &e);
	return pid != 0;
}

/* An adopted device model ended.  Its status is its new parent's (init)
 * to collect, not ours. */
static void dm_adopted_ended(struct dm *dm)
{
	dm_died_fn *died = dm->died;

	if (dm->pidfd >= 0)
		loop_del(dm->loop, dm->pidfd);
	loop_timer_disarm(dm->loop, &dm->timer);
	dm->reaped = true;
	if (dm->stopped) {
		dm_free(dm);
		return;
	}
	log_warn("domain %u: device model (pid %d, started by an earlier run) "
		 "ended while the guest ran", dm->domid, (int)dm->pid);
	if (died)
		died(dm->died_arg, dm->domid, -1);	/* may free dm */
}

/* Its pidfd is readable: the process ended. */
static void dm_pidfd_ready(void *arg, int fd, short revents)
{
	(void)fd;
	(void)revents;
	dm_adopted_ended(arg);
}

/* Without pidfds (a kernel before 5.3, or valgrind, which does not know
 * the call) the process is looked at every DM_POLL_MS: gone, a zombie (its
 * command line is then empty) or another program under a reused pid all
 * end it. */
#define DM_POLL_MS 1000
static void dm_poll(void *arg)
{
	struct dm *dm = arg;

	if (!dm_cmdline_is(dm->pid, dm->domid)) {
		dm_adopted_ended(dm);
		return;
	}
	loop_timer_arm(dm->loop, &dm->timer, loop_now_ms() + DM_POLL_MS);
}

int dm_adopt(struct loop *l, struct store *s, unsigned domid,
	     dm_died_fn *died, void *died_arg, struct dm **dm_r,
	     struct agent_err *err)
{
	struct dm *dm = NULL;
	int rc, fd = -1;
	pid_t pid;

	*dm_r = NULL;
	pid = dm_orphan_pid(s, domid);
	if (!pid)
		return err_set(err, ESRCH, "no device model runs for domain %u",
			       domid);
	rc = dm_orphan_hold(pid, domid, &fd);
	if (rc == -ESRCH)
		return err_set(err, ESRCH, "device model (pid %d) of domain %u "
			       "ended", (int)pid, domid);
	if (rc < 0)
		return err_sys(err, -rc, "device model (pid %d) of domain %u",
			       (int)pid, domid);
	dm = calloc(1, sizeof(*dm));
	if (!dm) {
		rc = err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	dm->loop = l;
	dm->store = s;
	dm->domid = domid;
	dm->pid = pid;
	dm->adopted = true;
	dm->pidfd = -1;
	dm->running = true;
	dm->died = died;
	dm->died_arg = died_arg;
	loop_timer_init(&dm->timer, dm_poll, dm);
	if (fd < 0)
		loop_timer_arm(l, &dm->timer, loop_now_ms() + DM_POLL_MS);
	else if ((rc = loop_add(l, fd, dm_pidfd_ready, dm)) < 0) {
		rc = err_set(err, -rc, "device model (pid %d): loop", (int)pid);
		goto out;
	} else {
		dm->pidfd = fd;
		fd = -1;
	}
	dm->next = dms;
	dms = dm;
	log_info("domain %u: watching the device model an earlier run started "
		 "(pid %d%s)", domid, (int)pid, dm->pidfd < 0 ? ", polled" : "");
	*dm_r = dm;
	dm = NULL;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(dm);
	return rc;
}

void dm_forget_all(void)
{
	while (dms) {
		struct dm *dm = dms;

		dms = dm->next;
		if (dm->pidfd >= 0)
			close(dm->pidfd);
		free(dm);
	}
}

/* What hvmloader reads (hvmloader/, platform/: the nodes xl writes for
 * the same guest) and the device model's directory, with no stale state. */
static int dm_nodes(struct store *s, unsigned domid, unsigned video_mb,
		    struct agent_err *err)
{
	static const char *const nodes[][2] = {
		{ "hvmloader/bios", "seabios" },
		{ "hvmloader/allow-memory-relocate", "0" },
		{ "platform/acpi", "1" },
		{ "platform/acpi_s3", "1" },
		{ "platform/acpi_s4", "1" },
		{ "platform/acpi_laptop_slate", "0" },
		{ "platform/device-model", "qemu_xen" },
	};
	char p[128];
	int rc;

	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		snprintf(p, sizeof(p), "/local/domain/%u/%s", domid, nodes[i][0]);
		if ((rc = store_write(s, STORE_NOTX, p, nodes[i][1], err)) < 0)
			return rc;
	}
	/* What the graphics card takes of the domain's memory (KiB). */
	snprintf(p, sizeof(p), "/local/domain/%u/memory/videoram", domid);
	if ((rc = store_writef(s, STORE_NOTX, p, err, "%u", video_mb * 1024)) < 0)
		return rc;
	snprintf(p, sizeof(p), "/local/domain/0/device-model/%u", domid);
	if ((rc = store_rm(s, STORE_NOTX, p, err)) < 0 ||
	    (rc = store_mkdir(s, STORE_NOTX, p, err)) < 0)
		return rc;
	return 0;
}

void dm_tap_name(unsigned domid, unsigned devid, char *out, size_t n)
{
	snprintf(out, n, "vif%u.%u-emu", domid, devid);
}

int dm_start(struct loop *l, struct store *s, const struct dm_args *a,
	     struct dm **dm_r, struct agent_err *err)
{
	char domid[16], mem[16], boot[16], vga[48];
	char nic[DM_MAX_DEVS][96], net[DM_MAX_DEVS][96], drive[DM_MAX_DEVS][1200];
	char pci[DM_MAX_DEVS][96], hd[DM_MAX_DEVS][64];
	const char *argv[48 + 10 * DM_MAX_DEVS];
	struct dm *dm = NULL;
	int n = 0, logfd = -1, rc;
	pid_t pid;

	*dm_r = NULL;
	/* Plain words before a fork whose exec would fail. */
	if (access(a->binary, X_OK) < 0)
		return err_sys(err, errno, "device model %s", a->binary);
	if ((rc = dm_nodes(s, a->domid, a->vga ? a->video_mb : 0, err)) < 0)
		return rc;
	dm = calloc(1, sizeof(*dm));
	if (!dm)
		return err_set(err, ENOMEM, "out of memory");
	dm->pidfd = -1;
	dm->loop = l;
	dm->store = s;
	dm->domid = a->domid;
	dm->timeout_s = a->timeout_s;
	dm->ready = a->ready;
	dm->ready_arg = a->ready_arg;
	dm->died = a->died;
	dm->died_arg = a->died_arg;
	snprintf(dm->token, sizeof(dm->token), DM_TOKEN "%u", a->domid);
	snprintf(dm->state_path, sizeof(dm->state_path),
		 "/local/domain/0/device-model/%u/state", a->domid);
	snprintf(dm->log, sizeof(dm->log), "%s/qemu-dm-%s.log", a->log_dir, a->name);
	loop_timer_init(&dm->timer, dm_timeout, dm);

	logfd = open(dm->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (logfd < 0) {
		rc = err_sys(err, errno, "device model log %s", dm->log);
		goto out;
	}
	if (a->nnics > DM_MAX_DEVS || a->ndisks > DM_MAX_DEVS || a->npcis > DM_MAX_DEVS) {
		rc = err_set(err, EINVAL, "device model: more than %d NICs, disks or PCI "
			     "devices", DM_MAX_DEVS);
		goto out;
	}
	/* xl's command line for the same guest, less the QMP sockets: the
	 * xenfv machine, no default devices, no display but the VM's graphics
	 * card, the kernel loaded by the device model (direct boot) when the
	 * VM has one, the VM's serial port, boot order, NICs and disks. */
	snprintf(domid, sizeof(domid), "%u", a->domid);
	snprintf(mem, sizeof(mem), "%u", a->mem_mb);
	argv[n++] = a->binary;
	argv[n++] = "-xen-domid";
	argv[n++] = domid;
	argv[n++] = "-no-shutdown";
	argv[n++] = "-nodefaults";
	argv[n++] = "-no-user-config";
	argv[n++] = "-name";
	argv[n++] = a->name;
	argv[n++] = "-vnc";
	argv[n++] = "none";
	argv[n++] = "-display";
	argv[n++] = "none";
	if (a->kernel && *a->kernel) {
		argv[n++] = "-kernel";
		argv[n++] = a->kernel;
		if (a->ramdisk && *a->ramdisk) {
			argv[n++] = "-initrd";
			argv[n++] = a->ramdisk;
		}
		if (a->cmdline && *a->cmdline) {
			argv[n++] = "-append";
			argv[n++] = a->cmdline;
		}
	}
	if (a->serial && strcmp(a->serial, "none")) {
		argv[n++] = "-serial";
		argv[n++] = a->serial;
	}
	if (a->vga) {
		snprintf(vga, sizeof(vga), "%s,vgamem_mb=%u", a->vga, a->video_mb);
		argv[n++] = "-device";
		argv[n++] = vga;
	}
	snprintf(boot, sizeof(boot), "order=%s", a->boot && *a->boot ? a->boot : "cda");
	argv[n++] = "-boot";
	argv[n++] = boot;
	/* A NIC is a device on a tap backend that qemu opens by name; no
	 * qemu-ifup script: the agent runs the vif's hotplug script on it
	 * (as libxl does with script=no). */
	for (unsigned i = 0; i < a->nnics; i++) {
		char tap[32];

		dm_tap_name(a->domid, a->nics[i].devid, tap, sizeof(tap));
		snprintf(nic[i], sizeof(nic[i]), "%s,id=nic%u,netdev=net%u,mac=%s",
			 a->nics[i].model, a->nics[i].devid, a->nics[i].devid,
			 a->nics[i].mac);
		snprintf(net[i], sizeof(net[i]),
			 "type=tap,id=net%u,ifname=%s,script=no,downscript=no",
			 a->nics[i].devid, tap);
		argv[n++] = "-device";
		argv[n++] = nic[i];
		argv[n++] = "-netdev";
		argv[n++] = net[i];
	}
	if (!a->nnics) {
		argv[n++] = "-net";
		argv[n++] = "none";
	}
	argv[n++] = "-machine";
	argv[n++] = "xenfv,suppress-vmdesc=on";
	argv[n++] = "-m";
	argv[n++] = mem;
	/* A raw image on the IDE bus, as libxl gives the first four disks,
	 * or (hdtype = ahci) on the port of an AHCI controller, as libxl's
	 * hdtype=ahci does: SeaBIOS then reads it by DMA, not a sector per
	 * few I/O exits.  qemu takes ',' in a file name as an option
	 * separator: such a path is refused here, not misread. */
	if (a->ahci && a->ndisks) {
		argv[n++] = "-device";
		argv[n++] = "ahci,id=ahci0";
	}
	for (unsigned i = 0; i < a->ndisks; i++) {
		if (strchr(a->disks[i].target, ',')) {
			rc = err_set(err, EINVAL, "device model: disk %s has a ',' in "
				     "its path, which qemu cannot take",
				     a->disks[i].target);
			goto out;
		}
		if (a->ahci) {
			snprintf(drive[i], sizeof(drive[i]),
				 "file=%s,if=none,id=ahcidisk-%u,format=raw,cache=writeback",
				 a->disks[i].target, a->disks[i].index);
			snprintf(hd[i], sizeof(hd[i]),
				 "ide-hd,bus=ahci0.%u,unit=0,drive=ahcidisk-%u",
				 a->disks[i].index, a->disks[i].index);
		} else {
			snprintf(drive[i], sizeof(drive[i]),
				 "file=%s,if=ide,index=%u,media=disk,format=raw,cache=writeback",
				 a->disks[i].target, a->disks[i].index);
		}
		argv[n++] = "-drive";
		argv[n++] = drive[i];
		if (a->ahci) {
			argv[n++] = "-device";
			argv[n++] = hd[i];
		}
	}
	/* Passed-through devices, as libxl adds them through QMP (its id
	 * form: pci-pt-BB_DD.F); the guest's bus slot is qemu's choice. */
	for (unsigned i = 0; i < a->npcis; i++) {
		const char *b = a->pcis[i].bdf;

		if (strlen(b) != 12) {
			rc = err_set(err, EINVAL, "device model: bad PCI address '%s'", b);
			goto out;
		}
		snprintf(pci[i], sizeof(pci[i]),
			 "xen-pci-passthrough,id=pci-pt-%.2s_%.4s,hostaddr=%s%s", b + 5,
			 b + 8, b, a->pcis[i].permissive ? ",permissive=on" : "");
		argv[n++] = "-device";
		argv[n++] = pci[i];
	}
	argv[n] = NULL;

	/* Watch before the fork: the state can come before the loop runs. */
	if ((rc = store_watch(s, dm->state_path, dm->token, err)) < 0)
		goto out;
	dm->watching = true;
	fflush(NULL);	/* the child must not inherit unwritten output */
	pid = fork();
	if (pid < 0) {
		rc = err_sys(err, errno, "device model: fork");
		goto out;
	}
	if (pid == 0) {
		sigset_t none;
		int nul = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		execv(a->binary, (char *const *)argv);
		dprintf(2, "cannot run %s: %s\n", a->binary, strerror(errno));
		_exit(127);
	}
	/* Both sides set the group: whichever runs first, kill(-pid) works. */
	setpgid(pid, pid);
	close(logfd);
	logfd = -1;
	dm->pid = pid;
	dm->next = dms;
	dms = dm;
	loop_timer_arm(l, &dm->timer, loop_now_ms() + (uint64_t)a->timeout_s * 1000);
	{
		char p[96];
		struct agent_err e;

		snprintf(p, sizeof(p), "/local/domain/%u/image/device-model-pid",
			 a->domid);
		if (store_writef(s, STORE_NOTX, p, &e, "%d", (int)pid) < 0)
			log_warn("domain %u: %s", a->domid, e.msg);
	}
	log_info("domain %u: device model started (pid %d, log %s)", a->domid,
		 (int)pid, dm->log);
	*dm_r = dm;
	dm = NULL;
	rc = 0;
out:
	if (logfd >= 0)
		close(logfd);
	if (dm) {
		struct agent_err e;

		dm_unwatch(dm);
		/* Nothing started: its directory goes now (the domain's own
		 * nodes go with the domain). */
		dm_rm_dir(s, a->domid, &e);
		free(dm);
	}
	return rc;
}
