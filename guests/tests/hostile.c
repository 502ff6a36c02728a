// SPDX-License-Identifier: BSD-2-Clause
/*
 * hostile: a guest that behaves like a broken or malicious kernel, to show
 * that it can disturb neither the hypervisor nor the other VMs. It runs in
 * phases, each announced by "hostile: phase <name>" and closed by summaries:
 *
 *   ram     fill all guest RAM but the image with a pattern, reading it first
 *   mmio    garbage into every register of the virtual PLIC, UART and test device,
 *           then a UART interrupt must still arrive
 *   masked  spin with interrupts masked while an IPI and a timer are pending
 *   ipi     flood IPIs and remote fences at itself and the other vCPUs
 *   sbi     random SBI calls (minus the ones that end or park the caller)
 *   churn   masked + ipi again and again until the time is up
 *   verify  the pattern of phase ram is still there: nobody wrote our RAM
 *
 * The other vCPUs of the DT are started through HSM and join masked, ipi,
 * sbi and churn. bootargs: "seconds=N" (run time, default 20) and
 * "overrun=1" (end by reading past RAM instead of shutting down: the VM must
 * then be stopped by the hypervisor). Exit status 0, or 1 if RAM was corrupted.
 */
#include "fdt.h"
#include "fdt_chosen.h"
#include "fdt_probe.h"
#include "guest.h"
#include "sbi_v2.h"
#include <vireo/printf.h>

const char guest_name[] = "hostile";

#define DEFAULT_SECONDS	    20
#define DEFAULT_TIMEBASE_HZ 10000000 /* QEMU virt, if the DTB does not say */
#define STACK_SIZE	    (16 * KIB)
#define HART_WAIT_MS	    5000 /* for a vCPU to come up or to finish a phase */
#define DELIVER_WAIT_MS	    200	 /* for pending interrupts to arrive once unmasked */
#define CHURN_SLICE_MS	    400	 /* longest masked or flooding stretch in churn */
#define MIN_PHASE_MS	    100
#define CONSOLE_BUDGET	    24 /* garbage console bytes a hart may print per phase */
#define MAX_REPORTED	    4  /* RAM mismatches printed in full */

/* PLIC register map (riscv-plic-1.0.0), and the most contexts its layout can hold. */
#define PLIC_PENDING	    0x1000UL
#define PLIC_RESERVED1	    0x1080UL
#define PLIC_ENABLE	    0x2000UL
#define PLIC_ENABLE_STRIDE  0x80UL
#define PLIC_CONTEXT	    0x200000UL
#define PLIC_CONTEXT_STRIDE 0x1000UL
#define PLIC_CLAIM	    4UL
#define PLIC_MAX_CONTEXTS   15872UL
#define PLIC_SOURCES	    1024UL /* ids the layout has room for; VM_PLIC_NUM_SOURCES are real */

/* 16550 registers and the bits the garbage generator tracks. */
#define UART_THR      0
#define UART_IER      1
#define UART_FCR      2
#define UART_LCR      3
#define UART_MCR      4
#define UART_LSR      5
#define UART_NUM_REGS 8
#define UART_LCR_DLAB 0x80
#define UART_MCR_LOOP 0x10
#define UART_LSR_DR   0x01
#define UART_IER_THRI 0x02

/* Extensions Vireo may lack: their calls must fail cleanly. SUSP would park the whole VM. */
#define SBI_EXT_SUSP	    0x53555350
#define SBI_EXT_PMU	    0x504D55
#define SBI_EXT_CPPC	    0x43505043
#define SBI_EXT_NACL	    0x4E41434C
#define SBI_EXT_STA	    0x535441
#define SBI_EXT_SSE	    0x535345
#define SBI_EXT_FWFT	    0x46574654
#define SBI_EXT_DBTR	    0x44425452
#define SBI_EXT_VENDOR	    0x09000000
#define SBI_EXT_FIRMWARE    0x0A000000
#define SBI_EXT_LEGACY_LAST 0x0f
#define SBI_ERR_LOWEST	    (-14) /* SBI_ERR_DENIED_LOCKED, the last code SBI v3.0 defines */
#define SBI_STA_SET_SHMEM   0
#define SBI_SSE_READ_ATTRS  0
#define SBI_SSE_REGISTER    2
#define SBI_PMU_EVENT_INFO  8
#define SIE_SEIE	    (1UL << 9)
#define IRQ_S_EXT	    9
#define UINT64_MAX_DEADLINE (~0UL)

enum phase_id { PHASE_MASKED, PHASE_IPI, PHASE_SBI, PHASE_CHURN, PHASE_EXIT };

struct masked_stats {
	unsigned long rounds, lost; /* lost: pending interrupts not taken after unmasking */
	uint64_t masked_ticks;
	unsigned long sip_seen; /* sip while masked, OR-ed over the rounds */
	uint64_t worst_ticks;	/* longest wait for both interrupts after unmasking */
};

struct ipi_stats {
	unsigned long calls, failed;
	long last_error;
};

struct sbi_stats {
	unsigned long calls, skipped;
	unsigned long by_code[1 - SBI_ERR_LOWEST]; /* by_code[n]: error -n */
	unsigned long odd;			   /* codes outside the specification */
	long odd_code;
	unsigned long odd_eid, odd_fid;
};

struct hart {
	unsigned long hartid;
	struct hart_boot boot;
	uint64_t rng;
	volatile bool up;
	volatile unsigned int done_seq; /* last phase this hart finished */
	unsigned int console_left;	/* garbage console bytes still allowed this phase */
	/* Interrupts taken, counted by the trap hook. */
	volatile unsigned long soft, timer, ext, ext_spurious;
	struct masked_stats masked;
	struct ipi_stats ipi;
	struct sbi_stats sbi;
	/*
	 * Access faults while probing: plain QEMU's firmware RAM is PMP-protected and
	 * its PLIC is smaller. Under Vireo there must be none (it stops the VM instead).
	 */
	volatile bool probing, faulted;
	volatile unsigned long faults;
	/* A legacy call's garbage hart mask: SBI v3.0 gives the guest the fault the SBI took
	 * reading it, with sepc at the ecall. */
	volatile bool in_legacy_call;
	volatile unsigned long legacy_faults;
	/* Where a garbage steal-time record may point: ours, not some random RAM. */
	uint8_t sta_record[64] __attribute__((aligned(64)));
};

