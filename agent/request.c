#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "conf.h"
#include "request.h"

const char *const request_op_names[] = {
	[REQ_START] = "start", [REQ_STOP] = "stop", [REQ_REBOOT] = "reboot",
	[REQ_DESTROY] = "destroy", [REQ_PAUSE] = "pause",
	[REQ_UNPAUSE] = "unpause", [REQ_CANCEL] = "cancel",
	[REQ_REFRESH] = "refresh", [REQ_RESTART] = "restart",
};

/* What clients may request; usage NULL: the operation takes no argument. */
static const struct {
	enum request_op op;
	const char *usage;
} request_ops[] = {
	{ REQ_START, "start <VM name, domid or UUID>" },
	{ REQ_STOP, "stop <VM name, domid or UUID>" },
	{ REQ_REBOOT, "reboot <VM name, domid or UUID>" },
	{ REQ_DESTROY, "destroy <VM name, domid or UUID>" },
	{ REQ_PAUSE, "pause <VM name, domid or UUID>" },
	{ REQ_UNPAUSE, "unpause <VM name, domid or UUID>" },
	{ REQ_CANCEL, "cancel <task ID>" },
	{ REQ_REFRESH, NULL },
};

bool request_on_vm(enum request_op op)
{
	return op != REQ_CANCEL && op != REQ_REFRESH;
}

bool request_valid_id(const char *id)
{
	return conf_valid_name(id);
}

void request_quote(const char *s, size_t len, char *out, size_t n)
{
	size_t o = 0;

	if (!n)
		return;
	for (size_t i = 0; i < len && o + 1 < n; i++) {
		if (o + 4 >= n && len - i > n - 1 - o) {
			/* The rest does not fit: mark the cut so nobody mistakes
			 * it for the whole value (a value that fits is whole). */
			for (; o + 1 < n; o++)
				out[o] = '.';
			break;
		}
		out[o++] = isprint((unsigned char)s[i]) ? s[i] : '?';
	}
	out[o] = '\0';
}

int request_parse(const char *value, size_t len, struct request *req,
		  struct agent_err *err)
{
	const char *sp, *arg;
	size_t oplen;
	char q[48];

	if (len > REQUEST_MAX_LEN)
		return err_set(err, E2BIG, "request longer than %d bytes",
			       REQUEST_MAX_LEN);
	for (size_t i = 0; i < len; i++)
		if (!isprint((unsigned char)value[i]))
			return err_set(err, EINVAL,
				       "request holds a non-printable byte at offset %zu",
				       i);
	while (len && value[len - 1] == ' ')
		len--;
	while (len && *value == ' ')
		value++, len--;
	if (!len)
		return err_set(err, EINVAL, "empty request");
	sp = memchr(value, ' ', len);
	oplen = sp ? (size_t)(sp - value) : len;
	for (size_t i = 0; i < sizeof(request_ops) / sizeof(request_ops[0]); i++) {
		const char *name = request_op_names[request_ops[i].op];

		if (strlen(name) != oplen || memcmp(name, value, oplen))
			continue;
		req->op = request_ops[i].op;
		arg = sp;
		while (arg && arg < value + len && *arg == ' ')
			arg++;
		if (!request_ops[i].usage) {
			if (arg && arg < value + len)
				return err_set(err, EINVAL, "%s takes no argument",
					       name);
			req->arg[0] = '\0';
			return 0;
		}
		if (!arg || arg == value + len)
			return err_set(err, EINVAL, "usage: %s",
				       request_ops[i].usage);
		if (memchr(arg, ' ', value + len - arg))
			return err_set(err, EINVAL, "too many arguments; usage: %s",
				       request_ops[i].usage);
		memcpy(req->arg, arg, value + len - arg);
		req->arg[value + len - arg] = '\0';
		return 0;
	}
	request_quote(value, oplen, q, sizeof(q));
	return err_set(err, EINVAL, "unknown operation '%s'", q);
}
