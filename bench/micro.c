// SPDX-License-Identifier: BSD-2-Clause
/*
 * Vireo's micro-benchmarks: one S-mode kernel that runs as a Vireo guest
 * (VS-mode) and bare under OpenSBI (S-mode), so that both sides execute the
 * same instructions. Each benchmark repeats one operation many times and
 * prints one line with its totals and its cost per operation:
 *
 *   BENCH <name> iters=N instret=<per op> ns=<per op> instret_total=I ticks_total=T
 *
 * instret is the difference of the instret CSR, ns comes from the time CSR
 * and the DTB's timebase-frequency. What those mean on QEMU (with and without
 * -icount) is bench/README.md's subject; "loop" is a calibration with a
 * known count of 2 instructions per iteration.
 *
 *   loop        addi + bnez, nothing else
 *   sbi_null    SBI base get_spec_version (EID 0x10, FID 0), a round trip
 *   mmio_lsr    a byte load of the 16550's line status register (0x10000005)
 *   timer_sbi   SBI set_timer(now), then unmask: from the call to the interrupt handler
 *   timer_sstc  the same with a write of stimecmp (only if the DTB lists Sstc)
 *   ipi         IPI round trip: this hart sends, the other answers with an IPI (wfi waits)
 *   irq_uart    a device interrupt: the UART's transmitter-empty interrupt is enabled (its
 *               line rises at once), through the PLIC or, where the DTB has an IMSIC,
 *               the APLIC (MSI mode) and this hart's IMSIC file: from the IER write to
 *               the first instruction of the handler
 *   irq_uart_cycle  the same to the end of the round: the handler has lowered the line,
 *               claimed (and at the PLIC completed) the interrupt and returned
 *
 * "skip=NAME[,NAME...]" in /chosen/bootargs leaves benchmarks out.
 */
#include "fdt.h"
#include "fdt_chosen.h"
#include "fdt_isa.h"
#include "fdt_probe.h"
#include "guest.h"
#include "sbi_v2.h"

const char guest_name[] = "micro";

#define DEFAULT_TIMEBASE_HZ 10000000 /* QEMU virt, if the DTB does not say */
#define UART_LSR	    0x10000005UL
#define MAX_HARTS	    8
#define STACK_SIZE	    (8 * KIB)

#define LOOP_ITERS  1000000
#define SBI_ITERS   20000
#define MMIO_ITERS  20000
#define TIMER_ITERS 5000
#define IPI_ITERS   2000
#define IRQ_ITERS   5000
#define WARMUP	    200

/* One per hart, reached through sscratch by bench_vector (lib/irq_vector.S). */
struct bench_hart {
	unsigned long save_t0;
	unsigned long save_t1;
	volatile uint64_t irq_instret; /* stamped first thing on every interrupt */
	volatile uint64_t irq_time;
	volatile unsigned long timer_irqs;
	volatile unsigned long soft_irqs;
	unsigned long ext_claim; /* external interrupts: the PLIC claim register, 0: IMSIC */
	volatile unsigned long ext_irqs;
} __attribute__((aligned(64)));

_Static_assert(offsetof(struct bench_hart, irq_instret) == 16, "irq_vector.S layout");
_Static_assert(offsetof(struct bench_hart, irq_time) == 24, "irq_vector.S layout");
_Static_assert(offsetof(struct bench_hart, timer_irqs) == 32, "irq_vector.S layout");
_Static_assert(offsetof(struct bench_hart, soft_irqs) == 40, "irq_vector.S layout");
_Static_assert(offsetof(struct bench_hart, ext_claim) == 48, "irq_vector.S layout");
_Static_assert(offsetof(struct bench_hart, ext_irqs) == 56, "irq_vector.S layout");

extern char bench_vector[];

static struct bench_hart harts[MAX_HARTS];
static const char *bootargs;
static struct fdt_cpus cpus;
static uint64_t timebase_hz = DEFAULT_TIMEBASE_HZ;
static unsigned long boot_hartid;