extern char __image_start[], __image_end[];

static struct fdt_cpus cpus;
static struct hart harts[FDT_MAX_CPUS];
static uint8_t stacks[FDT_MAX_CPUS][STACK_SIZE] __attribute__((aligned(16)));
static unsigned int boot_index;
static unsigned long all_mask; /* harts 0..63 of the VM, base 0 */
static uint64_t ram_base, ram_end, hz;
static bool has_testdev;

/* The boot hart publishes a phase by bumping phase_seq after setting the rest. */
static volatile unsigned int phase_seq;
static volatile enum phase_id phase_id;
static volatile uint64_t phase_end;

/* Scratch for SBI calls that write guest memory (DBCN read). */
static uint8_t sbi_scratch[64] __attribute__((aligned(16)));
static const char sbi_text[] = "~hostile~";

/* ------------------------------------------------------------ helpers */

static uint64_t now(void)
{
	return csr_read(time);
}

static uint64_t ms_to_ticks(uint64_t ms)
{
	return ms * hz / 1000;
}

static uint64_t ticks_to_ms(uint64_t ticks)
{
	return ticks * 1000 / hz;
}

/* xorshift64: small, fast and good enough to make garbage. */
static uint64_t rnd(struct hart *h)
{
	uint64_t x = h->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	h->rng = x;
	return x;
}

static unsigned long rnd_below(struct hart *h, unsigned long n)
{
	return (unsigned long)(rnd(h) % n);
}

static struct hart *self(void)
{
	unsigned long id = current_hartid();

	for (unsigned int i = 0; i < cpus.count; i++)
		if (harts[i].hartid == id)
			return &harts[i];
	return &harts[boot_index];
}

static bool wait_until(volatile bool *flag, uint64_t ms)
{
	uint64_t end = now() + ms_to_ticks(ms);

	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		if (now() > end)
			return false;
		cpu_relax();
	}
	return true;
}

static char printable(uint64_t r)
{
	return (char)('a' + r % 26);
}

/* "key=N" anywhere in the bootargs, as a whole word; def if absent or not a number. */
static unsigned long bootarg_ulong(const char *args, const char *key, unsigned long def)
{
	size_t klen = strlen(key);

	for (const char *p = args; p && *p; p++) {
		if ((p != args && p[-1] != ' ') || memcmp(p, key, klen) != 0 || p[klen] != '=')
			continue;
		unsigned long v = 0;
		const char *d = p + klen + 1;

		if (*d < '0' || *d > '9')
			return def;
		while (*d >= '0' && *d <= '9')
			v = v * 10 + (unsigned long)(*d++ - '0');
		return v;
	}
	return def;
}

/* ------------------------------------------------------------ interrupts */

static volatile uint32_t *plic_reg(unsigned long off)
{
	return (volatile uint32_t *)(VM_PLIC_BASE + off);
}

static unsigned long s_context(unsigned long hartid)
{
	return 2 * hartid + 1; /* <&intc 11 &intc 9> per hart: S-mode is the odd one */
}

/*
 * Claim, complete, then disable the source for this hart: garbage in phase
 * mmio may leave a level-triggered source (the UART's THRE) enabled, and
 * completing it without masking it would interrupt again at once, forever.
 * Completion must come first: the PLIC ignores it for a disabled source.
 */
static void take_external(struct hart *h)
{
	unsigned long ctx = s_context(h->hartid);
	volatile uint32_t *claim = plic_reg(PLIC_CONTEXT + ctx * PLIC_CONTEXT_STRIDE + PLIC_CLAIM);
	uint32_t id = *claim;

	if (!id || id >= PLIC_SOURCES) {
		h->ext_spurious = h->ext_spurious + 1;
		return;
	}
	*claim = id;
	*plic_reg(PLIC_ENABLE + ctx * PLIC_ENABLE_STRIDE + id / 32 * 4) &= ~(1U << (id % 32));
	h->ext = h->ext + 1;
}

/* RAM probes of phase ram may fault under plain QEMU: skip the instruction, flag it. */
static bool probe_fault(struct hart *h, struct trap_frame *tf)
{
	if (!h->probing || (tf->scause != CAUSE_LOAD_ACCESS && tf->scause != CAUSE_STORE_ACCESS))
		return false;
	h->faulted = true;
	h->faults = h->faults + 1;
	tf->sepc += insn_length_at(tf->sepc);
	return true;
}

static bool trap_hook(struct trap_frame *tf)
{
	struct hart *h = self();

	switch (tf->scause) {
	case CAUSE_INTERRUPT | IRQ_S_SOFT:
		csr_clear(sip, SIP_SSIP);
		h->soft = h->soft + 1;
		return true;
	case CAUSE_INTERRUPT | IRQ_S_TIMER:
		/* Garbage set_timer calls may arm it anywhere: push it out of the way. */
		sbi_set_timer(UINT64_MAX_DEADLINE);
		h->timer = h->timer + 1;
		return true;
	case CAUSE_INTERRUPT | IRQ_S_EXT:
		take_external(h);
		return true;
	case CAUSE_LOAD_ACCESS:
	case CAUSE_LOAD_PAGE_FAULT:
		if (h->in_legacy_call) {
			h->legacy_faults = h->legacy_faults + 1;
			tf->sepc += 4; /* the ecall */
			return true;
		}
		return probe_fault(h, tf);
	default:
		return probe_fault(h, tf);
	}
}

static void hart_setup(struct hart *h)
{
	h->rng = now() ^ ((h->hartid + 1) * 0x9e3779b97f4a7c15UL);
	if (!h->rng)
		h->rng = 1;
	sbi_set_timer(UINT64_MAX_DEADLINE);
	csr_set(sie, SIE_SSIE | SIE_STIE | SIE_SEIE);
	csr_set(sstatus, SSTATUS_SIE);
}

/* ------------------------------------------------------------ phase ram */

struct ram_stats {
	uint64_t bytes, skipped_pages, mismatches;
	uint64_t read_xor;
};

static uint64_t ram_pattern(uintptr_t addr)
{
	return (addr * 0x9e3779b97f4a7c15UL) ^ 0x686f7374696c6521UL;
}

