/* Request values and IDs: what clients write, good and hostile. */
#include "tap.h"
#include "request.h"

static int parse(const char *v, struct request *r, struct agent_err *e)
{
	err_clear(e);
	return request_parse(v, strlen(v), r, e);
}

int main(void)
{
	struct request r;
	struct agent_err e;
	char big[400], q[16];

	ok(request_valid_id("a"), "one-letter ID");
	ok(request_valid_id("web-1_start.2"), "ID with - _ .");
	ok(!request_valid_id(""), "empty ID refused");
	ok(!request_valid_id("a b"), "space refused");
	ok(!request_valid_id("a/b"), "slash refused");
	memset(big, 'x', 65);
	big[65] = 0;
	ok(!request_valid_id(big), "65 characters refused");
	big[64] = 0;
	ok(request_valid_id(big), "64 characters accepted");

	ok(parse("start web1", &r, &e) == 0 && r.op == REQ_START, "start parses");
	is_str(r.arg, "web1", "argument is the VM");
	ok(parse("  start   web1  ", &r, &e) == 0, "spaces around are fine");
	is_str(r.arg, "web1", "argument trimmed");
	ok(parse("start 6b1f3c52-8d0e-4a7b-9e21-3f5c7a9d0b14", &r, &e) == 0,
	   "start by UUID parses");
	ok(parse("start 3", &r, &e) == 0, "start by domid parses");

	ok(parse("", &r, &e) == -EINVAL, "empty request refused");
	is_str(e.msg, "empty request", "empty: message");
	ok(parse("   ", &r, &e) == -EINVAL, "blank request refused");
	ok(parse("start", &r, &e) == -EINVAL, "start without VM refused");
	is_str(e.msg, "usage: start <VM name, domid or UUID>", "usage message");
	ok(parse("start a b", &r, &e) == -EINVAL, "two arguments refused");
	ok(strstr(e.msg, "too many arguments") != NULL, "too many: message");
	ok(parse("restart web1", &r, &e) == -EINVAL,
	   "restart is the agent's own: refused");
	is_str(e.msg, "unknown operation 'restart'", "unknown op: message");
	ok(parse("stop web1", &r, &e) == 0 && r.op == REQ_STOP, "stop parses");
	ok(parse("reboot web1", &r, &e) == 0 && r.op == REQ_REBOOT, "reboot parses");
	ok(parse("destroy 7", &r, &e) == 0 && r.op == REQ_DESTROY, "destroy parses");
	ok(parse("pause web1", &r, &e) == 0 && r.op == REQ_PAUSE, "pause parses");
	ok(parse("unpause web1", &r, &e) == 0 && r.op == REQ_UNPAUSE,
	   "unpause parses");
	ok(parse("cancel t-1", &r, &e) == 0 && r.op == REQ_CANCEL &&
	   !strcmp(r.arg, "t-1"), "cancel parses with its task ID");
	ok(parse("cancel", &r, &e) == -EINVAL, "cancel without task refused");
	is_str(e.msg, "usage: cancel <task ID>", "cancel usage message");
	ok(parse("refresh", &r, &e) == 0 && r.op == REQ_REFRESH && !r.arg[0],
	   "refresh parses without argument");
	ok(parse("refresh web1", &r, &e) == -EINVAL, "refresh with argument refused");
	is_str(e.msg, "refresh takes no argument", "refresh: message");
	ok(request_on_vm(REQ_STOP) && !request_on_vm(REQ_CANCEL) &&
	   !request_on_vm(REQ_REFRESH), "which operations act on a VM");
	ok(parse("starts web1", &r, &e) == -EINVAL, "op prefix is not an op");

	ok(request_parse("start w\0x", 9, &r, &e) == -EINVAL, "NUL byte refused");
	ok(strstr(e.msg, "non-printable byte at offset 7") != NULL,
	   "NUL: names the offset (%s)", e.msg);
	ok(parse("start w\x1b[2J", &r, &e) == -EINVAL, "escape sequence refused");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	memcpy(big, "start ", 6);
	ok(parse(big, &r, &e) == -E2BIG, "over-long request refused");
	big[256] = 0;
	ok(parse(big, &r, &e) == 0, "256 bytes accepted");

	request_quote("ab\ncd", 5, q, sizeof(q));
	is_str(q, "ab?cd", "quote hides control characters");
	request_quote("0123456789abcdefghij", 20, q, sizeof(q));
	ok(strlen(q) == 15 && !strcmp(q + 12, "..."), "quote marks a cut (%s)", q);
	return tap_done();
}