struct stamp {
	uint64_t instret;
	uint64_t time;
};

/* Totals of one benchmark. */
struct result {
	unsigned long iters;
	uint64_t instret;
	uint64_t ticks;
	bool failed;
};

static inline struct stamp stamp_now(void)
{
	struct stamp s;

	s.instret = csr_read(instret);
	s.time = csr_read(time);
	return s;
}

static void result_add(struct result *r, struct stamp from, uint64_t to_instret, uint64_t to_time)
{
	r->iters++;
	r->instret += to_instret - from.instret;
	r->ticks += to_time - from.time;
}

static void result_span(struct result *r, unsigned long iters, struct stamp from, struct stamp to)
{
	r->iters = iters;
	r->instret = to.instret - from.instret;
	r->ticks = to.time - from.time;
}

/* "123.45" from total / iters, in hundredths, without floating point. */
static void print_per_op(const char *key, uint64_t total, unsigned long iters)
{
	uint64_t hundredths = iters ? total * 100 / iters : 0;

	printf(" %s=%lu.%02lu", key, (unsigned long)(hundredths / 100),
	       (unsigned long)(hundredths % 100));
}

static void report(const char *name, const struct result *r)
{
	/* Nanoseconds in total; the ticks of a benchmark stay far below 2^64 / 10^9. */
	uint64_t ns = r->ticks * 1000000000ULL / timebase_hz;

	if (r->failed || !r->iters) {
		printf("BENCH %s skipped=timeout iters=%lu\n", name, r->iters);
		return;
	}
	/* One printf per field keeps each call short; the line is still whole on the console. */
	printf("BENCH %s iters=%lu", name, r->iters);
	print_per_op("instret", r->instret, r->iters);
	print_per_op("ns", ns, r->iters);
	printf(" instret_total=%lu ticks_total=%lu\n", (unsigned long)r->instret,
	       (unsigned long)r->ticks);
}

static struct bench_hart *this_hart(void)
{
	return &harts[current_hartid() % MAX_HARTS];
}

/* Route interrupts to bench_vector on the calling hart; interrupts stay masked. */
static void vector_install(void)
{
	csr_write(sscratch, (unsigned long)this_hart());
	csr_write(stvec, (unsigned long)bench_vector);
}

static bool timed_out(uint64_t since)
{
	return csr_read(time) - since > timebase_hz; /* one second */
}

/* ---------------------------------------------------------------- loops */

static void spin_loop(unsigned long n)
{
	__asm__ volatile("1:	addi %0, %0, -1\n"
			 "	bnez %0, 1b\n"
			 : "+r"(n)
			 :
			 : "memory");
}

static void sbi_null_loop(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		register unsigned long a0 __asm__("a0");
		register unsigned long a1 __asm__("a1");
		register unsigned long a6 __asm__("a6") = SBI_BASE_GET_SPEC_VERSION;
		register unsigned long a7 __asm__("a7") = SBI_EXT_BASE;

		__asm__ volatile("ecall" : "=r"(a0), "=r"(a1) : "r"(a6), "r"(a7) : "memory");
	}
}

static void mmio_loop(unsigned long n)
{
	const volatile uint8_t *lsr = (const volatile uint8_t *)UART_LSR;

	for (unsigned long i = 0; i < n; i++)
		(void)*lsr;
}

static void bench_loop(const char *name, void (*body)(unsigned long), unsigned long iters)
{
	struct result r = {0};
	struct stamp from, to;

	body(WARMUP);
	from = stamp_now();
	body(iters);
	to = stamp_now();
	result_span(&r, iters, from, to);
	report(name, &r);
}

/* ---------------------------------------------------------------- timer */

static void stimecmp_write(uint64_t deadline)
{
	csr_write(0x14d, deadline); /* stimecmp: older assemblers lack the name */
}

