// SPDX-License-Identifier: BSD-2-Clause
/*
 * Guest AIA as a guest sees it: the device tree describes an IMSIC and an
 * APLIC; each hart's IMSIC file works through its CSRs (siselect/sireg,
 * stopei: a hardware guest file or Vireo's emulation, the guest cannot tell);
 * MSIs written into a hart's page arrive there and nowhere else; the UART's
 * wire reaches the hart the APLIC's target names, through an MSI; and, while
 * the harts churn (spinning and sleeping, so that Vireo moves vCPUs between
 * harts), an interrupt left pending and masked stays pending, and every MSI
 * sent arrives exactly once. Run with more vCPUs than harts to get migrations,
 * and with fewer guest interrupt files than vCPUs to get emulated files.
 */
#include "fdt.h"
#include "fdt_isa.h"
#include "fdt_probe.h"
#include "guest.h"
#include "sbi_v2.h"

const char guest_name[] = "aia";

/* siselect is 0x150, sireg 0x151, stopei 0x15c: by number (the csr_* macros stringify
 * their argument, and the guest toolchain's assembler may lack the names). */
#define ISEL_EIDELIVERY	 0x70
#define ISEL_EITHRESHOLD 0x72
#define ISEL_EIP0	 0x80
#define ISEL_EIE0	 0xc0
#define IRQ_S_EXT	 9
#define SIE_SEIE	 (1UL << IRQ_S_EXT)

#define APLIC_DOMAINCFG	   0x0000
#define APLIC_SOURCECFG(s) (0x0004 + 4 * ((s)-1))
#define APLIC_SETIENUM	   0x1edc
#define APLIC_TARGET(s)	   (0x3004 + 4 * ((s)-1))
#define UART_IER	   1
#define UART_IER_THRI	   0x02

#define ID_UART	    10 /* the UART's EIID: its source number */
#define ID_PING	    21 /* MSIs the boot hart sends, each waited for */
#define ID_PENDING  20 /* left pending while masked, across the churn */
#define ID_REPLY    22 /* the secondaries answer with this */
#define ID_WAKE	    23 /* a new phase: out of wfi */
#define UART_ROUNDS 20
#define PINGS	    40
#define CHURN_MS    600
#define STACK_SIZE  (8 * KIB)

static struct fdt_cpus cpus;
static unsigned long boot_hartid;
static unsigned long dtb_addr;

/* What each hart's interrupt handler saw. */
struct hart_irqs {
	volatile unsigned long count[64];
	volatile uint64_t first_at; /* time of the last external interrupt, first thing */
	volatile bool timer;
};
static struct hart_irqs irqs[FDT_MAX_CPUS];

static struct hart_boot boots[FDT_MAX_CPUS];
static uint8_t stacks[FDT_MAX_CPUS][STACK_SIZE] __attribute__((aligned(16)));
static volatile unsigned long phase; /* what the secondaries do: see secondary_main */
static volatile unsigned long ready[FDT_MAX_CPUS], done[FDT_MAX_CPUS];
static volatile const char *secondary_failure;
static volatile unsigned long step[FDT_MAX_CPUS]; /* where each secondary is, for failures */

static uint64_t now(void)
{
	return csr_read(time);
}

static uint64_t ms(uint64_t n)
{
	return n * (cpus.timebase_hz ? cpus.timebase_hz : 10000000) / 1000;
}

static unsigned slot_of(unsigned long hartid)
{
	for (unsigned i = 0; i < cpus.count; i++)
		if (cpus.hartid[i] == hartid)
			return i;
	return 0;
}

static unsigned long ireg_read(unsigned isel)
{
	csr_write(0x150, isel);
	return csr_read(0x151);
}

static void ireg_write(unsigned isel, unsigned long v)
{
	csr_write(0x150, isel);
	csr_write(0x151, v);
}

static uint32_t topei_read(void)
{
	return (uint32_t)csr_read(0x15c);
}

static uint32_t topei_claim(void)
{
	unsigned long v;

	__asm__ volatile("csrrw %0, 0x15c, zero" : "=r"(v)::"memory");
	return (uint32_t)v;
}

/* This hart's file: delivery on, no threshold, identities 1..63 enabled. */
static void imsic_local_init(void)
{
	ireg_write(ISEL_EIDELIVERY, 1);
	ireg_write(ISEL_EITHRESHOLD, 0);
	ireg_write(ISEL_EIE0, ~1UL);
}

static void msi(unsigned long hartid, uint32_t id)
{
	*(volatile uint32_t *)(VM_IMSIC_BASE + hartid * VM_IMSIC_STRIDE) = id;
}

static void aplic_write(unsigned long off, uint32_t v)
{
	*(volatile uint32_t *)(VM_APLIC_BASE + off) = v;
}

