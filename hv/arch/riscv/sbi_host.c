// SPDX-License-Identifier: BSD-2-Clause
/* Calls from Vireo down to OpenSBI in M-mode. */
#include <vireo/sbi_host.h>

#define SBI_EXT_BASE 0x10
#define SBI_EXT_TIME 0x54494D45
#define SBI_EXT_IPI  0x735049
#define SBI_EXT_HSM  0x48534D
#define SBI_EXT_SRST 0x53525354

#define SBI_LEGACY_SET_TIMER 0x00
#define SBI_LEGACY_SEND_IPI  0x04
#define SBI_LEGACY_SHUTDOWN  0x08

struct sbiret sbi_host_call(unsigned long eid, unsigned long fid, unsigned long a0,
			    unsigned long a1, unsigned long a2, unsigned long a3)
{
	register unsigned long r_a0 __asm__("a0") = a0;
	register unsigned long r_a1 __asm__("a1") = a1;
	register unsigned long r_a2 __asm__("a2") = a2;
	register unsigned long r_a3 __asm__("a3") = a3;
	register unsigned long r_a6 __asm__("a6") = fid;
	register unsigned long r_a7 __asm__("a7") = eid;

	__asm__ volatile("ecall"
			 : "+r"(r_a0), "+r"(r_a1)
			 : "r"(r_a2), "r"(r_a3), "r"(r_a6), "r"(r_a7)
			 : "memory");
	return (struct sbiret){.error = (long)r_a0, .value = (long)r_a1};
}

static unsigned long base_call(unsigned long fid)
{
	return (unsigned long)sbi_host_call(SBI_EXT_BASE, fid, 0, 0, 0, 0).value;
}

unsigned long sbi_host_spec_version(void)
{
	return base_call(0);
}

unsigned long sbi_host_mvendorid(void)
{
	return base_call(4);
}

unsigned long sbi_host_marchid(void)
{
	return base_call(5);
}

unsigned long sbi_host_mimpid(void)
{
	return base_call(6);
}

bool sbi_host_probe(unsigned long eid)
{
	struct sbiret r = sbi_host_call(SBI_EXT_BASE, 3, eid, 0, 0, 0);

	return r.error == 0 && r.value != 0;
}

long sbi_host_hart_start(unsigned long hartid, unsigned long start_addr, unsigned long opaque)
{
	return sbi_host_call(SBI_EXT_HSM, 0, hartid, start_addr, opaque, 0).error;
}

long sbi_host_hart_stop(void)
{
	return sbi_host_call(SBI_EXT_HSM, 1, 0, 0, 0, 0).error;
}

void sbi_host_set_timer(uint64_t stime_value)
{
	sbi_host_call(SBI_EXT_TIME, 0, stime_value, 0, 0, 0);
}

void sbi_host_send_ipi(unsigned long hart_mask, unsigned long hart_mask_base)
{
	sbi_host_call(SBI_EXT_IPI, 0, hart_mask, hart_mask_base, 0, 0);
}

void sbi_host_system_reset(unsigned long type, unsigned long reason)
{
	if (sbi_host_probe(SBI_EXT_SRST))
		sbi_host_call(SBI_EXT_SRST, 0, type, reason, 0, 0);
	sbi_host_call(SBI_LEGACY_SHUTDOWN, 0, 0, 0, 0, 0);
}
