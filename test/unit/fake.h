/* The test-side calls of the in-memory doubles that test_agent links in
 * place of agent/store.c (fake_store.c) and agent/hv.c (fake_hv.c). */
#ifndef XSAGENT_TEST_FAKE_H
#define XSAGENT_TEST_FAKE_H

#include <stdint.h>
#include <stdio.h>

#include "hv.h"

/* fake_store.c */
void fake_store_reset(void);
int fake_store_write(const char *path, const char *val);
char *fake_store_read(const char *path);
int fake_store_exists(const char *path);
int fake_store_rm(const char *path);
int fake_store_nchildren(const char *path);
void fake_store_dump(FILE *f, const char *path);
void fake_store_fire(const char *path);
void fake_store_set_tx_conflicts(unsigned n);
unsigned fake_store_tx_conflicts_left(void);
unsigned fake_store_nwatches(void);
unsigned fake_store_open_tx(void);
unsigned fake_store_introduced(unsigned domid, unsigned long *mfn_r,
			       unsigned *port_r);
unsigned long fake_store_calls(void);

/* fake_hv.c */
void fake_hv_reset(void);
void fake_hv_set_free_kb(uint64_t kb);
void fake_hv_set_build(unsigned domid, unsigned delay_ms, const char *fail);
int fake_hv_shutdown(unsigned domid, unsigned reason);
int fake_hv_set_dying(unsigned domid);
int fake_hv_get(unsigned domid, struct hv_dominfo *info);
int fake_hv_sched(unsigned domid, unsigned *weight_r, unsigned *cap_r);
unsigned fake_hv_ndomains(void);
unsigned fake_hv_ncreated(void);
unsigned fake_hv_ndestroyed(void);
unsigned fake_hv_open_handles(void);
/* PCI: Xen's IOMMU on or off, the SBDF a foreign domain holds and the one
 * whose assignment fails (UINT32_MAX: none); assignments + grants live. */
void fake_hv_pci(bool iommu, uint32_t busy_sbdf, uint32_t fail_assign_sbdf);
int fake_hv_pci_live(void);
unsigned fake_hv_pci_assigned(void);

#endif
