/* libFuzzer harness: request syntax (agent/request.c).
 *
 * The input is a request value as a client wrote it to xenstore, raw bytes
 * (NULs included).  Checked besides the sanitizers:
 *   - request_parse accepts only what it documents, and what it accepts
 *     parses again to the same request when written back as "<op> <arg>";
 *   - request_valid_id accepts exactly [A-Za-z0-9_.-]{1,64};
 *   - request_quote never writes past n bytes, always terminates, and
 *     leaves only printable bytes. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_request: invariant broken: %s\n", what);
		abort();
	}
}

static void fuzz_parse(const char *v, size_t len)
{
	struct request req, again;
	struct agent_err err;
	char back[REQUEST_MAX_LEN + 32];
	int rc, n;

	/* The value in a buffer of exactly its size: ASan sees any read past
	 * len (the parser must not rely on a terminating NUL). */
	char *exact = malloc(len ? len : 1);

	check(exact != NULL, "malloc");
	memcpy(exact, v, len);
	memset(&req, 0xa5, sizeof(req));
	err_clear(&err);
	rc = request_parse(exact, len, &req, &err);
	free(exact);
	if (rc < 0) {
		check(memchr(err.msg, '\0', sizeof(err.msg)) != NULL,
		      "error message terminated");
		check(err.msg[0] != '\0', "error message set");
		check(err.errnum == -rc, "errnum matches the return value");
		return;
	}
	check(rc == 0, "0 on success");
	check(req.op != REQ_RESTART, "restart is the agent's own");
	check(req.op <= REQ_REFRESH, "a known operation");
	check(memchr(req.arg, '\0', sizeof(req.arg)) != NULL, "arg terminated");
	for (const char *p = req.arg; *p; p++)
		check(isprint((unsigned char)*p) && *p != ' ', "arg printable, no spaces");
	check(request_on_vm(req.op) || req.op == REQ_CANCEL ? req.arg[0] != '\0'
							     : req.arg[0] == '\0',
	      "an argument exactly when the operation takes one");
	/* Round trip. */
	n = snprintf(back, sizeof(back), "%s%s%s", request_op_names[req.op],
		     req.arg[0] ? " " : "", req.arg);
	check(n > 0 && (size_t)n < sizeof(back), "written back");
	rc = request_parse(back, (size_t)n, &again, &err);
	check(rc == 0 && again.op == req.op && !strcmp(again.arg, req.arg),
	      "what parses once parses again the same");
}

static void fuzz_id(const char *v, size_t len)
{
	char *s = malloc(len + 1);
	size_t n;
	bool expect;

	check(s != NULL, "malloc");
	memcpy(s, v, len);
	s[len] = '\0';
	n = strlen(s);
	expect = n >= 1 && n <= REQUEST_ID_MAX;
	for (size_t i = 0; i < n && expect; i++)
		expect = isalnum((unsigned char)s[i]) || strchr("_.-", s[i]);
	check(request_valid_id(s) == expect, "request_valid_id");
	free(s);
}

static void fuzz_quote(const char *v, size_t len, size_t n)
{
	/* Exactly n bytes: ASan catches a write past the end. */
	char *out = malloc(n ? n : 1);
	size_t o;

	check(out != NULL, "malloc");
	request_quote(v, len, out, n);
	if (n) {
		o = strnlen(out, n);
		check(o < n, "quote terminated within n");
		for (size_t i = 0; i < o; i++)
			check(isprint((unsigned char)out[i]), "quote printable");
		if (len < n) {
			/* It fits: the whole value, every byte in its place. */
			check(o == len, "a value that fits is not cut");
			for (size_t i = 0; i < len; i++)
				check(out[i] == (isprint((unsigned char)v[i]) ? v[i] : '?'),
				      "quote keeps printable bytes, '?' for others");
		} else {
			/* Cut: as much as fits, the last three (or fewer) dots. */
			check(o == n - 1, "a cut value fills the buffer");
			size_t dots = n - 1 < 3 ? n - 1 : 3;
			for (size_t i = o - dots; i < o; i++)
				check(out[i] == '.', "a cut is marked");
		}
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *v = (const char *)data;

	fuzz_parse(v, size);
	fuzz_id(v, size);
	/* Output sizes: the edges (0 .. 6, where the cut mark needs room)
	 * and the agent's own (48, 64); the first byte picks one more. */
	static const size_t sizes[] = { 0, 1, 2, 3, 4, 5, 6, 48, 64 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		fuzz_quote(v, size, sizes[i]);
	if (size)
		fuzz_quote(v + 1, size - 1, data[0]);
	return 0;
}