static void uart_ier(uint8_t v)
{
	*(volatile uint8_t *)(VM_UART_BASE + UART_IER) = v;
}

static bool irq_hook(struct trap_frame *tf)
{
	struct hart_irqs *me = &irqs[slot_of(current_hartid())];
	uint64_t t = now();
	uint32_t top;

	if (tf->scause == (CAUSE_INTERRUPT | IRQ_S_TIMER)) {
		csr_clear(sie, SIE_STIE);
		me->timer = true;
		return true;
	}
	if (tf->scause != (CAUSE_INTERRUPT | IRQ_S_EXT))
		return false;
	me->first_at = t;
	while ((top = topei_claim()) != 0) {
		unsigned id = top >> 16;

		if (id == ID_UART)
			uart_ier(0); /* the line drops: one interrupt per test round */
		if (id < 64)
			me->count[id] = me->count[id] + 1;
	}
	return true;
}

static bool wait_for(volatile unsigned long *counter, unsigned long want, uint64_t timeout)
{
	uint64_t end = now() + timeout;

	while (__atomic_load_n(counter, __ATOMIC_ACQUIRE) < want)
		if (now() > end)
			return false;
	return true;
}

/* Sleep in wfi until a timer `ticks` from now. The check of the flag and the wfi happen
 * with interrupts off (wfi still wakes), so the interrupt is never taken in between;
 * the handler runs in the window opened after each wfi. */
static void nap(uint64_t ticks)
{
	struct hart_irqs *me = &irqs[slot_of(current_hartid())];
	bool on = csr_read(sstatus) & SSTATUS_SIE;

	csr_clear(sstatus, SSTATUS_SIE);
	me->timer = false;
	sbi_set_timer(now() + ticks);
	csr_set(sie, SIE_STIE);
	while (!me->timer) {
		__asm__ volatile("wfi");
		csr_set(sstatus, SSTATUS_SIE);
		csr_clear(sstatus, SSTATUS_SIE);
	}
	if (on)
		csr_set(sstatus, SSTATUS_SIE);
}

/* wait_for, sleeping between looks: harts are shared, and a spinning vCPU only gives
 * its hart away when its time slice ends. */
static bool wait_napping(volatile unsigned long *counter, unsigned long want, uint64_t timeout)
{
	uint64_t end = now() + timeout;

	while (__atomic_load_n(counter, __ATOMIC_ACQUIRE) < want) {
		if (now() > end)
			return false;
		nap(ms(1));
	}
	return true;
}

/* ---------------------------------------------------------------- tests on the boot hart */

static const char *check_device_tree(void)
{
	char isa[256];

	if (!fdt_has_compatible(dtb_addr, "riscv,imsics"))
		return test_why("no riscv,imsics node");
	if (!fdt_has_compatible(dtb_addr, "riscv,aplic"))
		return test_why("no riscv,aplic node");
	if (fdt_has_compatible(dtb_addr, "sifive,plic-1.0.0"))
		return test_why("a PLIC as well");
	if (fdt_read_isa(dtb_addr, isa, sizeof(isa)) || !isa_has_ext(isa, "ssaia"))
		return test_why("riscv,isa does not list ssaia");
	return NULL;
}

/* The file's registers through the CSRs; an MSI to our own page; claims; threshold. */
static const char *check_own_file(void)
{
	imsic_local_init();
	if (ireg_read(ISEL_EIDELIVERY) != 1 || ireg_read(ISEL_EIE0) != ~1UL)
		return test_why("eidelivery %lx eie0 %lx", ireg_read(ISEL_EIDELIVERY),
				ireg_read(ISEL_EIE0));
	msi(boot_hartid, 5);
	if (!(ireg_read(ISEL_EIP0) & (1UL << 5)))
		return test_why("MSI 5 not pending: eip0 %lx", ireg_read(ISEL_EIP0));
	if (topei_read() != (5u << 16 | 5))
		return test_why("stopei %x, want 5", topei_read());
	ireg_write(ISEL_EITHRESHOLD, 5);
	msi(boot_hartid, 7);
	if (topei_read() != 0)
		return test_why("threshold 5 lets %x through", topei_read());
	msi(boot_hartid, 3);
	if (topei_claim() != (3u << 16 | 3))
		return test_why("threshold 5 hides 3");
	ireg_write(ISEL_EITHRESHOLD, 0);
	if (topei_claim() != (5u << 16 | 5) || topei_claim() != (7u << 16 | 7) ||
	    topei_claim() != 0)
		return test_why("claims not in order 5, 7");
	if (ireg_read(ISEL_EIP0) != 0)
		return test_why("eip0 %lx after the claims", ireg_read(ISEL_EIP0));
	/* Software may set and clear pending bits itself. */
	csr_write(0x150, ISEL_EIP0);
	csr_set(0x151, 1UL << 9);
	if (topei_claim() != (9u << 16 | 9))
		return test_why("eip0 set by csrs not claimable");
	return NULL;
}

