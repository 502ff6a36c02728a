/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SBI v3.0 for guests. Each extension is a table entry {EID range, name,
 * handler} in its own file under sbi/; sbi_handle_ecall() finds the entry
 * for a7 and calls it with a6 and a0..a5. Unknown EIDs and FIDs return
 * SBI_ERR_NOT_SUPPORTED; nothing a guest passes can crash Vireo.
 */
#ifndef VIREO_SBI_H
#define VIREO_SBI_H

#include <vireo/types.h>
#include <vireo/vcpu.h>

#define SBI_SUCCESS		  0
#define SBI_ERR_FAILED		  -1
#define SBI_ERR_NOT_SUPPORTED	  -2
#define SBI_ERR_INVALID_PARAM	  -3
#define SBI_ERR_DENIED		  -4
#define SBI_ERR_INVALID_ADDRESS	  -5
#define SBI_ERR_ALREADY_AVAILABLE -6
#define SBI_ERR_ALREADY_STARTED	  -7
#define SBI_ERR_ALREADY_STOPPED	  -8
#define SBI_ERR_NO_SHMEM	  -9
#define SBI_ERR_INVALID_STATE	  -10
#define SBI_ERR_BAD_RANGE	  -11
#define SBI_ERR_TIMEOUT		  -12
#define SBI_ERR_IO		  -13
#define SBI_ERR_DENIED_LOCKED	  -14

#define SBI_EXT_LEGACY_MIN 0x00
#define SBI_EXT_LEGACY_MAX 0x0f
#define SBI_EXT_BASE	   0x10
#define SBI_EXT_TIME	   0x54494D45
#define SBI_EXT_IPI	   0x735049
#define SBI_EXT_RFENCE	   0x52464E43
#define SBI_EXT_HSM	   0x48534D
#define SBI_EXT_SRST	   0x53525354
#define SBI_EXT_DBCN	   0x4442434E
#define SBI_EXT_PMU	   0x504D55
#define SBI_EXT_SUSP	   0x53555350
#define SBI_EXT_STA	   0x535441
#define SBI_EXT_SSE	   0x535345
#define SBI_EXT_FWFT	   0x46574654
#define SBI_EXT_DBTR	   0x44425452

#define SBI_SPEC_VERSION  ((3UL << 24) | 0) /* v3.0 */
#define SBI_IMPL_ID_VIREO 0x5649524FUL	    /* "VIRO": not a registered id */

/* What an extension handler gets and gives back. */
struct sbi_call {
	struct vcpu *vcpu;
	unsigned long eid, fid;
	unsigned long args[6];
	/* Results */
	long error;
	unsigned long value;
	bool legacy;	/* v0.1 calls return only a0 */
	bool no_return; /* the vCPU does not resume after the ecall (stop, reset) */
	enum vcpu_action action;
};

struct sbi_ext {
	unsigned long eid_min, eid_max;
	const char *name;
	void (*handler)(struct sbi_call *call);
};

/* The extension table (sbi/sbi.c). */
extern const struct sbi_ext *const sbi_extensions[];
extern const unsigned sbi_extension_count;

/* Find the extension for eid in a table, or NULL. Pure: host-tested. */
const struct sbi_ext *sbi_find_ext(const struct sbi_ext *const *table, unsigned n,
				   unsigned long eid);
/* The extension table as a hash by EID, built once on the boot hart before any VM (and
 * by tests): an ecall finds its extension in a step or two, whichever it is. */
void sbi_index_extensions(void);
const struct sbi_ext *sbi_lookup_ext(unsigned long eid);
/* Whether v's VM has the extension (probe_extension): most are every VM's, some only
 * some VMs' (the sandbox extension: sandbox VMs'). */
bool sbi_ext_available(const struct sbi_ext *ext, const struct vcpu *v);
/* Calls the world switch's fast path may answer (vcpu_fast_ecall): those that always
 * let the vCPU continue and need nothing from the scheduler. */
bool sbi_call_is_fast(unsigned long eid, unsigned long fid);
/* Handle the VS-mode ecall of v (registers in v->arch.gprs). */
enum vcpu_action sbi_handle_ecall(struct vcpu *v);

/* Helpers shared by the extensions. */
/* Visit each vCPU selected by (hart_mask, hart_mask_base); SBI error if one is invalid. */
long sbi_for_each_hart(struct vm *vm, unsigned long mask, unsigned long base,
		       void (*fn)(struct vcpu *target, void *ctx), void *ctx);
/* Cached values of the real hart, for BASE. */
void sbi_base_init(unsigned long mvendorid, unsigned long marchid, unsigned long mimpid);