/*
 * Arm a deadline that is already due ("now"), unmask the timer interrupt and
 * wait for it: the cost of programming the timer plus delivering the interrupt.
 * sstatus.SIE is on, so the interrupt is taken as soon as sie.STIE is set.
 */
static void bench_timer(const char *name, bool direct, unsigned long iters)
{
	struct bench_hart *me = this_hart();
	struct result r = {0};

	csr_clear(sie, SIE_STIE | SIE_SSIE);
	csr_set(sstatus, SSTATUS_SIE);
	for (unsigned long i = 0; i < WARMUP + iters && !r.failed; i++) {
		unsigned long before = me->timer_irqs;
		struct stamp from = stamp_now();

		if (direct)
			stimecmp_write(from.time);
		else
			sbi_set_timer(from.time);
		csr_set(sie, SIE_STIE);
		while (me->timer_irqs == before)
			if (timed_out(from.time)) {
				r.failed = true;
				break;
			}
		if (i >= WARMUP && !r.failed)
			result_add(&r, from, me->irq_instret, me->irq_time);
	}
	csr_clear(sstatus, SSTATUS_SIE);
	csr_clear(sie, SIE_STIE);
	if (direct)
		stimecmp_write(UINT64_MAX);
	else
		sbi_set_timer(UINT64_MAX);
	report(name, &r);
}

/* ---------------------------------------------------------------- a device interrupt */

#define SIE_SEIE      (1UL << 9)
#define UART_IER      0x10000001UL
#define UART_IER_THRI 0x02
#define UART_SOURCE   10 /* QEMU virt's, and every Vireo VM's */
#define PLIC_BASE     0x0c000000UL
#define APLIC_BASE    0x0d000000UL
#define IMSIC_BASE    0x28000000UL