/* Whether the page can be read and written; under Vireo every page of RAM must be. */
static bool page_usable(struct hart *h, volatile uint64_t *p)
{
	uint64_t v;

	h->faulted = false;
	h->probing = true;
	v = *p;
	*p = v;
	h->probing = false;
	return !h->faulted;
}

static void fill_range(struct hart *h, uintptr_t start, uintptr_t end, struct ram_stats *st)
{
	for (uintptr_t page = start; page < end; page += PAGE_SIZE) {
		volatile uint64_t *p = (volatile uint64_t *)page;

		if (!page_usable(h, p)) {
			st->skipped_pages++;
			continue;
		}
		for (unsigned int i = 0; i < PAGE_SIZE / 8; i++) {
			st->read_xor ^= p[i];
			p[i] = ram_pattern(page + 8 * i);
		}
		st->bytes += PAGE_SIZE;
	}
}

static void check_range(struct hart *h, uintptr_t start, uintptr_t end, struct ram_stats *st)
{
	for (uintptr_t page = start; page < end; page += PAGE_SIZE) {
		volatile uint64_t *p = (volatile uint64_t *)page;

		if (!page_usable(h, p))
			continue;
		for (unsigned int i = 0; i < PAGE_SIZE / 8; i++) {
			uint64_t want = ram_pattern(page + 8 * i), got = p[i];

			if (got == want)
				continue;
			if (st->mismatches++ < MAX_REPORTED)
				printf("hostile: RAM at 0x%lx: expected 0x%lx, got 0x%lx\n",
				       page + 8 * i, want, got);
		}
		st->bytes += PAGE_SIZE;
	}
}

typedef void (*range_fn)(struct hart *h, uintptr_t start, uintptr_t end, struct ram_stats *st);

/* All of RAM except our own image (code, data, .bss with every stack). */
static void for_ram(struct hart *h, range_fn fn, struct ram_stats *st)
{
	uintptr_t image_start = (uintptr_t)__image_start & ~(PAGE_SIZE - 1);
	uintptr_t image_end = ((uintptr_t)__image_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);

	fn(h, ram_base, image_start, st);
	fn(h, image_end, ram_end, st);
}

/* Returns the mismatches; *check_ticks is how long one check of all RAM took. */
static uint64_t phase_ram(struct hart *h, uint64_t *check_ticks)
{
	struct ram_stats fill = {0}, check = {0};
	uint64_t t0 = now(), t1, t2;

	printf("hostile: phase ram\n");
	for_ram(h, fill_range, &fill);
	t1 = now();
	for_ram(h, check_range, &check);
	t2 = now();
	printf("hostile: ram: wrote %lu MiB in %lu ms (read xor 0x%lx), checked in %lu ms: "
	       "%lu mismatches, %lu pages not accessible\n",
	       fill.bytes / MIB, ticks_to_ms(t1 - t0), fill.read_xor, ticks_to_ms(t2 - t1),
	       check.mismatches, fill.skipped_pages);
	*check_ticks = t2 - t1;
	return check.mismatches;
}

/* The RAM still holds the pattern: no other VM, and not the hypervisor, wrote to it. */
static uint64_t phase_verify(struct hart *h)
{
	struct ram_stats check = {0};
	uint64_t t0 = now();

	printf("hostile: phase verify\n");
	for_ram(h, check_range, &check);
	printf("hostile: verify: %lu MiB checked in %lu ms, %lu mismatches\n", check.bytes / MIB,
	       ticks_to_ms(now() - t0), check.mismatches);
	return check.mismatches;
}

/* ------------------------------------------------------------ phase mmio: PLIC */

/* Read, write garbage, read again: every register sees both directions. */
static void plic_poke(struct hart *h, unsigned long off, unsigned long *count)
{
	volatile uint32_t *r = plic_reg(off);

	(void)*r;
	*r = (uint32_t)rnd(h);
	(void)*r;
	*count += 3;
}

static void plic_garbage_ids(struct hart *h, unsigned long ctx, unsigned long *count)
{
	static const uint32_t ids[] = {0,
				       1,
				       VM_PLIC_NUM_SOURCES - 1,
				       VM_PLIC_NUM_SOURCES,
				       PLIC_SOURCES - 1,
				       PLIC_SOURCES,
				       0x80000000U,
				       0xffffffffU};
	volatile uint32_t *claim = plic_reg(PLIC_CONTEXT + ctx * PLIC_CONTEXT_STRIDE + PLIC_CLAIM);

	for (unsigned int i = 0; i < ARRAY_SIZE(ids); i++) {
		(void)*claim;
		*claim = ids[i];
	}
	*claim = (uint32_t)rnd(h);
	*count += 2 * ARRAY_SIZE(ids) + 1;
}

/* Threshold, claim/complete with garbage ids and reserved words of one context. */
static void plic_context(struct hart *h, unsigned long ctx, unsigned long *count)
{
	unsigned long base = PLIC_CONTEXT + ctx * PLIC_CONTEXT_STRIDE;

	plic_poke(h, base, count);
	plic_garbage_ids(h, ctx, count);
	plic_poke(h, base + 8, count);
	plic_poke(h, base + PLIC_CONTEXT_STRIDE - 4, count);
	plic_poke(h, base + 8 + rnd_below(h, PLIC_CONTEXT_STRIDE / 4 - 3) * 4, count);
}

static void plic_enables(struct hart *h, unsigned long ctx, unsigned long *count)
{
	for (unsigned long w = 0; w < PLIC_ENABLE_STRIDE / 4; w++)
		plic_poke(h, PLIC_ENABLE + ctx * PLIC_ENABLE_STRIDE + 4 * w, count);
}

/* Aligned words anywhere in [start, end). */
static void plic_sample(struct hart *h, unsigned long start, unsigned long end, unsigned int n,
			unsigned long *count)
{
	for (unsigned int i = 0; i < n; i++)
		plic_poke(h, start + rnd_below(h, (end - start) / 4) * 4, count);
}

