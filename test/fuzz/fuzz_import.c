/* libFuzzer harness: the xl.cfg importer (import_xlcfg, ctl/import.c),
 * libxlutil's parser and the importer's own key scan and mapping.
 *
 * The input is an xl.cfg's bytes; "@DIR@" in it stands for the harness's
 * scratch directory, where the disk images of test/import's files exist
 * (so the seeds, the files of test/import, reach the loader).  Besides the
 * sanitizers (leaks count): a refused file says why in err and writes
 * nothing; an accepted one is a VM file the agent's loader takes, save
 * the checks that depend on the host (disk targets, scripts), and its
 * name has no '.'. */
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "fuzz_util.h"
#include "import.h"
#include "vm.h"

static char scripts[128];

/* Debian's libxlutil (4.17) leaks the values of a list its parser gave up
 * on (a syntax error inside [ ]): the bison error recovery drops them
 * after xlu_cfg_readdata has failed, past the reach of xlu_cfg_destroy;
 * a list inside a list (a syntax error too) leaks the list itself
 * (xlu__cfg_list_mk: found by a 240 s run of this harness).  Those three
 * allocators' leaks are the library's, not the importer's; a leaked
 * XLU_Config (xlu_cfg_init) or anything of ours still counts. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:xlu__cfg_string_mk\nleak:xlu__cfgl_dequote\nleak:xlu__cfg_list_mk\n";
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const images[] = {
		"root.img", "data.img", "old.img", "lv-home", "iso.img", "scr.img",
		"db1-disk", "db1-swap.img", "odd.img", "q.qcow2", "part-disk",
		"part-swap",
	};
	char path[128];

	(void)argc, (void)argv;
	fuzz_make_dir();
	fuzz_make_scripts(scripts);
	for (size_t i = 0; i < sizeof(images) / sizeof(images[0]); i++)
		fuzz_write(images[i], "", 0, path);
	return 0;
}

/* A loader diagnostic about the host, not the file's syntax or values. */
static int host_only(const char *line)
{
	return strstr(line, "] target ") || strstr(line, "] script ") ||
	       strstr(line, "] default script ");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_diag diag = { 0 };
	char cfg[128], ini[128], err[256];
	char *text = NULL;
	size_t len = 0;
	struct vm *vm;
	FILE *f;
	int rc;

	/* @DIR@ -> the scratch directory. */
	f = open_memstream(&text, &len);
	fuzz_check(f != NULL, "open_memstream");
	for (size_t i = 0; i < size; i++) {
		if (size - i >= 5 && !memcmp(data + i, "@DIR@", 5)) {
			fputs(fuzz_dir, f);
			i += 4;
		} else {
			fputc(data[i], f);
		}
	}
	fclose(f);
	fuzz_write("in.cfg", text, len, cfg);
	free(text);

	snprintf(ini, sizeof(ini), "%s/out.ini", fuzz_dir);
	f = fopen(ini, "w");
	fuzz_check(f != NULL, "open out.ini");
	err[0] = '\0';
	rc = import_xlcfg(cfg, f, err, sizeof(err));
	fuzz_check(rc <= 0, "0 or -errno");
	if (rc < 0) {
		fuzz_check(err[0] != '\0' && !strchr(err, '\n'), "a refusal says why, one line");
		fuzz_check(ftell(f) == 0, "a refused file writes nothing");
		fclose(f);
		return 0;
	}
	fuzz_check(ftell(f) > 0, "an accepted file is written");
	fclose(f);
	vm = vm_load_file(ini, scripts, &diag);
	fuzz_check(vm != NULL, "loaded");
	for (unsigned i = 0; i < diag.n; i++)
		if (!host_only(diag.lines[i])) {
			fprintf(stderr, "fuzz: the agent refuses the import: %s\n", diag.lines[i]);
			fuzz_fail("an accepted import loads in the agent");
		}
	if (vm->valid)
		fuzz_check(vm->conf.name && !strchr(vm->conf.name, '.'), "no '.' in a name");
	vm_free(vm);
	conf_diag_dispose(&diag);
	return 0;
}
