/* What running as a system service takes: the single-instance lock and
 * systemd's readiness protocol.
 *
 * The lock: an flock(2) on a file (lock_file, default
 * /run/xsagent/xsagent.lock) whose contents are the holder's pid.  The
 * kernel drops the lock when the holder dies, however it dies, so a stale
 * file never blocks a new agent; the pid in it is only for the message of
 * the agent that did not get it.
 *
 * Readiness (sd_notify(3)'s protocol, spoken here without libsystemd): under
 * a unit with Type=notify systemd passes $NOTIFY_SOCKET, an AF_UNIX datagram
 * socket ("@name": in the abstract namespace), and waits for a datagram
 * "READY=1"; "RELOADING=1" ... "READY=1" brackets a reload and "STOPPING=1"
 * says the stop has begun.  Without $NOTIFY_SOCKET nothing is sent. */
#ifndef XSAGENT_SERVICE_H
#define XSAGENT_SERVICE_H

#include "err.h"

/* Take the lock on path (its directory is made if missing, mode 0755),
 * write our pid into it and return its fd in *fd_r (keep it open: closing
 * it lets go).  -EWOULDBLOCK when another process holds it, with its pid in
 * err's message. */
int service_lock(const char *path, int *fd_r, struct agent_err *err);
/* After a fork (daemon(3)) the lock is the child's: write the new pid. */
int service_lock_update_pid(int fd, struct agent_err *err);
/* In a child the agent forks (a builder): let go of the lock fd.  The lock
 * stays the agent's; but a builder outliving a killed agent for a moment
 * must not keep the next agent out. */
void service_forked_child(void);

/* Read $NOTIFY_SOCKET once and remove it from the environment (the
 * agent's children -- hotplug scripts -- must not speak for it). */
void service_notify_init(void);
/* Send one datagram of state ("READY=1", ...); 0 when there is no socket. */
int service_notify(const char *state, struct agent_err *err);

#endif