/* Leave the PLIC quiet: nothing enabled, nothing in service, priorities 0. */
static void plic_restore(unsigned long vm_contexts)
{
	for (unsigned long ctx = 0; ctx < vm_contexts; ctx++) {
		volatile uint32_t *claim =
		    plic_reg(PLIC_CONTEXT + ctx * PLIC_CONTEXT_STRIDE + PLIC_CLAIM);

		for (unsigned long w = 0; w < PLIC_ENABLE_STRIDE / 4; w++)
			*plic_reg(PLIC_ENABLE + ctx * PLIC_ENABLE_STRIDE + 4 * w) = ~0U;
		for (uint32_t id = 1; id < VM_PLIC_NUM_SOURCES; id++)
			*claim = id; /* completes anything left in service */
		for (unsigned long w = 0; w < PLIC_ENABLE_STRIDE / 4; w++)
			*plic_reg(PLIC_ENABLE + ctx * PLIC_ENABLE_STRIDE + 4 * w) = 0;
		*plic_reg(PLIC_CONTEXT + ctx * PLIC_CONTEXT_STRIDE) = 0;
	}
	for (unsigned long id = 0; id < PLIC_SOURCES; id++)
		*plic_reg(4 * id) = 0;
}

static unsigned long mmio_plic(struct hart *h)
{
	unsigned long vm_contexts = 2 * cpus.count, count = 0;
	unsigned long enables_end = PLIC_ENABLE + PLIC_MAX_CONTEXTS * PLIC_ENABLE_STRIDE;

	for (unsigned long off = 0; off < PLIC_RESERVED1; off += 4)
		plic_poke(h, off, &count); /* priorities and pending bits */
	plic_sample(h, PLIC_RESERVED1, PLIC_ENABLE, 128, &count);
	/* Every context of the VM, other harts' and M-mode ones included, and a few more. */
	for (unsigned long ctx = 0; ctx < vm_contexts + 4; ctx++) {
		plic_enables(h, ctx, &count);
		plic_context(h, ctx, &count);
	}
	for (unsigned int i = 0; i < 256; i++) {
		unsigned long ctx = rnd_below(h, PLIC_MAX_CONTEXTS);

		plic_poke(h, PLIC_ENABLE + ctx * PLIC_ENABLE_STRIDE + rnd_below(h, 32) * 4, &count);
		plic_context(h, ctx, &count);
	}
	plic_sample(h, enables_end, PLIC_CONTEXT, 128, &count);
	plic_sample(h, 0, VM_PLIC_SIZE, 2048, &count);
	plic_restore(vm_contexts);
	return count;
}

/* ------------------------------------------------------------ phase mmio: UART */

struct uart_shadow {
	uint8_t lcr, mcr;
	unsigned int printed; /* garbage characters that reached the console */
};

static volatile uint8_t *uart_reg(unsigned long off)
{
	return (volatile uint8_t *)(VM_UART_BASE + off);
}

/*
 * A random value into a random register. A THR write outside loopback and
 * DLAB reaches the console: those become printable letters, a few only, so
 * that the log stays readable.
 */
static void uart_write(struct hart *h, struct uart_shadow *s, unsigned int reg, uint8_t val)
{
	bool to_console = reg == UART_THR && !(s->lcr & UART_LCR_DLAB) && !(s->mcr & UART_MCR_LOOP);

	if (to_console) {
		if (s->printed >= CONSOLE_BUDGET)
			return;
		val = (uint8_t)printable(rnd(h));
		s->printed++;
	}
	if (reg == UART_LCR)
		s->lcr = val;
	else if (reg == UART_MCR)
		s->mcr = val;
	*uart_reg(reg) = val;
}

/* Loopback on, more bytes than the FIFO holds (an overrun), then read them all back. */
static void uart_loopback_burst(struct hart *h, struct uart_shadow *s, unsigned long *count)
{
	uart_write(h, s, UART_LCR, 0x03);
	uart_write(h, s, UART_FCR, (uint8_t)(rnd(h) | 1));
	uart_write(h, s, UART_MCR, (uint8_t)(UART_MCR_LOOP | rnd(h)));
	for (unsigned int i = 0; i < 40; i++)
		uart_write(h, s, UART_THR, (uint8_t)rnd(h));
	for (unsigned int i = 0; i < 48; i++) {
		(void)*uart_reg(UART_LSR);
		(void)*uart_reg(UART_THR);
	}
	*count += 3 + 40 + 96;
}

/* DLAB on: THR and IER become the divisor latch. */
static void uart_dlab_burst(struct hart *h, struct uart_shadow *s, unsigned long *count)
{
	uart_write(h, s, UART_LCR, (uint8_t)(UART_LCR_DLAB | rnd(h)));
	for (unsigned int i = 0; i < 16; i++) {
		uart_write(h, s, rnd_below(h, 2), (uint8_t)rnd(h));
		(void)*uart_reg(rnd_below(h, 2));
	}
	*count += 33;
}

static void uart_restore(struct uart_shadow *s)
{
	*uart_reg(UART_IER) = 0;
	*uart_reg(UART_LCR) = 0x03; /* 8N1, DLAB off */
	*uart_reg(UART_MCR) = 0;
	*uart_reg(UART_FCR) = 0x07; /* FIFOs on and cleared */
	for (unsigned int i = 0; i < 64 && (*uart_reg(UART_LSR) & UART_LSR_DR); i++)
		(void)*uart_reg(UART_THR);
	s->lcr = 0x03;
	s->mcr = 0;
}

static unsigned long mmio_uart(struct hart *h)
{
	struct uart_shadow s = {.lcr = *uart_reg(UART_LCR), .mcr = *uart_reg(UART_MCR)};
	unsigned long count = 2;

	for (unsigned int i = 0; i < 2048; i++) {
		unsigned int reg = (unsigned int)rnd_below(h, UART_NUM_REGS);

		if (rnd(h) & 1)
			(void)*uart_reg(reg);
		else
			uart_write(h, &s, reg, (uint8_t)rnd(h));
		count++;
		if (i % 256 == 0)
			uart_loopback_burst(h, &s, &count);
		if (i % 256 == 128)
			uart_dlab_burst(h, &s, &count);
	}
	/* Past the eight registers, inside the UART's range. */
	for (unsigned int i = 0; i < 256; i++) {
		unsigned long off = UART_NUM_REGS + rnd_below(h, VM_UART_SIZE - UART_NUM_REGS);

		(void)*uart_reg(off);
		*uart_reg(off) = (uint8_t)rnd(h);
		count += 2;
	}
	uart_restore(&s);
	if (s.printed)
		printf("\n"); /* end the line of garbage letters */
	return count;
}

