// SPDX-License-Identifier: BSD-2-Clause
/* SBI dispatch: a7 selects the extension, a6 the function. */
#include <vireo/cpu.h>
#include <vireo/sandbox.h>
#include <vireo/sbi.h>
#include <vireo/string.h>
#include <vireo/vm.h>
#include "sbi_ext.h"

const struct sbi_ext *const sbi_extensions[] = {
    &sbi_ext_legacy, &sbi_ext_base, &sbi_ext_time, &sbi_ext_ipi,  &sbi_ext_rfence,
    &sbi_ext_hsm,    &sbi_ext_srst, &sbi_ext_dbcn, &sbi_ext_pmu,  &sbi_ext_susp,
    &sbi_ext_sta,    &sbi_ext_sse,  &sbi_ext_fwft, &sbi_ext_dbtr, &sbi_ext_sandbox};
const unsigned sbi_extension_count = ARRAY_SIZE(sbi_extensions);

/* Extensions that only some VMs have, and how to tell. */
static const struct {
	const struct sbi_ext *ext;
	bool (*available)(const struct vcpu *v);
} sbi_ext_conditions[] = {
    {&sbi_ext_sandbox, sandbox_sbi_available},
};

bool sbi_ext_available(const struct sbi_ext *ext, const struct vcpu *v)
{
	for (unsigned i = 0; i < ARRAY_SIZE(sbi_ext_conditions); i++)
		if (sbi_ext_conditions[i].ext == ext)
			return sbi_ext_conditions[i].available(v);
	return true;
}

const struct sbi_ext *sbi_find_ext(const struct sbi_ext *const *table, unsigned n,
				   unsigned long eid)
{
	for (unsigned i = 0; i < n; i++)
		if (eid >= table[i]->eid_min && eid <= table[i]->eid_max)
			return table[i];
	return NULL;
}

/* Open addressing over single-EID extensions; legacy (a range) is checked first. */
#define SBI_INDEX_SLOTS 64

static struct {
	unsigned long eid;
	const struct sbi_ext *ext; /* NULL: a free slot, the end of a probe */
} sbi_index[SBI_INDEX_SLOTS];
/* Fibonacci hashing; kept in memory (one load) rather than built in every lookup. */
static uint64_t sbi_hash_multiplier;

static unsigned eid_slot(unsigned long eid)
{
	return (unsigned)((eid * sbi_hash_multiplier) >> 58); /* 6 bits: 64 slots */
}

void sbi_index_extensions(void)
{
	memset(sbi_index, 0, sizeof(sbi_index));
	sbi_hash_multiplier = 0x9e3779b97f4a7c15UL;
	for (unsigned i = 0; i < sbi_extension_count; i++) {
		const struct sbi_ext *e = sbi_extensions[i];
		unsigned s;

		if (e->eid_min != e->eid_max)
			continue;
		for (s = eid_slot(e->eid_min); sbi_index[s].ext; s = (s + 1) % SBI_INDEX_SLOTS)
			;
		sbi_index[s].eid = e->eid_min;
		sbi_index[s].ext = e;
	}
}

static inline const struct sbi_ext *lookup(unsigned long eid)
{
	if (eid <= SBI_EXT_LEGACY_MAX)
		return &sbi_ext_legacy;
	for (unsigned s = eid_slot(eid); sbi_index[s].ext; s = (s + 1) % SBI_INDEX_SLOTS)
		if (sbi_index[s].eid == eid)
			return sbi_index[s].ext;
	return NULL;
}

const struct sbi_ext *sbi_lookup_ext(unsigned long eid)
{
	return lookup(eid);
}

bool sbi_call_is_fast(unsigned long eid, unsigned long fid)
{
	switch (eid) {
	case SBI_EXT_BASE:
		return true;
	case SBI_EXT_IPI:
		return fid == 0;
	case SBI_EXT_TIME:
		/* With Sstc the deadline goes into vstimecmp; without, the host timer needs
		 * the scheduler. */
		return fid == 0 && cpu_features.sstc;
	default:
		return false;
	}
}

enum vcpu_action sbi_handle_ecall(struct vcpu *v)
{
	struct vcpu_arch *a = &v->arch;
	struct sbi_call call = {
	    .vcpu = v,
	    .eid = vcpu_arch_get_reg(a, REG_A7),
	    .fid = vcpu_arch_get_reg(a, REG_A6),
	    .error = SBI_ERR_NOT_SUPPORTED,
	    .action = VCPU_CONTINUE,
	};
	const struct sbi_ext *ext;

	call.args[0] = vcpu_arch_get_reg(a, REG_A0);
	call.args[1] = vcpu_arch_get_reg(a, REG_A0 + 1);
	call.args[2] = vcpu_arch_get_reg(a, REG_A0 + 2);
	call.args[3] = vcpu_arch_get_reg(a, REG_A0 + 3);
	call.args[4] = vcpu_arch_get_reg(a, REG_A0 + 4);
	call.args[5] = vcpu_arch_get_reg(a, REG_A0 + 5);
	ext = lookup(call.eid);

	if (ext)
		ext->handler(&call);
	if (call.no_return)
		return call.action;
	vcpu_arch_skip_insn(a, 4); /* ecall has no compressed form */
	vcpu_arch_set_reg(a, REG_A0, (unsigned long)call.error);
	if (!call.legacy)
		vcpu_arch_set_reg(a, REG_A1, call.value);
	return call.action;
}

long sbi_for_each_hart(struct vm *vm, unsigned long mask, unsigned long base,
		       void (*fn)(struct vcpu *target, void *ctx), void *ctx)
{
	if (base == (unsigned long)-1) {
		for (unsigned i = 0; i < vm->nvcpus; i++)
			fn(vm->vcpus[i], ctx);
		return SBI_SUCCESS;
	}
	/* Validate the whole mask first: an invalid hart means nothing is done. The
	 * loops stop at the highest set bit: most masks name one low hart. */
	unsigned top = 0;

	for (unsigned long rest = mask >> 1; rest; rest >>= 1)
		top++;
	if (mask && (base + top < base || base + top >= vm->nvcpus))
		return SBI_ERR_INVALID_PARAM;
	for (unsigned bit = 0; mask; bit++, mask >>= 1)
		if (mask & 1)
			fn(vm->vcpus[base + bit], ctx);
	return SBI_SUCCESS;
}

void *sbi_shmem(struct vcpu *v, unsigned long lo, unsigned long hi, uint64_t size)
{
	/* On RV64 the low half is the whole address: a high half puts it beyond 2^64. */
	if (hi != 0)
		return NULL;
	return vm_gpa_to_hva(v->vm, lo, size);
}

bool sbi_shmem_ok(struct vcpu *v, unsigned long lo, unsigned long hi, uint64_t size)
{
	return hi == 0 && guest_mem_contains(&v->vm->mem, lo, size);
}
