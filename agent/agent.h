/* The agent: its connections, the VM registry, the tasks, and the control
 * tree in xenstore (<root> is control_root, /xsagent by default):
 *
 *   <root>/request/<ID> = "<op> <arg>"   written by clients, consumed once
 *   <root>/task/<ID>/...                 one record per request (task.h)
 *   <root>/vm/<name>/...                 one record per VM file
 *   <root>/unmanaged/<domid>/...         domains the agent did not start
 *   <root>/figures/<client> = <seconds>  figures wanted, how often
 */
#ifndef XSAGENT_AGENT_H
#define XSAGENT_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "loop.h"
#include "reconcile.h"
#include "store.h"
#include "hv.h"
#include "vm.h"

struct task;

struct agent {
	struct agent_conf conf;
	const char *conf_path;
	struct store *store;
	struct hv *hv;
	struct loop *loop;
	struct vm_list vms;
	struct task *tasks;		/* oldest first */
	struct loop_timer prune;
	struct loop_timer intake_retry;	/* requests a conflict left waiting */
	unsigned intake_backoff_ms;
	struct loop_timer figures_timer;
	unsigned figures_interval;	/* seconds; 0: nobody asks */
	unsigned *unmanaged;		/* domids listed under <root>/unmanaged */
	unsigned nunmanaged;
	uint64_t reserved_kb;		/* memory starts are about to populate */
	bool scheduling, resched;	/* agent_schedule is running / must rerun */
	bool refreshing, refresh_again;	/* the same for refresh_run */
	bool refresh_figures;		/* the pass to come publishes figures */
	bool store_dead;
	bool stopping;		/* no new task starts */
	struct reconcile reconcile;	/* domids old records named (start-up) */
};

int agent_init(struct agent *a, const char *conf_path, struct agent_err *err);
void agent_dispose(struct agent *a);
/* SIGTERM: roll back starts in flight, fail the queued tasks. */
void agent_stop_tasks(struct agent *a);
void agent_reload(struct agent *a);		/* SIGHUP */
void agent_vm_take_next_def(struct agent *a, struct vm *vm);
void agent_child_exited(struct agent *a, pid_t pid, int status);
/* Called by the pipeline when a task ends: runs the next queued one. */
void agent_task_ended(struct agent *a, struct task *t);

/* Watch (on) or stop watching (off) the VM's ~/control/shutdown. */
int agent_watch_shutdown(struct agent *a, struct vm *vm, bool on,
			 struct agent_err *err);
/* A domain is gone or going: remove its devices' nodes (the backends
 * then close) and run each script's remove/offline in the background;
 * frees devs. */
void agent_devices_teardown(struct agent *a, const char *vm_name,
			    struct dev *devs, unsigned n);
/* Publish a VM's record: state, domid and the rest. */
void agent_publish_vm(struct agent *a, struct vm *vm);
/* Write <root>/<rel> = val (remove it when val is NULL), logging, not
 * failing, on error: for bookkeeping whose failure must not change a
 * request's outcome. */
void agent_put(struct agent *a, const char *rel, const char *val);
/* <root>/vm/<name>/<key> = val, or removed when val is NULL. */
void agent_put_vm(struct agent *a, const struct vm *vm, const char *key,
		  const char *val);
/* <root>/vm/<name>/<key> into buf ("" when absent). */
void agent_get_vm(struct agent *a, const struct vm *vm, const char *key,
		  char *buf, size_t n);

#endif