/* ------------------------------------------------------------ phase mmio: test device */

static uint64_t testdev_count(void)
{
	return *(volatile uint64_t *)(VM_TESTDEV_BASE + TESTDEV_ACCESS_COUNT);
}

static void mmio_read(uintptr_t a, unsigned int width)
{
	if (width == 1)
		(void)*(volatile uint8_t *)a;
	else if (width == 2)
		(void)*(volatile uint16_t *)a;
	else if (width == 4)
		(void)*(volatile uint32_t *)a;
	else
		(void)*(volatile uint64_t *)a;
}

static void mmio_write(uintptr_t a, unsigned int width, uint64_t v)
{
	if (width == 1)
		*(volatile uint8_t *)a = (uint8_t)v;
	else if (width == 2)
		*(volatile uint16_t *)a = (uint16_t)v;
	else if (width == 4)
		*(volatile uint32_t *)a = (uint32_t)v;
	else
		*(volatile uint64_t *)a = v;
}

/* Any naturally aligned width anywhere in the range; only the data bytes count accesses. */
static void testdev_poke(struct hart *h, unsigned long *data_accesses)
{
	unsigned int width = 1U << rnd_below(h, 4);
	unsigned long off = rnd_below(h, VM_TESTDEV_SIZE) & ~(unsigned long)(width - 1);

	if (off + width <= TESTDEV_DATA_SIZE)
		(*data_accesses)++;
	if (rnd(h) & 1)
		mmio_write(VM_TESTDEV_BASE + off, width, rnd(h));
	else
		mmio_read(VM_TESTDEV_BASE + off, width);
}

static void mmio_testdev(struct hart *h)
{
	unsigned long data_accesses = 0;
	uint64_t before = testdev_count(), counted;

	for (unsigned int i = 0; i < 4096; i++)
		testdev_poke(h, &data_accesses);
	counted = testdev_count() - before;
	printf("hostile: mmio: test device: 4096 accesses, %lu to data, device counted %lu%s\n",
	       data_accesses, counted, counted == data_accesses ? "" : " (MISMATCH)");
}

/* After the garbage the external interrupt path must still work: the UART's THRE, once. */
static void mmio_external_check(struct hart *h)
{
	unsigned long ctx = s_context(h->hartid), ext0 = h->ext;
	uint64_t end = now() + ms_to_ticks(DELIVER_WAIT_MS);

	*plic_reg(4 * VM_UART_IRQ) = 1;
	*plic_reg(PLIC_ENABLE + ctx * PLIC_ENABLE_STRIDE + VM_UART_IRQ / 32 * 4) =
	    1U << (VM_UART_IRQ % 32);
	*uart_reg(UART_IER) = UART_IER_THRI;
	while (h->ext == ext0 && now() < end)
		cpu_relax();
	*uart_reg(UART_IER) = 0;
	*plic_reg(4 * VM_UART_IRQ) = 0;
	printf("hostile: mmio: UART interrupt after the garbage: %s\n",
	       h->ext != ext0 ? "taken" : "NOT TAKEN");
}

static void phase_mmio(struct hart *h)
{
	uint64_t t0 = now();
	unsigned long plic, uart;

	printf("hostile: phase mmio\n");
	h->faults = 0;
	h->probing = true;
	plic = mmio_plic(h);
	uart = mmio_uart(h);
	h->probing = false;
	printf("hostile: mmio: %lu PLIC accesses, %lu UART accesses in %lu ms, %lu faulted\n", plic,
	       uart, ticks_to_ms(now() - t0), h->faults);
	mmio_external_check(h);
	if (has_testdev)
		mmio_testdev(h);
	else
		printf("hostile: mmio: no test device in the DT\n");
}

/* ------------------------------------------------------------ phase masked */

/* Wait with interrupts on until both counters moved, or give up. */
static bool delivered(struct hart *h, unsigned long soft0, unsigned long timer0)
{
	uint64_t end = now() + ms_to_ticks(DELIVER_WAIT_MS);

	while (h->soft == soft0 || h->timer == timer0) {
		if (now() > end)
			return false;
		cpu_relax();
	}
	return true;
}

/* SIE off for the whole stretch, with a timer and an IPI pending from its start. */
static void masked_once(struct hart *h, uint64_t end)
{
	unsigned long soft0 = h->soft, timer0 = h->timer;
	uint64_t t0;

	csr_clear(sstatus, SSTATUS_SIE);
	t0 = now();
	sbi_set_timer(t0);
	sbi_send_ipi(1, h->hartid);
	while (now() < end)
		cpu_relax();
	h->masked.sip_seen |= csr_read(sip);
	h->masked.masked_ticks += now() - t0;
	t0 = now();
	csr_set(sstatus, SSTATUS_SIE);
	if (!delivered(h, soft0, timer0))
		h->masked.lost++;
	h->masked.worst_ticks = MAX(h->masked.worst_ticks, now() - t0);
	h->masked.rounds++;
}

/* ------------------------------------------------------------ phase ipi */

static void ipi_count(struct hart *h, struct sbiret ret)
{
	h->ipi.calls++;
	if (ret.error) {
		h->ipi.failed++;
		h->ipi.last_error = ret.error;
	}
}

static struct sbiret rfence(unsigned long fid, unsigned long mask, unsigned long base,
			    unsigned long start, unsigned long size, unsigned long asid)
{
	return sbi_call(SBI_EXT_RFENCE, fid, mask, base, start, size, asid, 0);
}

