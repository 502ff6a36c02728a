/* SPDX-License-Identifier: BSD-2-Clause */
/* Calls from Vireo (HS-mode) down to the SBI firmware (OpenSBI) below it. */
#ifndef VIREO_SBI_HOST_H
#define VIREO_SBI_HOST_H

#include <vireo/types.h>

struct sbiret {
	long error;
	long value;
};

struct sbiret sbi_host_call(unsigned long eid, unsigned long fid, unsigned long a0,
			    unsigned long a1, unsigned long a2, unsigned long a3);
bool sbi_host_probe(unsigned long eid);
long sbi_host_hart_start(unsigned long hartid, unsigned long start_addr, unsigned long opaque);
void sbi_host_set_timer(uint64_t stime_value);
void sbi_host_send_ipi(unsigned long hart_mask, unsigned long hart_mask_base);
void sbi_host_system_reset(unsigned long type, unsigned long reason);
long sbi_host_hart_stop(void);
unsigned long sbi_host_mvendorid(void);
unsigned long sbi_host_marchid(void);
unsigned long sbi_host_mimpid(void);
unsigned long sbi_host_spec_version(void);

#endif
