/* xsa-bare: the benchmark's "bare start" — the libxenctrl/libxenguest
 * calls of an xsagent start through the agent's own hv_* and store_*
 * layers, in one process, with no tasks, no progress and only the nodes a
 * PV guest and xenconsoled need (name, console, a guest-writable control).
 *
 *   xsa-bare NAME KERNEL RAMDISK MEM_MB CMDLINE
 *
 * Prints "bare-ms <n>" (process-internal time from create to unpause) and
 * "domid <d>".  The domain is left running; destroy it with xl destroy. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hv.h"
#include "loop.h"
#include "store.h"

int main(int argc, char **argv)
{
	struct hv *hv = NULL;
	struct store *s = NULL;
	struct hv_built *built = NULL;
	struct hv_build_result res;
	struct agent_err err = { 0 };
	struct hv_create_args ca = { .vcpus = 1 };
	unsigned domid = 0, sport, cport;
	char p[96];
	long long t0;
	int rc = 1;

	if (argc != 6) {
		fprintf(stderr, "usage: xsa-bare NAME KERNEL RAMDISK MEM_MB CMDLINE\n");
		return 2;
	}
	ca.maxmem_kb = strtoull(argv[4], NULL, 10) * 1024;
	for (int i = 0; i < 16; i++)
		ca.uuid[i] = (unsigned char)(0xb0 + i);
	if (hv_open(&hv, &err) < 0 || store_open(&s, &err) < 0)
		goto out;
	t0 = (long long)loop_now_ms();
	if (hv_create_pv(hv, &ca, &domid, &err) < 0 ||
	    hv_evtchn_alloc(hv, domid, &sport, &err) < 0 ||
	    hv_evtchn_alloc(hv, domid, &cport, &err) < 0)
		goto out;
	struct hv_build_args ba = {
		.domid = domid, .kernel = argv[2], .ramdisk = argv[3],
		.cmdline = argv[5], .mem_mb = (unsigned)atoi(argv[4]), .vcpus = 1,
		.store_port = sport, .console_port = cport,
	};
	if (hv_build_pv(&ba, &res, &built, &err) < 0)
		goto out;
	const struct store_perm ro[] = { { 0, 'n' }, { domid, 'r' } };
	const struct store_perm rw[] = { { 0, 'n' }, { domid, 'b' } };

	snprintf(p, sizeof(p), "/local/domain/%u", domid);
	if (store_mkdir(s, STORE_NOTX, p, &err) < 0 ||
	    store_set_perms(s, STORE_NOTX, p, ro, 2, &err) < 0)
		goto out;
	snprintf(p, sizeof(p), "/local/domain/%u/name", domid);
	if (store_write(s, STORE_NOTX, p, argv[1], &err) < 0)
		goto out;
	snprintf(p, sizeof(p), "/local/domain/%u/console/port", domid);
	if (store_writef(s, STORE_NOTX, p, &err, "%u", cport) < 0)
		goto out;
	snprintf(p, sizeof(p), "/local/domain/%u/console/ring-ref", domid);
	if (store_writef(s, STORE_NOTX, p, &err, "%llu",
			 (unsigned long long)res.console_mfn) < 0)
		goto out;
	snprintf(p, sizeof(p), "/local/domain/%u/control", domid);
	if (store_mkdir(s, STORE_NOTX, p, &err) < 0 ||
	    store_set_perms(s, STORE_NOTX, p, rw, 2, &err) < 0)
		goto out;
	if (store_introduce(s, domid, (unsigned long)res.store_mfn, sport, &err) < 0 ||
	    hv_unpause(hv, domid, &err) < 0)
		goto out;
	printf("bare-ms %lld\ndomid %u\n", (long long)loop_now_ms() - t0, domid);
	rc = 0;
out:
	if (rc) {
		fprintf(stderr, "xsa-bare: %s\n", err.msg);
		if (domid)
			hv_destroy(hv, domid, &err);
	}
	hv_built_release(built);
	store_close(s);
	hv_close(hv);
	return rc;
}