static void mmio_write32(unsigned long addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

/* Route the UART's interrupt to this hart; returns what bench_vector claims from. */
static unsigned long irq_route(bool aia)
{
	unsigned long ctx = 2 * current_hartid() + 1; /* <&intc 11 &intc 9> per hart */

	if (!aia) {
		mmio_write32(PLIC_BASE + 4 * UART_SOURCE, 1);
		mmio_write32(PLIC_BASE + 0x2000 + 0x80 * ctx, 1u << UART_SOURCE);
		mmio_write32(PLIC_BASE + 0x200000 + 0x1000 * ctx, 0);
		return PLIC_BASE + 0x200004 + 0x1000 * ctx;
	}
	/* This hart's IMSIC file: delivery on, identity 10 enabled (siselect 0x150, sireg
	 * 0x151 by number: older assemblers lack the names). */
	csr_write(0x150, 0x70);
	csr_write(0x151, 1);
	csr_write(0x150, 0x72);
	csr_write(0x151, 0);
	csr_write(0x150, 0xc0);
	csr_set(0x151, 1UL << UART_SOURCE);
	/* The APLIC: source 10 level-high, its MSI to this hart with identity 10. */
	mmio_write32(APLIC_BASE + 0x0004 + 4 * (UART_SOURCE - 1), 6);
	mmio_write32(APLIC_BASE + 0x3004 + 4 * (UART_SOURCE - 1),
		     (uint32_t)(current_hartid() << 18 | UART_SOURCE));
	mmio_write32(APLIC_BASE + 0x1edc, UART_SOURCE);
	mmio_write32(APLIC_BASE, 1u << 8);
	return 0;
}

static void bench_irq(bool aia, unsigned long iters)
{
	struct bench_hart *me = this_hart();
	struct result entry = {0}, cycle = {0};

	me->ext_claim = irq_route(aia);
	csr_set(sie, SIE_SEIE);
	csr_set(sstatus, SSTATUS_SIE);
	for (unsigned long i = 0; i < WARMUP + iters && !entry.failed; i++) {
		unsigned long before = me->ext_irqs;
		struct stamp from = stamp_now(), to;

		*(volatile uint8_t *)UART_IER = UART_IER_THRI;
		while (me->ext_irqs == before)
			if (timed_out(from.time)) {
				entry.failed = true;
				break;
			}
		to = stamp_now();
		if (i >= WARMUP && !entry.failed) {
			result_add(&entry, from, me->irq_instret, me->irq_time);
			result_add(&cycle, from, to.instret, to.time);
		}
	}
	csr_clear(sstatus, SSTATUS_SIE);
	csr_clear(sie, SIE_SEIE);
	cycle.failed = entry.failed;
	report("irq_uart", &entry);
	report("irq_uart_cycle", &cycle);
}

/* ---------------------------------------------------------------- IPI */

static struct hart_boot responder_boot;
static uint8_t responder_stack[STACK_SIZE] __attribute__((aligned(16)));
static volatile bool responder_ready, responder_stop;

/*
 * Wait for the next software interrupt with sstatus.SIE off: wfi wakes on the
 * pending (sie-enabled) interrupt, and a short window takes it. Interrupts are
 * only ever taken in that window, so reading the count before sending cannot race.
 */
static void wait_soft_irq(struct bench_hart *me, unsigned long before)
{
	while (me->soft_irqs == before) {
		__asm__ volatile("wfi" ::: "memory");
		csr_set(sstatus, SSTATUS_SIE);
		csr_clear(sstatus, SSTATUS_SIE);
	}
}

static void ipi_responder(unsigned long hartid, void *arg)
{
	struct bench_hart *me = this_hart();

	(void)hartid;
	(void)arg;
	vector_install();
	csr_set(sie, SIE_SSIE);
	__atomic_store_n(&responder_ready, true, __ATOMIC_RELEASE);
	for (;;) {
		unsigned long before = me->soft_irqs;

		wait_soft_irq(me, before);
		if (__atomic_load_n(&responder_stop, __ATOMIC_ACQUIRE))
			break;
		sbi_send_ipi(1, boot_hartid);
	}
	csr_clear(sie, SIE_SSIE);
	csr_write(stvec, (unsigned long)trap_vector);
}

/*
 * Sleep about ticks in wfi, woken by the timer (sstatus.SIE stays off, so
 * nothing is taken). A hart that waits for another must not spin: under
 * -icount QEMU runs one hart at a time and switches only when it idles.
 */
static void pause_ticks(uint64_t ticks)
{
	sbi_set_timer(csr_read(time) + ticks);
	csr_set(sie, SIE_STIE);
	__asm__ volatile("wfi" ::: "memory");
	csr_clear(sie, SIE_STIE);
	sbi_set_timer(UINT64_MAX);
}

static bool other_hart(unsigned long *peer)
{
	for (unsigned int i = 0; i < cpus.count; i++)
		if (cpus.hartid[i] != boot_hartid && cpus.hartid[i] < MAX_HARTS) {
			*peer = cpus.hartid[i];
			return true;
		}
	return false;
}

static void wait_stopped(unsigned long hartid)
{
	uint64_t since = csr_read(time);

	while (sbi_hart_get_status(hartid).value != SBI_HSM_STOPPED && !timed_out(since))
		pause_ticks(timebase_hz / 10000);
}

static void bench_ipi(unsigned long iters)
{
	struct bench_hart *me = this_hart();
	struct result r = {0};
	unsigned long peer;
	uint64_t since;

	if (!other_hart(&peer)) {
		printf("BENCH ipi skipped=one-hart\n");
		return;
	}
	responder_boot.stack_top = (unsigned long)&responder_stack[STACK_SIZE];
	responder_boot.entry = ipi_responder;
	if (hart_boot_start(peer, &responder_boot).error) {
		printf("BENCH ipi skipped=hart-start\n");
		return;
	}
	since = csr_read(time);
	while (!__atomic_load_n(&responder_ready, __ATOMIC_ACQUIRE)) {
		pause_ticks(timebase_hz / 10000);
		if (timed_out(since)) {
			printf("BENCH ipi skipped=hart-start-timeout\n");
			return;
		}
	}
	csr_set(sie, SIE_SSIE);
	for (unsigned long i = 0; i < WARMUP + iters; i++) {
		unsigned long before = me->soft_irqs;
		struct stamp from = stamp_now();

		sbi_send_ipi(1, peer);
		wait_soft_irq(me, before);
		if (i >= WARMUP)
			result_add(&r, from, me->irq_instret, me->irq_time);
	}
	__atomic_store_n(&responder_stop, true, __ATOMIC_RELEASE);
	sbi_send_ipi(1, peer);
	csr_clear(sie, SIE_SSIE);
	wait_stopped(peer);
	report("ipi", &r);
}

/* ---------------------------------------------------------------- main */

static bool has_prefix(const char *s, const char *prefix, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != prefix[i])
			return false;
	return true;
}

