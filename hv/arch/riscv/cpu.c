// SPDX-License-Identifier: BSD-2-Clause
/* Probing the hart: H extension, G-stage modes, VMID bits, Sstc. */
#include <vireo/aia.h>
#include <vireo/cpu.h>
#include <vireo/hart.h>
#include <vireo/log.h>
#include <vireo/string.h>
#include "csr.h"

struct cpu_features cpu_features;
struct guest_cpu cpu_guest;

bool cpu_isa_has_letter(const char *isa, char ext)
{
	/* Single letters follow "rv64" up to the first '_' (multi-letter extensions follow). */
	if (!isa || strncmp(isa, "rv", 2) != 0)
		return false;
	isa += 2;
	while (*isa >= '0' && *isa <= '9')
		isa++;
	for (; *isa && *isa != '_'; isa++) {
		/* A multi-letter name (z*, s*, x*) can also start without '_' in old strings. */
		if (*isa == 'z' || *isa == 's' || *isa == 'x')
			break;
		if (*isa == ext)
			return true;
		if (ext != 'g' && *isa == 'g' && strchr("imafd", ext))
			return true;
	}
	return false;
}

bool cpu_isa_has_ext(const char *isa, const char *ext)
{
	size_t len = strlen(ext);
	const char *p = isa ? strchr(isa, '_') : NULL;

	while (p) {
		p++;
		if (strncmp(p, ext, len) == 0 && (p[len] == '_' || p[len] == '\0'))
			return true;
		p = strchr(p, '_');
	}
	return false;
}

static void probe_hstatus(void *arg)
{
	*(unsigned long *)arg = csr_read(hstatus);
}

static bool hgatp_mode_sticks(unsigned long mode)
{
	csr_write(hgatp, mode << HGATP_MODE_SHIFT);
	bool ok = (csr_read(hgatp) >> HGATP_MODE_SHIFT) == mode;
	csr_write(hgatp, 0);
	return ok;
}

static unsigned probe_vmid_bits(void)
{
	unsigned long vmid;

	csr_write(hgatp, HGATP_VMID_MASK);
	vmid = (csr_read(hgatp) & HGATP_VMID_MASK) >> HGATP_VMID_SHIFT;
	csr_write(hgatp, 0);
	unsigned bits = 0;

	/* VMID bits are implemented from bit 0 up, so counting them is enough. */
	for (; vmid & 1; vmid >>= 1)
		bits++;
	return bits;
}

/* An henvcfg bit sticks only if M-mode lets it (menvcfg): try it. */
static bool henvcfg_bit_sticks(unsigned long bit)
{
	bool ok;

	csr_set(henvcfg, bit);
	ok = (csr_read(henvcfg) & bit) != 0;
	csr_clear(henvcfg, bit);
	return ok;
}

/* STCE only sticks in henvcfg if M-mode enabled it in menvcfg. */
static bool probe_sstc(void)
{
	return cpu_isa_has_ext(cpu_features.isa, "sstc") && henvcfg_bit_sticks(HENVCFG_STCE);
}

static void probe_senvcfg(void *arg)
{
	*(unsigned long *)arg = csr_read(senvcfg);
}

static void probe_sstateen0(void *arg)
{
	*(unsigned long *)arg = csr_read_num(CSR_SSTATEEN0);
}

static void probe_siselect(void *arg)
{
	*(unsigned long *)arg = csr_read_num(CSR_SISELECT);
}

/* Ssaia: the device tree says so and the CSRs answer (they need an IMSIC on QEMU). */
static void probe_aia(void)
{
	unsigned long v;

	cpu_features.ssaia = cpu_isa_has_ext(cpu_features.isa, "ssaia") &&
			     hart_guarded_probe(probe_siselect, &v) == -1;
	if (cpu_features.ssaia)
		cpu_features.geilen = aia_probe_geilen();
}

static void probe_vlenb(void *arg)
{
	__asm__ volatile(".option push\n.option arch, +v\ncsrr %0, vlenb\n.option pop"
			 : "=r"(*(unsigned long *)arg));
}

/* V: the device tree says so, sstatus.VS is writable, and vlenb reads. */
static void probe_vector(void)
{
	unsigned long vlenb = 0;

	if (!cpu_isa_has_letter(cpu_features.isa, 'v'))
		return;
	csr_set(sstatus, SSTATUS_VS_INITIAL);
	if ((csr_read(sstatus) & SSTATUS_VS) && hart_guarded_probe(probe_vlenb, &vlenb) == -1 &&
	    vlenb) {
		cpu_features.vector = true;
		cpu_features.vlenb = vlenb;
	}
	csr_clear(sstatus, SSTATUS_VS);
}

/* The S-level CSRs a guest writes directly and that must be kept per vCPU. */
static void probe_unbanked_csrs(void)
{
	unsigned long v;

	cpu_features.senvcfg = hart_guarded_probe(probe_senvcfg, &v) == -1;
	cpu_features.sstateen = cpu_isa_has_ext(cpu_features.isa, "smstateen") &&
				hart_guarded_probe(probe_sstateen0, &v) == -1;
}

void cpu_probe(const char *isa, unsigned cbom_block_size, unsigned cboz_block_size)
{
	unsigned long hstatus = 0;

	strlcpy(cpu_features.isa, isa ? isa : "", sizeof(cpu_features.isa));
	cpu_features.isa_has_f = cpu_isa_has_letter(isa, 'f');
	cpu_features.isa_has_d = cpu_isa_has_letter(isa, 'd');
	cpu_features.isa_has_c = cpu_isa_has_letter(isa, 'c');
	if (!cpu_isa_has_letter(isa, 'h'))
		return;
	/* The device tree says H; make sure the CSRs really exist before relying on them. */
	if (hart_guarded_probe(probe_hstatus, &hstatus) != -1)
		return;
	cpu_features.h = true;
	cpu_features.sv39x4 = hgatp_mode_sticks(HGATP_MODE_SV39X4);
	cpu_features.sv48x4 = hgatp_mode_sticks(HGATP_MODE_SV48X4);
	cpu_features.sv57x4 = hgatp_mode_sticks(HGATP_MODE_SV57X4);
	cpu_features.vmid_bits = probe_vmid_bits();
	cpu_features.sstc = probe_sstc();
	cpu_features.svpbmt = cpu_isa_has_ext(isa, "svpbmt") && henvcfg_bit_sticks(HENVCFG_PBMTE);
	cpu_features.zicbom = cpu_isa_has_ext(isa, "zicbom") && henvcfg_bit_sticks(HENVCFG_CBCFE);
	cpu_features.zicboz = cpu_isa_has_ext(isa, "zicboz") && henvcfg_bit_sticks(HENVCFG_CBZE);
	cpu_features.cbom_block_size = cbom_block_size;
	cpu_features.cboz_block_size = cboz_block_size;
	probe_vector();
	probe_unbanked_csrs();
	probe_aia();
	cpu_probe_sbi();
	cpu_guest_derive(cpu_features.isa, &cpu_features, &cpu_guest);
}

void cpu_init_hart(void)
{
	csr_write(hedeleg, 0);
	csr_write(hideleg, 0);
	csr_write(hvip, 0);
	csr_write(hcounteren, 0);
	csr_write(hgatp, 0);
	/* Host interrupts Vireo waits on: IPIs, its timer and the host interrupt controller;
	 * and guest external interrupts for vCPUs that wait (aia.c). */
	csr_write(sie, MIP_SSIP | MIP_STIP | MIP_SEIP);
	aia_init_hart(cpu_features.geilen > 0);
}
