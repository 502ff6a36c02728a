// SPDX-License-Identifier: BSD-2-Clause
/* Per-hart structs and stacks, bringing secondary harts up through SBI HSM. */
#include <vireo/cpu.h>
#include <vireo/hart.h>
#include <vireo/log.h>
#include <vireo/panic.h>
#include <vireo/sbi_host.h>
#include <vireo/time.h>
#include "csr.h"

/* Stack 0 is the boot hart's; entry.S uses it before tp is set. */
uint8_t hart_stacks[VIREO_MAX_HARTS][HART_STACK_SIZE] __attribute__((aligned(16)));

static struct hart harts[VIREO_MAX_HARTS];
static unsigned registered_harts;
static void (*secondary_main)(struct hart *);

extern char secondary_entry[];
/* entry.S: where a hart that entered _start after the boot hart waits for its struct. */
extern volatile unsigned long late_hart_mailbox_id;
extern struct hart *volatile late_hart_mailbox_hart;

#define SBI_ERR_ALREADY_AVAILABLE (-6)
/* How long the boot hart waits for each other hart: 20000 pauses of 100 us (2 s). */
#define HART_START_PAUSE_US 100
#define HART_START_WAITS    20000

static uint64_t hart_start_pause;

/* The hart is already running (it entered _start and lost the lottery): release it. */
static void release_late_hart(struct hart *h)
{
	late_hart_mailbox_hart = h;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	late_hart_mailbox_id = h->hartid;
	for (unsigned waits = 0; waits < HART_START_WAITS; waits++) {
		if (__atomic_load_n(&h->online, __ATOMIC_ACQUIRE))
			break;
		hart_pause(hart_start_pause);
	}
	late_hart_mailbox_id = (unsigned long)-1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

unsigned hart_count(void)
{
	return registered_harts;
}

struct hart *hart_by_index(unsigned index)
{
	return index < registered_harts ? &harts[index] : NULL;
}

struct hart *hart_by_hartid(unsigned long hartid)
{
	for (unsigned i = 0; i < registered_harts; i++)
		if (harts[i].hartid == hartid)
			return &harts[i];
	return NULL;
}

struct hart *hart_register(unsigned long hartid)
{
	struct hart *h = hart_by_hartid(hartid);

	if (h)
		return h;
	if (registered_harts == VIREO_MAX_HARTS)
		return NULL;
	h = &harts[registered_harts];
	h->index = registered_harts;
	h->hartid = hartid;
	h->stack_top = (uintptr_t)&hart_stacks[h->index][HART_STACK_SIZE];
	registered_harts++;
	return h;
}

void hart_boot_init(unsigned long boot_hartid)
{
	struct hart *h = hart_register(boot_hartid);

	h->online = true;
	__asm__ volatile("mv tp, %0" ::"r"(h));
}

/* C entry of a secondary hart (from entry.S, tp and sp set). */
void hart_secondary_main(struct hart *h);
void hart_secondary_main(struct hart *h)
{
	__atomic_store_n(&h->online, true, __ATOMIC_RELEASE);
	secondary_main(h);
	hart_halt();
}

void hart_start_secondaries(void (*entry)(struct hart *))
{
	struct hart *self = this_hart();

	hart_start_pause = time_us_to_ticks(HART_START_PAUSE_US);
	secondary_main = entry;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < registered_harts; i++) {
		struct hart *h = &harts[i];
		if (h == self)
			continue;
		long err = sbi_host_hart_start(h->hartid, (unsigned long)secondary_entry,
					       (unsigned long)h);
		if (err == SBI_ERR_ALREADY_AVAILABLE)
			release_late_hart(h);
		else if (err)
			log_warn("hart %lu did not start (SBI error %ld)", h->hartid, err);
	}
	/* Wait a bounded time for them: a hart that never comes is reported, not waited on.
	 * Waiting sleeps rather than spins: under QEMU -icount a spinning hart would keep
	 * the one it waits for from ever running. */
	for (unsigned i = 0; i < registered_harts; i++) {
		for (unsigned waits = 0; waits < HART_START_WAITS; waits++) {
			if (__atomic_load_n(&harts[i].online, __ATOMIC_ACQUIRE))
				break;
			hart_pause(hart_start_pause);
		}
		if (!harts[i].online)
			log_warn("hart %lu is not online", harts[i].hartid);
	}
	hart_set_timer(UINT64_MAX);
}

void hart_request(struct hart *target, unsigned long request)
{
	__atomic_fetch_or(&target->requests, request, __ATOMIC_SEQ_CST);
	if (target != this_hart())
		sbi_host_send_ipi(1UL, target->hartid);
}

unsigned long hart_take_requests(void)
{
	return __atomic_exchange_n(&this_hart()->requests, 0, __ATOMIC_SEQ_CST);
}

long hart_guarded_probe(void (*probe)(void *arg), void *arg)
{
	struct hart *h = this_hart();
	long cause;

	h->guard_cause = (unsigned long)-1;
	__atomic_store_n(&h->guard_active, true, __ATOMIC_SEQ_CST);
	probe(arg);
	__atomic_store_n(&h->guard_active, false, __ATOMIC_SEQ_CST);
	cause = (long)h->guard_cause;
	return cause;
}

unsigned hart_pending_irqs(void)
{
	unsigned long sip = csr_read(sip);
	unsigned irqs = 0;

	if (sip & MIP_SSIP)
		irqs |= HART_IRQ_IPI;
	if (sip & MIP_STIP)
		irqs |= HART_IRQ_TIMER;
	if (sip & MIP_SEIP)
		irqs |= HART_IRQ_EXT;
	return irqs;
}

void hart_ack_ipi(void)
{
	csr_clear(sip, MIP_SSIP);
}

void hart_set_timer(uint64_t deadline)
{
	if (cpu_features.sstc)
		csr_write(stimecmp, deadline);
	else
		sbi_host_set_timer(deadline);
}

uint64_t hart_time(void)
{
	return csr_read(time);
}

void hart_wait_for_interrupt(void)
{
	unsigned long before;

	/* sstatus.SIE stays 0: wfi still wakes on an interrupt enabled in sie. */
	if (csr_read(sip) & csr_read(sie))
		return;
	/* Under QEMU's -icount, instret is the machine's clock, and it runs on while every
	 * hart waits: the waiting is kept apart (hart_waited) for benchmarks to take out. */
	if (!cpu_features.pmu_instret) {
		wfi();
		return;
	}
	before = csr_read(instret);
	wfi();
	this_hart()->waited += csr_read(instret) - before;
}

uint64_t hart_instret(void)
{
	return cpu_features.pmu_instret ? csr_read(instret) : 0;
}

uint64_t hart_waited(void)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < hart_count(); i++)
		sum += __atomic_load_n(&hart_by_index(i)->waited, __ATOMIC_RELAXED);
	return sum;
}

void hart_halt(void)
{
	for (;;)
		wfi();
}

void hart_pause(uint64_t ticks)
{
	/* A pending IPI would end the wfi at once and make this a spin; the requests it
	 * announced stay in hart->requests for the scheduler. */
	csr_clear(sip, MIP_SSIP);
	hart_set_timer(hart_time() + ticks);
	hart_wait_for_interrupt();
}

void hart_flush_gstage_tlb(void)
{
	hfence_gvma_all();
}

void hart_flush_gstage_vmid(unsigned vmid)
{
	hfence_gvma_vmid(vmid);
}