/* One round of every kind of IPI and remote fence, at itself and at everyone. */
static void ipi_round(struct hart *h)
{
	unsigned long any = rnd(h);

	ipi_count(h, sbi_send_ipi(1, h->hartid));
	ipi_count(h, sbi_send_ipi(all_mask, 0));
	ipi_count(h, sbi_send_ipi(0, (unsigned long)-1));
	ipi_count(h, rfence(SBI_RFENCE_FENCE_I, all_mask, 0, 0, 0, 0));
	ipi_count(h, rfence(SBI_RFENCE_SFENCE_VMA, 0, (unsigned long)-1, 0, (unsigned long)-1, 0));
	ipi_count(h, rfence(SBI_RFENCE_SFENCE_VMA, all_mask, 0, any & ~0xfffUL, PAGE_SIZE, 0));
	ipi_count(h, rfence(SBI_RFENCE_SFENCE_VMA_ASID, 1, h->hartid, any, any >> 20, any >> 48));
}

static void ipi_flood(struct hart *h, uint64_t end)
{
	while (now() < end)
		ipi_round(h);
}

/* ------------------------------------------------------------ phase sbi */

static bool eid_is(unsigned long eid, unsigned long want)
{
	/* Compare the low 32 bits too, in case an SBI ignores the upper half of a7. */
	return eid == want || (uint32_t)eid == want;
}

static unsigned long garbage_eid(struct hart *h)
{
	static const unsigned long eids[] = {
	    SBI_EXT_BASE,
	    SBI_EXT_TIME,
	    SBI_EXT_IPI,
	    SBI_EXT_RFENCE,
	    SBI_EXT_HSM,
	    SBI_EXT_DBCN,
	    SBI_EXT_SRST,
	    SBI_EXT_SUSP,
	    SBI_EXT_PMU,
	    SBI_EXT_CPPC,
	    SBI_EXT_NACL,
	    SBI_EXT_STA,
	    SBI_EXT_SSE,
	    SBI_EXT_FWFT,
	    SBI_EXT_DBTR,
	    SBI_EXT_VENDOR,
	    SBI_EXT_FIRMWARE,
	    SBI_EXT_LEGACY_PUTCHAR,
	    SBI_LEGACY_SEND_IPI,
	    0x09,
	    0x0f,
	};

	switch (rnd_below(h, 8)) {
	case 0:
		return (uint32_t)rnd(h);
	case 1:
		return rnd(h);
	case 2:
		return rnd_below(h, 0x20); /* legacy and base */
	default:
		return eids[rnd_below(h, ARRAY_SIZE(eids))];
	}
}

static unsigned long garbage_fid(struct hart *h)
{
	switch (rnd_below(h, 4)) {
	case 0:
		return (uint32_t)rnd(h);
	case 1:
		return rnd(h);
	default:
		return rnd_below(h, 8);
	}
}

/* Values that tend to find edge cases: RAM, RAM's end, device windows, masks, extremes. */
static unsigned long garbage_arg(struct hart *h)
{
	switch (rnd_below(h, 10)) {
	case 0:
		return 0;
	case 1:
		return (unsigned long)-1;
	case 2:
		return rnd_below(h, 64);
	case 3:
		return ram_base + (rnd_below(h, ram_end - ram_base) & ~7UL);
	case 4:
		return ram_end - 8 + rnd_below(h, 16) * 8; /* the last word, and just past it */
	case 5:
		return VM_PLIC_BASE + rnd_below(h, VM_PLIC_SIZE);
	case 6:
		return VM_UART_BASE + rnd_below(h, VM_UART_SIZE);
	case 7:
		return 1UL << rnd_below(h, 64);
	default:
		return rnd(h);
	}
}

static bool in_ram(unsigned long addr)
{
	return addr >= ram_base && addr < ram_end;
}

/* Console calls get printable bytes, a few per phase, and buffers that are ours to give. */
static bool tame_console(struct hart *h, unsigned long fid, unsigned long *a)
{
	bool prints = fid == SBI_DBCN_WRITE || fid == SBI_DBCN_WRITE_BYTE;

	if (prints && h->console_left == 0)
		return false;
	if (fid == SBI_DBCN_WRITE && in_ram(a[1])) {
		a[0] = MIN(a[0], sizeof(sbi_text) - 1);
		a[1] = (unsigned long)sbi_text;
	} else if (fid == SBI_DBCN_READ && in_ram(a[1])) {
		a[0] = MIN(a[0], sizeof(sbi_scratch));
		a[1] = (unsigned long)sbi_scratch;
	} else if (fid == SBI_DBCN_WRITE_BYTE) {
		a[0] = (unsigned long)printable(rnd(h));
	}
	if (prints)
		h->console_left--;
	return true;
}

/* hart_start is harmless only while every hart of ours is running (ALREADY_AVAILABLE). */
static bool hart_running(unsigned long hartid)
{
	for (unsigned int i = 0; i < cpus.count; i++)
		if (harts[i].hartid == hartid)
			return __atomic_load_n(&harts[i].up, __ATOMIC_ACQUIRE);
	return true; /* not ours: the SBI must refuse it */
}

/*
 * Decide whether a random call may be made, adjusting its arguments so that it
 * cannot end the VM, stop or suspend this hart, or spray the console.
 */
static bool sbi_allowed(struct hart *h, unsigned long eid, unsigned long fid, unsigned long *a)
{
	unsigned long fid32 = (uint32_t)fid;

	if (eid_is(eid, SBI_EXT_SRST) || eid_is(eid, SBI_EXT_SUSP))
		return false;
	if ((uint32_t)eid <= SBI_EXT_LEGACY_SHUTDOWN) {
		if ((uint32_t)eid == SBI_EXT_LEGACY_PUTCHAR && h->console_left) {
			h->console_left--;
			a[0] = (unsigned long)printable(rnd(h));
			return true;
		}
		return (uint32_t)eid == SBI_LEGACY_SEND_IPI; /* a garbage mask pointer is fine */
	}
	if (eid_is(eid, SBI_EXT_HSM)) {
		if (fid32 == SBI_HSM_HART_STOP || fid32 == SBI_HSM_HART_SUSPEND)
			return false;
		return fid32 != SBI_HSM_HART_START || hart_running(a[0]);
	}
	if (eid_is(eid, SBI_EXT_DBCN))
		return tame_console(h, fid32, a);
	/* A steal-time record in RAM is written by the SBI from then on: let it be ours. */
	if (eid_is(eid, SBI_EXT_STA) && fid32 == SBI_STA_SET_SHMEM && in_ram(a[0])) {
		a[0] = (unsigned long)h->sta_record;
		a[1] = 0;
	}
	/* Calls that write a buffer in RAM get ours (phase verify checks nobody wrote RAM). */
	if (eid_is(eid, SBI_EXT_SSE) && fid32 == SBI_SSE_READ_ATTRS && in_ram(a[3])) {
		a[2] = MIN(a[2], sizeof(sbi_scratch) / 8);
		a[3] = (unsigned long)sbi_scratch;
	}
	if (eid_is(eid, SBI_EXT_PMU) && fid32 == SBI_PMU_EVENT_INFO && in_ram(a[0])) {
		a[0] = (unsigned long)sbi_scratch;
		a[2] = MIN(a[2], sizeof(sbi_scratch) / 16);
	}
	/* A registered software event would run its garbage entry point. */
	if (eid_is(eid, SBI_EXT_SSE) && fid32 == SBI_SSE_REGISTER)
		return false;
	return true;
}

