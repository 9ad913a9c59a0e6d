/* The records the agent publishes under its control root (<root> is
 * control_root, /xsagent by default), written through the store and
 * knowing nothing of the operations that change them:
 *
 *   <root>/vm/<name>/file, error, uuid, type, memory, vcpus
 *                          the VM file (once, and again after a reload)
 *   <root>/vm/<name>/state, domid
 *                          rewritten only when they changed
 *   <root>/vm/<name>/...   last_shutdown_reason, last_action, restarts,
 *                          the figures: written by the layers above
 *   <root>/error, <root>/unmanaged/..., <root>/task/... (task.h)
 *
 * A record is bookkeeping: a failed write is logged, never fails the
 * request that made it. */
#ifndef XSAGENT_REC_H
#define XSAGENT_REC_H

#include <stddef.h>

#include "store.h"
#include "vm.h"

struct rec {
	struct store *store;
	const char *root;
};

/* <root>/<rel> = val, or removed when val is NULL. */
void rec_put(const struct rec *r, const char *rel, const char *val);
/* <root>/vm/<name>/<key> = val, or removed when val is NULL. */
void rec_put_vm(const struct rec *r, const struct vm *vm, const char *key,
		const char *val);
/* <root>/vm/<name>/<key> into buf ("" when absent). */
void rec_get_vm(const struct rec *r, const struct vm *vm, const char *key,
		char *buf, size_t n);
/* Publish a VM's record: the file's keys once, state and domid when they
 * changed since the last call. */
void rec_publish_vm(const struct rec *r, struct vm *vm);
/* A halted VM about to start takes the definition read while its last
 * domain lived (a reload), renaming its record if the file did. */
void rec_take_next_def(const struct rec *r, struct vm *vm);

#endif