/* Is name listed in a "skip=a,b,c" word of the bootargs? */
static bool skipped(const char *name)
{
	const char *p = bootargs ? strstr(bootargs, "skip=") : NULL;
	size_t len = strlen(name);

	if (!p)
		return false;
	for (p += 5; *p && *p != ' ';) {
		if (has_prefix(p, name, len) && (p[len] == ',' || p[len] == ' ' || !p[len]))
			return true;
		while (*p && *p != ',' && *p != ' ')
			p++;
		if (*p == ',')
			p++;
	}
	return false;
}

int guest_main(unsigned long hartid, unsigned long dtb)
{
	static char isa[256];
	bool sstc;

	boot_hartid = hartid;
	if (fdt_read_cpus(dtb, &cpus) == 0 && cpus.timebase_hz)
		timebase_hz = cpus.timebase_hz;
	sstc = fdt_read_isa(dtb, isa, sizeof(isa)) == 0 && isa_has_ext(isa, "sstc");
	bootargs = fdt_bootargs(dtb);
	if (hartid >= MAX_HARTS) {
		printf("micro: hart id %lu is beyond %d\n", hartid, MAX_HARTS);
		return GUEST_STATUS_FAIL;
	}
	printf("BENCH-ENV impl_id=%ld impl_version=%#lx spec=%#lx timebase=%lu harts=%u "
	       "boot_hart=%lu sstc=%d\n",
	       sbi_call(SBI_EXT_BASE, SBI_BASE_GET_IMPL_ID, 0, 0, 0, 0, 0, 0).value,
	       sbi_call(SBI_EXT_BASE, SBI_BASE_GET_IMPL_VERSION, 0, 0, 0, 0, 0, 0).value,
	       sbi_spec_version(), (unsigned long)timebase_hz, cpus.count, hartid, sstc);
	vector_install();

	if (!skipped("loop"))
		bench_loop("loop", spin_loop, LOOP_ITERS);
	if (!skipped("sbi_null"))
		bench_loop("sbi_null", sbi_null_loop, SBI_ITERS);
	if (!skipped("mmio_lsr"))
		bench_loop("mmio_lsr", mmio_loop, MMIO_ITERS);
	if (!skipped("timer_sbi"))
		bench_timer("timer_sbi", false, TIMER_ITERS);
	if (!sstc)
		printf("BENCH timer_sstc skipped=no-sstc-in-dtb\n");
	else if (!skipped("timer_sstc"))
		bench_timer("timer_sstc", true, TIMER_ITERS);
	if (skipped("ipi"))
		printf("BENCH ipi skipped=bootargs\n");
	else
		bench_ipi(IPI_ITERS);
	if (!skipped("irq_uart")) {
		bool aia = fdt_has_compatible(dtb, "riscv,imsics");

		printf("BENCH-ENV irqchip=%s\n", aia ? "aplic-imsic" : "plic");
		bench_irq(aia, IRQ_ITERS);
	}

	csr_write(stvec, (unsigned long)trap_vector);
	return 0;
}
