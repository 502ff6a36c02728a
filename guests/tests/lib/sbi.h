/* SPDX-License-Identifier: BSD-2-Clause */
/* SBI calls made by the test guests (SBI v2.0 names, legacy v0.1 fallbacks). */
#ifndef GUEST_SBI_H
#define GUEST_SBI_H

#include <vireo/types.h>

#define SBI_EXT_LEGACY_PUTCHAR	0x01
#define SBI_EXT_LEGACY_SHUTDOWN 0x08
#define SBI_EXT_BASE		0x10
#define SBI_EXT_TIME		0x54494D45
#define SBI_EXT_IPI		0x735049
#define SBI_EXT_HSM		0x48534D
#define SBI_EXT_SRST		0x53525354
#define SBI_EXT_DBCN		0x4442434E

#define SBI_BASE_GET_SPEC_VERSION 0
#define SBI_BASE_PROBE_EXTENSION  3
#define SBI_HSM_HART_START	  0
#define SBI_HSM_HART_STOP	  1
#define SBI_HSM_HART_GET_STATUS	  2
#define SBI_SRST_SYSTEM_RESET	  0
#define SBI_DBCN_WRITE		  0
#define SBI_DBCN_WRITE_BYTE	  2

#define SBI_SRST_TYPE_SHUTDOWN	0
#define SBI_SRST_REASON_NONE	0
#define SBI_SRST_REASON_SYSFAIL 1

enum sbi_hsm_state {
	SBI_HSM_STARTED = 0,
	SBI_HSM_STOPPED = 1,
	SBI_HSM_START_PENDING = 2,
	SBI_HSM_STOP_PENDING = 3,
};

#define SBI_SUCCESS	      0
#define SBI_ERR_NOT_SUPPORTED (-2)

struct sbiret {
	long error;
	long value;
};

struct sbiret sbi_call(unsigned long eid, unsigned long fid, unsigned long a0, unsigned long a1,
		       unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);

long sbi_spec_version(void);
/* Nonzero if the extension is present (0 also when the base extension itself is missing). */
long sbi_probe_extension(unsigned long eid);

/* One console byte: DBCN write_byte if the SBI has it, else the legacy putchar. */
void sbi_console_putchar(char c);
/* A whole buffer through DBCN console_write (buf must be guest-physical); 0 if written. */
int sbi_console_write(const char *buf, size_t len);

/* Power off, reporting status to the hypervisor through the SRST reason. */
NORETURN void sbi_shutdown(int status);

struct sbiret sbi_hart_start(unsigned long hartid, unsigned long start_addr, unsigned long opaque);
NORETURN void sbi_hart_stop(void);
struct sbiret sbi_hart_get_status(unsigned long hartid);

struct sbiret sbi_set_timer(uint64_t stime_value);
struct sbiret sbi_send_ipi(unsigned long hart_mask, unsigned long hart_mask_base);

#endif