static void sbi_count(struct hart *h, unsigned long eid, unsigned long fid, long err)
{
	struct sbi_stats *st = &h->sbi;

	st->calls++;
	if (err <= 0 && err >= SBI_ERR_LOWEST)
		st->by_code[-err]++;
	/* Legacy calls return a0 only, whatever they like; the rest must use the spec's codes. */
	else if (eid > SBI_EXT_LEGACY_LAST) {
		st->odd++;
		st->odd_code = err;
		st->odd_eid = eid;
		st->odd_fid = fid;
	}
}

static void garbage_call(struct hart *h)
{
	unsigned long eid = garbage_eid(h), fid = garbage_fid(h), a[6];
	struct sbiret ret;

	for (unsigned int i = 0; i < ARRAY_SIZE(a); i++)
		a[i] = garbage_arg(h);
	if (!sbi_allowed(h, eid, fid, a)) {
		h->sbi.skipped++;
		return;
	}
	h->in_legacy_call = (uint32_t)eid <= SBI_EXT_LEGACY_LAST;
	ret = sbi_call(eid, fid, a[0], a[1], a[2], a[3], a[4], a[5]);
	h->in_legacy_call = false;
	sbi_count(h, eid, fid, ret.error);
}

static void sbi_garbage(struct hart *h, uint64_t end)
{
	h->console_left = CONSOLE_BUDGET;
	while (now() < end)
		garbage_call(h);
}

/* ------------------------------------------------------------ phase churn */

static void churn(struct hart *h, uint64_t end)
{
	uint64_t slice = ms_to_ticks(CHURN_SLICE_MS);

	do {
		uint64_t t = now(), left = end > t ? end - t : 0;
		uint64_t step = MIN(slice, left / 2);

		masked_once(h, t + step);
		ipi_flood(h, now() + step);
	} while (now() < end);
}

/* ------------------------------------------------------------ running phases on every hart */

static void run_phase(struct hart *h, enum phase_id id, uint64_t end)
{
	switch (id) {
	case PHASE_MASKED:
		masked_once(h, end);
		break;
	case PHASE_IPI:
		ipi_flood(h, end);
		break;
	case PHASE_SBI:
		sbi_garbage(h, end);
		break;
	case PHASE_CHURN:
		churn(h, end);
		break;
	default:
		break;
	}
}

static void reset_stats(void)
{
	for (unsigned int i = 0; i < cpus.count; i++) {
		memset(&harts[i].masked, 0, sizeof(harts[i].masked));
		memset(&harts[i].ipi, 0, sizeof(harts[i].ipi));
		memset(&harts[i].sbi, 0, sizeof(harts[i].sbi));
	}
}

/* Every hart that came up runs the phase; the boot hart waits for the others to finish. */
static void all_harts(enum phase_id id, uint64_t end)
{
	unsigned int seq = phase_seq + 1;

	reset_stats();
	phase_id = id;
	phase_end = end;
	__atomic_store_n(&phase_seq, seq, __ATOMIC_RELEASE);
	if (id == PHASE_EXIT)
		return; /* the others stop; nothing to wait for */
	run_phase(&harts[boot_index], id, end);
	for (unsigned int i = 0; i < cpus.count; i++) {
		uint64_t give_up = now() + ms_to_ticks(HART_WAIT_MS);
		struct hart *h = &harts[i];

		if (i == boot_index || !h->up)
			continue;
		while (__atomic_load_n(&h->done_seq, __ATOMIC_ACQUIRE) != seq && now() < give_up)
			cpu_relax();
		if (h->done_seq != seq)
			printf("hostile: hart %lu did not finish its phase in %d ms after the "
			       "deadline\n",
			       h->hartid, HART_WAIT_MS);
	}
}

static void secondary_main(unsigned long hartid, void *arg)
{
	struct hart *h = arg;
	unsigned int seen = 0, seq;

	(void)hartid;
	hart_setup(h);
	__atomic_store_n(&h->up, true, __ATOMIC_RELEASE);
	for (;;) {
		while ((seq = __atomic_load_n(&phase_seq, __ATOMIC_ACQUIRE)) == seen)
			cpu_relax();
		seen = seq;
		if (phase_id == PHASE_EXIT)
			return; /* crt0 then stops this hart through HSM */
		run_phase(h, phase_id, phase_end);
		__atomic_store_n(&h->done_seq, seq, __ATOMIC_RELEASE);
	}
}

static void start_secondaries(void)
{
	for (unsigned int i = 0; i < cpus.count; i++) {
		struct hart *h = &harts[i];
		struct sbiret ret;

		if (i == boot_index)
			continue;
		h->boot.stack_top = (unsigned long)&stacks[i][STACK_SIZE];
		h->boot.entry = secondary_main;
		h->boot.arg = h;
		ret = hart_boot_start(h->hartid, &h->boot);
		if (ret.error)
			printf("hostile: hart_start(%lu) returned %ld\n", h->hartid, ret.error);
		else if (!wait_until(&h->up, HART_WAIT_MS))
			printf("hostile: hart %lu did not come up\n", h->hartid);
	}
}

/* ------------------------------------------------------------ reports */

