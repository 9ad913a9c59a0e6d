/* Requests: what a client writes under <root>/request/<ID>.
 *
 * The value is "<op> [<argument>]", printable ASCII, at most
 * REQUEST_MAX_LEN bytes.  <ID> is chosen by the client:
 * [A-Za-z0-9_.-], 1-64 characters.  The operations:
 *
 *   start|stop|reboot|destroy|pause|unpause <VM name, domid or UUID>
 *   cancel <task ID>
 *   refresh
 *
 * "restart" is the agent's own: the task it makes when a domain's
 * on_reboot/on_crash/on_poweroff action is restart.  A client cannot
 * request it. */
#ifndef XSAGENT_REQUEST_H
#define XSAGENT_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define REQUEST_MAX_LEN 256
#define REQUEST_ID_MAX 64

enum request_op { REQ_START, REQ_STOP, REQ_REBOOT, REQ_DESTROY, REQ_PAUSE,
		  REQ_UNPAUSE, REQ_CANCEL, REQ_REFRESH, REQ_RESTART };

struct request {
	enum request_op op;
	char arg[REQUEST_MAX_LEN + 1];	/* the VM, or the task to cancel */
};

extern const char *const request_op_names[];

/* The operation acts on a VM (and so waits for other tasks on that VM). */
bool request_on_vm(enum request_op op);

bool request_valid_id(const char *id);
/* Parse a request value of len bytes (it may hold NULs: xenstore values
 * are byte strings).  On error err says why, in one line fit for a user. */
int request_parse(const char *value, size_t len, struct request *req,
		  struct agent_err *err);
/* Copy s into out (size n) with anything unprintable shown as '?', cut
 * to fit: for quoting untrusted text in errors and logs. */
void request_quote(const char *s, size_t len, char *out, size_t n);

#endif
