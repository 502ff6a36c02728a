// SPDX-License-Identifier: BSD-2-Clause
/* SBI ecall wrappers: the guest's only way to reach the console and power. */
#include "sbi.h"
#include <vireo/vm_layout.h>

struct sbiret sbi_call(unsigned long eid, unsigned long fid, unsigned long a0, unsigned long a1,
		       unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)
{
	register unsigned long r_a0 __asm__("a0") = a0;
	register unsigned long r_a1 __asm__("a1") = a1;
	register unsigned long r_a2 __asm__("a2") = a2;
	register unsigned long r_a3 __asm__("a3") = a3;
	register unsigned long r_a4 __asm__("a4") = a4;
	register unsigned long r_a5 __asm__("a5") = a5;
	register unsigned long r_a6 __asm__("a6") = fid;
	register unsigned long r_a7 __asm__("a7") = eid;

	__asm__ volatile("ecall"
			 : "+r"(r_a0), "+r"(r_a1)
			 : "r"(r_a2), "r"(r_a3), "r"(r_a4), "r"(r_a5), "r"(r_a6), "r"(r_a7)
			 : "memory");
	return (struct sbiret){.error = (long)r_a0, .value = (long)r_a1};
}

static struct sbiret sbi_call0(unsigned long eid, unsigned long fid)
{
	return sbi_call(eid, fid, 0, 0, 0, 0, 0, 0);
}

static struct sbiret sbi_call1(unsigned long eid, unsigned long fid, unsigned long a0)
{
	return sbi_call(eid, fid, a0, 0, 0, 0, 0, 0);
}

long sbi_spec_version(void)
{
	struct sbiret ret = sbi_call0(SBI_EXT_BASE, SBI_BASE_GET_SPEC_VERSION);

	/* A v0.1 SBI has no base extension: treat that as version 0. */
	return ret.error ? 0 : ret.value;
}

long sbi_probe_extension(unsigned long eid)
{
	struct sbiret ret = sbi_call1(SBI_EXT_BASE, SBI_BASE_PROBE_EXTENSION, eid);

	return ret.error ? 0 : ret.value;
}

enum dbcn_state { DBCN_UNKNOWN, DBCN_PRESENT, DBCN_ABSENT };

/* Probed once; harts racing on the first probe store the same answer. */
static volatile enum dbcn_state dbcn_state = DBCN_UNKNOWN;

static bool dbcn_present(void)
{
	if (dbcn_state == DBCN_UNKNOWN)
		dbcn_state = sbi_probe_extension(SBI_EXT_DBCN) ? DBCN_PRESENT : DBCN_ABSENT;
	return dbcn_state == DBCN_PRESENT;
}

void sbi_console_putchar(char c)
{
	if (dbcn_present()) {
		sbi_call1(SBI_EXT_DBCN, SBI_DBCN_WRITE_BYTE, (unsigned char)c);
		return;
	}
	sbi_call1(SBI_EXT_LEGACY_PUTCHAR, 0, (unsigned char)c);
}

int sbi_console_write(const char *buf, size_t len)
{
	if (!dbcn_present())
		return -1;
	struct sbiret r =
	    sbi_call(SBI_EXT_DBCN, SBI_DBCN_WRITE, len, (unsigned long)buf, 0, 0, 0, 0);
	return r.error == 0 && (size_t)r.value == len ? 0 : -1;
}

static unsigned long shutdown_reason(int status)
{
	if (status == 0)
		return SBI_SRST_REASON_NONE;
	return VM_EXIT_REASON_STATUS_BASE | ((unsigned long)status & 0xff);
}

NORETURN void sbi_shutdown(int status)
{
	sbi_call(SBI_EXT_SRST, SBI_SRST_SYSTEM_RESET, SBI_SRST_TYPE_SHUTDOWN,
		 shutdown_reason(status), 0, 0, 0, 0);
	/* Still here: an SBI that rejects platform-specific reasons may accept a plain failure. */
	if (status != 0)
		sbi_call(SBI_EXT_SRST, SBI_SRST_SYSTEM_RESET, SBI_SRST_TYPE_SHUTDOWN,
			 SBI_SRST_REASON_SYSFAIL, 0, 0, 0, 0);
	sbi_call0(SBI_EXT_LEGACY_SHUTDOWN, 0);
	for (;;)
		__asm__ volatile("wfi");
}

struct sbiret sbi_hart_start(unsigned long hartid, unsigned long start_addr, unsigned long opaque)
{
	return sbi_call(SBI_EXT_HSM, SBI_HSM_HART_START, hartid, start_addr, opaque, 0, 0, 0);
}

NORETURN void sbi_hart_stop(void)
{
	sbi_call0(SBI_EXT_HSM, SBI_HSM_HART_STOP);
	/* hart_stop only returns on failure; park the hart rather than run on. */
	for (;;)
		__asm__ volatile("wfi");
}

struct sbiret sbi_hart_get_status(unsigned long hartid)
{
	return sbi_call1(SBI_EXT_HSM, SBI_HSM_HART_GET_STATUS, hartid);
}

struct sbiret sbi_set_timer(uint64_t stime_value)
{
	return sbi_call1(SBI_EXT_TIME, 0, stime_value);
}

struct sbiret sbi_send_ipi(unsigned long hart_mask, unsigned long hart_mask_base)
{
	return sbi_call(SBI_EXT_IPI, 0, hart_mask, hart_mask_base, 0, 0, 0, 0);
}