/* The UART's wire -> the APLIC -> an MSI with EIID 10 into our file -> our handler. */
static const char *check_uart_through_aplic(void)
{
	struct hart_irqs *me = &irqs[slot_of(boot_hartid)];
	uint64_t total = 0;

	aplic_write(APLIC_SOURCECFG(VM_UART_IRQ), 6); /* level high */
	aplic_write(APLIC_TARGET(VM_UART_IRQ), (uint32_t)(boot_hartid << 18 | ID_UART));
	aplic_write(APLIC_SETIENUM, VM_UART_IRQ);
	aplic_write(APLIC_DOMAINCFG, 1u << 8);
	csr_set(sie, SIE_SEIE);
	csr_set(sstatus, SSTATUS_SIE);
	for (unsigned r = 0; r < UART_ROUNDS; r++) {
		unsigned long before = me->count[ID_UART];
		uint64_t t0 = now();

		uart_ier(UART_IER_THRI); /* the transmitter is empty: the line rises */
		if (!wait_for(&me->count[ID_UART], before + 1, ms(2000)))
			return test_why("round %u: no UART interrupt", r);
		total += me->first_at - t0;
		if (me->count[ID_UART] != before + 1)
			return test_why("round %u: %lu UART interrupts", r,
					me->count[ID_UART] - before);
	}
	printf("aia: UART interrupt through the APLIC: %lu ticks from the wire to the handler "
	       "(mean of %u)\n",
	       (unsigned long)(total / UART_ROUNDS), (unsigned)UART_ROUNDS);
	return NULL;
}

/* ---------------------------------------------------------------- the other harts */

enum { PHASE_WAIT, PHASE_PINGS, PHASE_CHURN, PHASE_STOP };

static void secondary_main(unsigned long hartid, void *arg)
{
	unsigned i = slot_of(hartid);
	struct hart_irqs *me = &irqs[i];
	uint64_t end;

	(void)arg;
	imsic_local_init();
	csr_set(sie, SIE_SEIE);
	csr_set(sstatus, SSTATUS_SIE);
	__atomic_store_n(&ready[i], 1, __ATOMIC_RELEASE);
	for (;;) {
		/* Answer each ping (after it is counted) with an MSI to the boot hart. Interrupts
		 * are off from the checks to the wfi, so none is taken in between. */
		unsigned long answered;

		csr_clear(sstatus, SSTATUS_SIE);
		if (phase != PHASE_WAIT && phase != PHASE_PINGS)
			break;
		answered = me->count[ID_REPLY];
		if (me->count[ID_PING] > answered) {
			msi(boot_hartid, ID_REPLY);
			me->count[ID_REPLY] = answered + 1;
		} else {
			__asm__ volatile("wfi");
		}
		csr_set(sstatus, SSTATUS_SIE);
	}
	csr_set(sstatus, SSTATUS_SIE);
	/* Churn: ID_PENDING arrives while external interrupts are masked, and must stay
	 * pending through spinning and sleeping (and whatever harts that takes us to). */
	csr_clear(sie, SIE_SEIE);
	__atomic_store_n(&ready[i], 2, __ATOMIC_RELEASE);
	while (!(ireg_read(ISEL_EIP0) & (1UL << ID_PENDING)))
		cpu_relax();
	end = now() + ms(CHURN_MS);
	for (unsigned n = 0; now() < end; n++) {
		uint64_t spin_end = now() + ms(3 + (i + n) % 7);

		step[i] = 100 + n;
		while (now() < spin_end)
			if (!(ireg_read(ISEL_EIP0) & (1UL << ID_PENDING))) {
				secondary_failure = "a pending masked MSI vanished";
				break;
			}
		nap(ms(1 + (i * 3 + n) % 5));
	}
	if (me->count[ID_PENDING] != 0)
		secondary_failure = "a masked MSI was taken";
	csr_set(sie, SIE_SEIE);
	if (!wait_napping(&me->count[ID_PENDING], 1, ms(2000)))
		secondary_failure = "the pending MSI never came once unmasked";
	__atomic_store_n(&done[i], 1, __ATOMIC_RELEASE);
	while (phase != PHASE_STOP)
		nap(ms(5));
}

