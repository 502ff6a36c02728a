// SPDX-License-Identifier: BSD-2-Clause
/*
 * SBI FWFT (firmware features, EID 0x46574654, SBI v3.0): a guest reads and
 * sets features of its vCPU. Every feature here is local (per vCPU); the
 * values and LOCK flags are kept across a non-retentive resume and go back to
 * their reset values when the hart resets (HSM hart_start) or the VM reboots.
 *
 * What Vireo offers is what the host hart can honestly provide from HS-mode,
 * probed at boot (cpu_probe_sbi); a feature the hart cannot provide is
 * NOT_SUPPORTED for get and set alike:
 *  - MISALIGNED_EXC_DELEG (0): guests always get misaligned load/store
 *    exceptions delegated (hedeleg) -- but they only exist if M-mode
 *    delegates them to HS-mode. OpenSBI v1.1 emulates them in M-mode (and
 *    QEMU does not even raise them for plain loads), so on QEMU 7.2 this is
 *    NOT_SUPPORTED. Where they do reach HS-mode, the value is 1 and stays 1:
 *    Vireo does not emulate misaligned accesses, so setting 0 is DENIED.
 *  - LANDING_PAD (1), SHADOW_STACK (2), DOUBLE_TRAP (3): need Zicfilp,
 *    Zicfiss, Ssdbltrp, which QEMU 7.2 lacks, and state Vireo does not switch
 *    (ssp, ELP, SDT): NOT_SUPPORTED.
 *  - PTE_AD_HW_UPDATING (4): Svadu, henvcfg.ADUE for the guest's VS-stage;
 *    offered if ADUE sticks in henvcfg (M-mode must allow it in menvcfg).
 *    Values 0 (reset) and 1.
 *  - POINTER_MASKING_PMLEN (5): Ssnpm, henvcfg.PMM; offered if PMLEN 7 or 16
 *    sticks. Values 0 (reset) and the PMLENs that stick; others INVALID_PARAM.
 *
 * Errors, in the order they are checked: a reserved or platform-specific
 * feature (Vireo implements none) is DENIED; an unsupported one is
 * NOT_SUPPORTED; then flags with reserved bits or an illegal value are
 * INVALID_PARAM; a locked feature is DENIED_LOCKED (even for its own value);
 * a value Vireo cannot give is DENIED. On failure the value is 0.
 */
#include <vireo/cpu.h>
#include <vireo/vcpu_arch_sbi.h>
#include <vireo/vm.h>
#include "sbi_ext.h"

#define SBI_FWFT_SET 0
#define SBI_FWFT_GET 1

enum fwft_feature {
	FWFT_MISALIGNED_EXC_DELEG = 0,
	FWFT_LANDING_PAD = 1,
	FWFT_SHADOW_STACK = 2,
	FWFT_DOUBLE_TRAP = 3,
	FWFT_PTE_AD_HW_UPDATING = 4,
	FWFT_POINTER_MASKING_PMLEN = 5,
};

#define FWFT_SET_FLAG_LOCK BIT(0)

_Static_assert(FWFT_POINTER_MASKING_PMLEN < SBI_FWFT_LOCAL_FEATURES, "FWFT state size");

/* The standard features 0..5; everything else (reserved and platform ranges, local and
 * global) is unimplemented. */
static bool feature_defined(uint32_t feature)
{
	return feature <= FWFT_POINTER_MASKING_PMLEN;
}

static bool feature_supported(uint32_t feature)
{
	switch (feature) {
	case FWFT_MISALIGNED_EXC_DELEG:
		return cpu_features.fwft_misaligned_deleg;
	case FWFT_PTE_AD_HW_UPDATING:
		return cpu_features.fwft_svadu;
	case FWFT_POINTER_MASKING_PMLEN:
		return cpu_features.fwft_pmlen7 || cpu_features.fwft_pmlen16;
	default:
		return false;
	}
}

