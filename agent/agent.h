/* The agent: its connections, the VM registry, the tasks, and the control
 * tree in xenstore (<root> is control_root, /xsagent by default):
 *
 *   <root>/request/<ID> = "<op> <arg>"   written by clients, consumed once
 *   <root>/task/<ID>/...                 one record per request (task.h)
 *   <root>/vm/<name>/...                 one record per VM file (rec.h)
 *   <root>/unmanaged/<domid>/...         domains the agent did not start
 *   <root>/figures/<client> = <seconds>  figures wanted, how often
 */
#ifndef XSAGENT_AGENT_H
#define XSAGENT_AGENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core.h"

/* The agent: intake and dispatch, the one place that knows every action and
 * decides (the queue per VM, the on_* policy).  It owns the core (core.h)
 * that the actions work on and registers the hooks they report through. */
struct agent {
	struct agent_conf conf;
	const char *conf_path;
	struct store *store;
	struct hv *hv;
	struct loop *loop;
	struct core core;
	struct loop_timer intake_retry;	/* requests a conflict left waiting */
	unsigned intake_backoff_ms;
	bool scheduling, resched;	/* agent_schedule is running / must rerun */
	struct loop_timer store_check;	/* is the connection to xenstored alive? */
	bool store_dead;		/* xenstored unreachable or gone */
};

int agent_init(struct agent *a, const char *conf_path, struct agent_err *err);
void agent_dispose(struct agent *a);
/* SIGTERM: roll back starts in flight, fail the queued tasks. */
void agent_stop_tasks(struct agent *a);
void agent_reload(struct agent *a);		/* SIGHUP */
void agent_child_exited(struct agent *a, pid_t pid, int status);

#endif