static const char *start_secondaries(void)
{
	for (unsigned i = 0; i < cpus.count; i++) {
		if (cpus.hartid[i] == boot_hartid)
			continue;
		boots[i] =
		    (struct hart_boot){(unsigned long)&stacks[i][STACK_SIZE], secondary_main, NULL};
		if (hart_boot_start(cpus.hartid[i], &boots[i]).error)
			return test_why("hart %lu did not start", cpus.hartid[i]);
		if (!wait_for(&ready[i], 1, ms(5000)))
			return test_why("hart %lu never got ready", cpus.hartid[i]);
	}
	return NULL;
}

/* Each MSI to a hart's page arrives there, exactly once; its answer comes back. */
static const char *check_pings(void)
{
	struct hart_irqs *me = &irqs[slot_of(boot_hartid)];

	phase = PHASE_PINGS;
	for (unsigned p = 0; p < PINGS; p++) {
		for (unsigned i = 0; i < cpus.count; i++) {
			unsigned long replies = me->count[ID_REPLY];

			if (cpus.hartid[i] == boot_hartid)
				continue;
			msi(cpus.hartid[i], ID_PING);
			if (!wait_for(&irqs[i].count[ID_PING], p + 1, ms(2000)))
				return test_why("ping %u to hart %lu lost", p, cpus.hartid[i]);
			if (!wait_for(&me->count[ID_REPLY], replies + 1, ms(2000)))
				return test_why(
				    "no reply %u from hart %lu (eip0 %lx eie0 %lx deliv %lx "
				    "thr %lx topei %x sie %lx sstatus %lx sip %lx)",
				    p, cpus.hartid[i], ireg_read(ISEL_EIP0), ireg_read(ISEL_EIE0),
				    ireg_read(ISEL_EIDELIVERY), ireg_read(ISEL_EITHRESHOLD),
				    topei_read(), csr_read(sie), csr_read(sstatus), csr_read(sip));
		}
	}
	for (unsigned i = 0; i < cpus.count; i++)
		if (cpus.hartid[i] != boot_hartid && irqs[i].count[ID_PING] != PINGS)
			return test_why("hart %lu got %lu pings, sent %u", cpus.hartid[i],
					irqs[i].count[ID_PING], PINGS);
	return NULL;
}

/* Masked and pending through the churn, then delivered once. */
static const char *check_pending_survives_moves(void)
{
	phase = PHASE_CHURN;
	for (unsigned i = 0; i < cpus.count; i++) {
		if (cpus.hartid[i] == boot_hartid)
			continue;
		msi(cpus.hartid[i], ID_WAKE);
		if (!wait_for(&ready[i], 2, ms(5000)))
			return test_why("hart %lu did not mask", cpus.hartid[i]);
		msi(cpus.hartid[i], ID_PENDING);
	}
	/* The boot hart churns too: spinning and sleeping. */
	for (uint64_t end = now() + ms(CHURN_MS); now() < end;) {
		uint64_t spin_end = now() + ms(4);

		while (now() < spin_end)
			cpu_relax();
		nap(ms(2));
	}
	for (unsigned i = 0; i < cpus.count; i++)
		if (cpus.hartid[i] != boot_hartid &&
		    !wait_napping(&done[i], 1, ms(5000) + ms(CHURN_MS)))
			return test_why("hart %lu did not finish (step %lu, timer flag %d, "
					"pending MSI taken %lu times)",
					cpus.hartid[i], step[i], irqs[i].timer,
					irqs[i].count[ID_PENDING]);
	if (secondary_failure)
		return test_why("%s", secondary_failure);
	for (unsigned i = 0; i < cpus.count; i++)
		if (cpus.hartid[i] != boot_hartid && irqs[i].count[ID_PENDING] != 1)
			return test_why("hart %lu took the pending MSI %lu times", cpus.hartid[i],
					irqs[i].count[ID_PENDING]);
	return NULL;
}

int guest_main(unsigned long hartid, unsigned long dtb)
{
	boot_hartid = hartid;
	dtb_addr = dtb;
	if (fdt_read_cpus(dtb, &cpus) || cpus.count == 0) {
		printf("aia: cannot read the harts from the DTB\n");
		return GUEST_STATUS_FAIL;
	}
	trap_set_hook(irq_hook);
	test_run("device_tree", check_device_tree);
	test_run("own_file", check_own_file);
	test_run("uart_through_aplic", check_uart_through_aplic);
	if (cpus.count > 1 && test_run("start_secondaries", start_secondaries)) {
		test_run("pings", check_pings);
		test_run("pending_survives_moves", check_pending_survives_moves);
	}
	printf("aia: %u harts done\n", cpus.count);
	phase = PHASE_STOP;
	/* Room for the test to ask Vireo where the vCPUs have been (Ctrl-] d). */
	nap(ms(300));
	return test_failures() ? GUEST_STATUS_FAIL : 0;
}