/* A value the feature defines and this hart can hold. */
static bool value_valid(uint32_t feature, unsigned long value)
{
	switch (feature) {
	case FWFT_POINTER_MASKING_PMLEN:
		return value == 0 || (value == 7 && cpu_features.fwft_pmlen7) ||
		       (value == 16 && cpu_features.fwft_pmlen16);
	default:
		return value <= 1;
	}
}

static unsigned long feature_value(struct vcpu *v, uint32_t feature)
{
	if (feature == FWFT_MISALIGNED_EXC_DELEG)
		return 1; /* always delegated (hedeleg) */
	return v->sbi.fwft.value[feature];
}

/* Put a feature's value into the vCPU's hart configuration. */
static void apply(struct vcpu *v, uint32_t feature, bool loaded)
{
	unsigned long value = v->sbi.fwft.value[feature];

	if (feature == FWFT_PTE_AD_HW_UPDATING)
		vcpu_arch_set_pte_ad_hw(&v->arch, value != 0, loaded);
	else if (feature == FWFT_POINTER_MASKING_PMLEN)
		vcpu_arch_set_pointer_masking(&v->arch, (unsigned)value, loaded);
}

/* DENIED / NOT_SUPPORTED for a feature that cannot be read or set, else SUCCESS. */
static long check_feature(uint32_t feature)
{
	if (!feature_defined(feature))
		return SBI_ERR_DENIED;
	if (!feature_supported(feature))
		return SBI_ERR_NOT_SUPPORTED;
	return SBI_SUCCESS;
}

static void fwft_set(struct sbi_call *call)
{
	struct sbi_fwft_vcpu *f = &call->vcpu->sbi.fwft;
	uint32_t feature = (uint32_t)call->args[0]; /* uint32_t in the specification */
	unsigned long value = call->args[1], flags = call->args[2];

	call->error = check_feature(feature);
	if (call->error)
		return;
	if ((flags & ~FWFT_SET_FLAG_LOCK) || !value_valid(feature, value)) {
		call->error = SBI_ERR_INVALID_PARAM;
		return;
	}
	if (f->locked & BIT(feature)) {
		call->error = SBI_ERR_DENIED_LOCKED;
		return;
	}
	if (value != feature_value(call->vcpu, feature)) {
		if (feature == FWFT_MISALIGNED_EXC_DELEG) {
			/* Taking delegation back would need Vireo to emulate them. */
			call->error = SBI_ERR_DENIED;
			return;
		}
		f->value[feature] = value;
		apply(call->vcpu, feature, true);
	}
	if (flags & FWFT_SET_FLAG_LOCK)
		f->locked |= BIT(feature);
	call->error = SBI_SUCCESS;
}

static void fwft_get(struct sbi_call *call)
{
	uint32_t feature = (uint32_t)call->args[0];

	call->value = 0;
	call->error = check_feature(feature);
	if (!call->error)
		call->value = feature_value(call->vcpu, feature);
}

void sbi_fwft_reset(struct vcpu *v)
{
	/* The hart reset already put the hart configuration back (vcpu_arch_reset). */
	v->sbi.fwft = (struct sbi_fwft_vcpu){0};
}

void sbi_fwft_resumed(struct vcpu *v)
{
	/* The resume reset the hart configuration; the feature values survive it. The
	 * vCPU is loaded (it resumes on its hart) or not: apply to both copies. */
	for (uint32_t feature = 0; feature < SBI_FWFT_LOCAL_FEATURES; feature++)
		if (feature_supported(feature))
			apply(v, feature, vcpu_is_loaded(v));
}

static void fwft_handler(struct sbi_call *call)
{
	switch (call->fid) {
	case SBI_FWFT_SET:
		fwft_set(call);
		break;
	case SBI_FWFT_GET:
		fwft_get(call);
		break;
	default:
		break;
	}
}

const struct sbi_ext sbi_ext_fwft = {SBI_EXT_FWFT, SBI_EXT_FWFT, "fwft", fwft_handler};