extern const struct sbi_ext sbi_ext_base, sbi_ext_time, sbi_ext_ipi, sbi_ext_rfence, sbi_ext_hsm,
    sbi_ext_srst, sbi_ext_dbcn, sbi_ext_legacy, sbi_ext_pmu, sbi_ext_susp, sbi_ext_sta, sbi_ext_sse,
    sbi_ext_fwft, sbi_ext_dbtr, sbi_ext_sandbox;

/* Operations the extensions share with the legacy calls. */
enum sbi_fence { SBI_FENCE_I, SBI_FENCE_SFENCE_VMA, SBI_FENCE_SFENCE_VMA_ASID };
/* Ask target for a remote fence on behalf of `from` (counted for the PMU). */
void sbi_rfence_request(struct vcpu *from, struct vcpu *target, enum sbi_fence fence);
/* An IPI from `from` to target (counted for the PMU). */
void sbi_ipi_post(struct vcpu *from, struct vcpu *target);
void sbi_srst_reset(struct sbi_call *call, unsigned long type, unsigned long reason);
int sbi_console_getchar(struct vm *vm);

/*
 * Hooks core calls where the SBI extensions need to see a vCPU's life
 * (sbi/hooks.c); each runs on the hart the vCPU is on.
 */
/* v's state was just loaded on this hart: it goes onto the hart (STA, PMU). */
void sbi_vcpu_sched_in(struct vcpu *v);
/* v's state is about to be saved: it leaves the hart, runnable or not (STA, PMU). */
void sbi_vcpu_sched_out(struct vcpu *v);
/* v, not loaded on any hart, has just become runnable (a wake-up): it waits from now. */
void sbi_vcpu_ready(struct vcpu *v);
/* HSM hart_start reset v: its per-hart SBI state goes back to the reset state. */
void sbi_vcpu_hart_reset(struct vcpu *v);
/* A non-retentive resume (HSM suspend or SUSP) reset v's registers: re-apply what the
 * SBI state keeps across it (FWFT features, PMU counter access). */
void sbi_vcpu_resumed(struct vcpu *v);
struct snap_writer;
struct snap_reader;
/* Snapshots (vireo/vm_snapshot.h): a vCPU's and a VM's SBI state. Load follows the
 * vCPU's registers, finds the steal-time record in this VM's RAM again, and is
 * -VIREO_EINVAL (the state reset) when something would point outside the VM. */
void sbi_vcpu_save(struct vcpu *v, struct snap_writer *w);
int sbi_vcpu_load(struct vcpu *v, struct snap_reader *r);
void sbi_vm_save(struct vm *vm, struct snap_writer *w);
int sbi_vm_load(struct vm *vm, struct snap_reader *r);
/* VCPU_REQ_SSE, on v's way into the guest: inject the software event that may run now. */
void sbi_sse_deliver(struct vcpu *v);
/* A virtual-instruction exit on `insn`: true if it was a read of a PMU counter that
 * Vireo emulates (the result is in the guest's register and sepc moved on). */
bool sbi_pmu_emulate_counter_read(struct vcpu *v, uint32_t insn, bool from_user);

/* SBI PMU firmware events (event_idx code of type 15). */
enum sbi_pmu_fw_event {
	SBI_PMU_FW_MISALIGNED_LOAD = 0,
	SBI_PMU_FW_MISALIGNED_STORE = 1,
	SBI_PMU_FW_ACCESS_LOAD = 2,
	SBI_PMU_FW_ACCESS_STORE = 3,
	SBI_PMU_FW_ILLEGAL_INSN = 4,
	SBI_PMU_FW_SET_TIMER = 5,
	SBI_PMU_FW_IPI_SENT = 6,
	SBI_PMU_FW_IPI_RECEIVED = 7,
	SBI_PMU_FW_FENCE_I_SENT = 8,
	SBI_PMU_FW_FENCE_I_RECEIVED = 9,
	SBI_PMU_FW_SFENCE_VMA_SENT = 10,
	SBI_PMU_FW_SFENCE_VMA_RECEIVED = 11,
	SBI_PMU_FW_SFENCE_VMA_ASID_SENT = 12,
	SBI_PMU_FW_SFENCE_VMA_ASID_RECEIVED = 13,
};

/* Count one firmware event for v; any hart may count for any vCPU. */
static inline void sbi_pmu_count(struct vcpu *v, enum sbi_pmu_fw_event event)
{
	__atomic_fetch_add(&v->sbi.pmu.fw_events[event], 1, __ATOMIC_RELAXED);
}

#endif