static void report_masked(const char *phase)
{
	for (unsigned int i = 0; i < cpus.count; i++) {
		struct hart *h = &harts[i];

		if (!h->up)
			continue;
		printf("hostile: %s: hart %lu: masked %lu ms in %lu round(s), sip 0x%lx while "
		       "masked, %lu round(s) with an interrupt lost, worst wait after unmasking "
		       "%lu us\n",
		       phase, h->hartid, ticks_to_ms(h->masked.masked_ticks), h->masked.rounds,
		       h->masked.sip_seen, h->masked.lost,
		       ticks_to_ms(1000 * h->masked.worst_ticks));
	}
}

static void report_ipi(const char *phase)
{
	for (unsigned int i = 0; i < cpus.count; i++) {
		struct hart *h = &harts[i];

		if (!h->up)
			continue;
		printf("hostile: %s: hart %lu: %lu IPI/fence calls, %lu failed (last %ld); "
		       "taken so far: %lu soft, %lu timer, %lu external (%lu spurious)\n",
		       phase, h->hartid, h->ipi.calls, h->ipi.failed, h->ipi.last_error, h->soft,
		       h->timer, h->ext, h->ext_spurious);
	}
}

/* "0:n -2:n ...": how often each error code came back, the ones that did. */
static void format_codes(const struct sbi_stats *st, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned int c = 0; c < ARRAY_SIZE(st->by_code) && len < size; c++)
		if (st->by_code[c])
			len += (size_t)vireo_snprintf(buf + len, size - len, " %d:%lu", -(int)c,
						      st->by_code[c]);
}

static void report_sbi(void)
{
	char codes[160];

	for (unsigned int i = 0; i < cpus.count; i++) {
		struct sbi_stats *st = &harts[i].sbi;

		if (!harts[i].up)
			continue;
		format_codes(st, codes, sizeof(codes));
		printf("hostile: sbi: hart %lu: %lu calls, %lu skipped; error codes:%s; %lu legacy "
		       "fault(s) given back\n",
		       harts[i].hartid, st->calls, st->skipped, codes, harts[i].legacy_faults);
		if (st->odd)
			printf("hostile: sbi: hart %lu: %lu error code(s) outside the spec, e.g. "
			       "%ld from eid 0x%lx fid 0x%lx\n",
			       harts[i].hartid, st->odd, st->odd_code, st->odd_eid, st->odd_fid);
	}
}

/* ------------------------------------------------------------ main */

static bool read_dt(unsigned long dtb)
{
	uint64_t size;

	if (fdt_read_cpus(dtb, &cpus) < 0 || cpus.count == 0 ||
	    fdt_read_memory(dtb, &ram_base, &size) < 0) {
		printf("hostile: no usable DTB at 0x%lx\n", dtb);
		return false;
	}
	ram_end = ram_base + size;
	hz = cpus.timebase_hz ? cpus.timebase_hz : DEFAULT_TIMEBASE_HZ;
	has_testdev = fdt_has_compatible(dtb, "vireo,testdev");
	for (unsigned int i = 0; i < cpus.count; i++) {
		harts[i].hartid = cpus.hartid[i];
		if (cpus.hartid[i] < 64)
			all_mask |= 1UL << cpus.hartid[i];
	}
	return true;
}

/* A phase's share of what is left before the deadline, never less than MIN_PHASE_MS. */
static uint64_t slice_end(uint64_t deadline, unsigned int divisor)
{
	uint64_t t = now(), left = deadline > t ? deadline - t : 0;

	return t + MAX(left / divisor, ms_to_ticks(MIN_PHASE_MS));
}

static void timed_phases(uint64_t deadline)
{
	printf("hostile: phase masked\n");
	all_harts(PHASE_MASKED, slice_end(deadline, 8));
	report_masked("masked");
	printf("hostile: phase ipi\n");
	all_harts(PHASE_IPI, slice_end(deadline, 7));
	report_ipi("ipi");
	printf("hostile: phase sbi\n");
	all_harts(PHASE_SBI, slice_end(deadline, 3));
	printf("\n"); /* end the line of garbage console bytes, if any */
	report_sbi();
	printf("hostile: phase churn\n");
	all_harts(PHASE_CHURN, slice_end(deadline, 1));
	report_masked("churn");
	report_ipi("churn");
}

/* The guest's last act when asked: a load just past RAM, which the hypervisor must stop. */
static void overrun(void)
{
	printf("hostile: reading 0x%lx, just past the end of RAM: the VM must be stopped\n",
	       ram_end);
	(void)*(volatile uint64_t *)ram_end;
	printf("hostile: still running after reading past the end of RAM\n");
}

int guest_main(unsigned long hartid, unsigned long dtb)
{
	uint64_t start = now(), deadline, verify_ticks;
	unsigned long seconds, want_overrun;
	const char *args;
	uint64_t corrupt;

	if (!read_dt(dtb))
		return GUEST_STATUS_FAIL;
	args = fdt_bootargs(dtb); /* read now: phase ram overwrites the DTB */
	seconds = bootarg_ulong(args, "seconds", DEFAULT_SECONDS);
	want_overrun = bootarg_ulong(args, "overrun", 0);
	deadline = start + seconds * hz;
	for (unsigned int i = 0; i < cpus.count; i++)
		if (cpus.hartid[i] == hartid)
			boot_index = i;
	printf("hostile: %u vCPU(s), boot hart %lu, RAM %lu MiB at 0x%lx, %s test device, "
	       "%lu s\n",
	       cpus.count, hartid, (ram_end - ram_base) / MIB, ram_base, has_testdev ? "a" : "no",
	       seconds);
	trap_set_hook(trap_hook);
	hart_setup(&harts[boot_index]);
	__atomic_store_n(&harts[boot_index].up, true, __ATOMIC_RELEASE);
	start_secondaries();

	corrupt = phase_ram(&harts[boot_index], &verify_ticks);
	phase_mmio(&harts[boot_index]);
	/* Keep back as long as phase ram's check took, for phase verify. */
	timed_phases(deadline > verify_ticks ? deadline - verify_ticks : deadline);
	all_harts(PHASE_EXIT, 0);
	corrupt += phase_verify(&harts[boot_index]);
	printf("hostile: done in %lu s, %s\n", ticks_to_ms(now() - start) / 1000,
	       corrupt ? "RAM was CORRUPTED" : "RAM intact");
	if (want_overrun)
		overrun();
	return corrupt ? GUEST_STATUS_FAIL : 0;
}
