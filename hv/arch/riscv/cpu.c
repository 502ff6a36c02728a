// SPDX-License-Identifier: BSD-2-Clause
/* Probing the hart: H extension, G-stage modes, VMID bits, Sstc. */
#include <vireo/cpu.h>
#include <vireo/hart.h>
#include <vireo/log.h>
#include <vireo/string.h>
#include "csr.h"

struct cpu_features cpu_features;

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

static bool probe_sstc(void)
{
	bool ok;

	if (!cpu_isa_has_ext(cpu_features.isa, "sstc"))
		return false;
	/* STCE only sticks in henvcfg if M-mode enabled it in menvcfg. */
	csr_set(henvcfg, HENVCFG_STCE);
	ok = (csr_read(henvcfg) & HENVCFG_STCE) != 0;
	csr_clear(henvcfg, HENVCFG_STCE);
	return ok;
}

void cpu_probe(const char *isa)
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
}

void cpu_init_hart(void)
{
	csr_write(hedeleg, 0);
	csr_write(hideleg, 0);
	csr_write(hvip, 0);
	csr_write(hcounteren, 0);
	csr_write(hgatp, 0);
	/* Host interrupts Vireo waits on: IPIs, its timer and the host PLIC. */
	csr_write(sie, MIP_SSIP | MIP_STIP | MIP_SEIP);
}
