/* libFuzzer harness: the agent's INI (conf_load_agent in agent/conf.c)
 * through the real reader: inih over the file, the line counting reader,
 * the key table, defaults and the control_root check.
 *
 * The input is the file's bytes.  Besides the sanitizers (leaks count:
 * everything is disposed): a file that loads has every string key set,
 * every number within its range and a control_root the agent's buffers
 * hold; a file that does not load says why in at least one diagnostic. */
#include <ctype.h>
#include <string.h>

#include "conf.h"
#include "fuzz_util.h"

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_make_dir();
	devnull = fopen("/dev/null", "w");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_diag diag = { 0 };
	struct agent_conf c;
	char path[128];
	int rc;

	fuzz_write("xsagent.ini", data, size, path);
	rc = conf_load_agent(path, &c, &diag);
	for (unsigned i = 0; i < diag.n; i++)
		fuzz_check(!strncmp(diag.lines[i], path, strlen(path)),
			   "a diagnostic names the file");
	if (rc < 0) {
		fuzz_check(diag.n > 0, "a refused file says why");
	} else {
		fuzz_check(rc == 0, "0 or a negative errno");
		for (size_t i = 0; i < conf_agent_nkeys; i++) {
			const struct conf_key *k = &conf_agent_keys[i];
			const char *f = (const char *)&c + k->offset;

			if (k->kind == CK_UINT || k->kind == CK_INT) {
				long long v = *(const long long *)f;

				fuzz_check(v >= k->min && v <= k->max, "number in range");
			} else if (k->kind == CK_ENUM) {
				int v = *(const int *)f;

				fuzz_check(v >= 0, "enum index");
				for (int j = 0; j <= v; j++)
					fuzz_check(k->names[j] != NULL, "enum in range");
			} else if (k->kind != CK_UUID) {
				const char *s = *(char *const *)f;

				fuzz_check(s != NULL, "string key set");
				for (; *s; s++)
					fuzz_check(isprint((unsigned char)*s), "printable value");
			}
		}
		size_t rl = strlen(c.control_root);

		fuzz_check(rl > 1 && rl <= CONF_ROOT_MAX && c.control_root[0] == '/' &&
			   c.control_root[rl - 1] != '/' && !strstr(c.control_root, "//"),
			   "control_root fits the agent's paths");
		conf_dump(devnull, conf_agent_keys, conf_agent_nkeys, &c);
	}
	conf_dispose(conf_agent_keys, conf_agent_nkeys, &c);
	conf_diag_dispose(&diag);
	return 0;
}
