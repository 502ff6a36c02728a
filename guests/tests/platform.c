// SPDX-License-Identifier: BSD-2-Clause
/*
 * The platform a distribution expects (issue 20), seen from a bare-metal
 * guest: the /hypervisor node, this boot's own /chosen/rng-seed and
 * kaslr-seed (printed as SHA-256 fingerprints, never as bytes, so that a
 * test can compare VMs and boots), and the Goldfish RTC driven directly:
 * the time, the TIME_HIGH latch, setting the clock, and the alarm
 * interrupt through the PLIC, masked, unmasked and cleared.
 *
 * bootargs (all optional):
 *   rtc-set=SECS   set this VM's clock to SECS since 1970 first
 *   wait-ms=N      wait N ms before the final "rtc final" reading
 *   reboot-once    print the seeds, set the clock to 2000-01-01 and reboot;
 *                  the second boot sees the clock kept and runs the tests
 */
#include <vireo/sha256.h>
#include <vireo/vplic.h>
#include <vireo/vrtc.h>
#include "fdt.h"
#include "fdt_chosen.h"
#include "fdt_probe.h"
#include "fdt_walk.h"
#include "guest.h"

const char guest_name[] = "platform";

#define NS			  1000000000ULL
#define MS			  1000000ULL
#define Y2K			  946684800ULL /* 2000-01-01 00:00:00 UTC */
#define Y2K1			  978307200ULL /* 2001-01-01: "still around 2000" */
#define LATE_MS			  2000
#define IRQ_S_EXT		  9
#define SIE_SEIE		  (1UL << IRQ_S_EXT)
#define SBI_SRST_TYPE_COLD_REBOOT 1

static struct fdt_cpus cpus;
static unsigned plic_context; /* this hart's S-mode context: 2 * hartid + 1 */

static volatile unsigned long rtc_irqs, other_irqs;
static volatile uint64_t irq_rtc_ns; /* the RTC's time when its interrupt came */

/* ---------------------------------------------------------------- time and MMIO */

static uint64_t ticks(void)
{
	return csr_read(time);
}

static uint64_t ms_ticks(uint64_t ms)
{
	return ms * cpus.timebase_hz / 1000;
}

static void spin_ms(uint64_t ms)
{
	uint64_t end = ticks() + ms_ticks(ms);

	while (ticks() < end)
		cpu_relax();
}

static uint32_t rtc_rd(unsigned reg)
{
	return *(volatile uint32_t *)(VM_RTC_BASE + reg);
}

static void rtc_wr(unsigned reg, uint32_t v)
{
	*(volatile uint32_t *)(VM_RTC_BASE + reg) = v;
}

/* As Linux reads it: LOW (which latches HIGH), then HIGH. */
static uint64_t rtc_now(void)
{
	uint64_t low = rtc_rd(VRTC_TIME_LOW);

	return (uint64_t)rtc_rd(VRTC_TIME_HIGH) << 32 | low;
}

static void rtc_set(uint64_t ns)
{
	rtc_wr(VRTC_TIME_HIGH, (uint32_t)(ns >> 32));
	rtc_wr(VRTC_TIME_LOW, (uint32_t)ns);
}

static void rtc_alarm(uint64_t ns)
{
	rtc_wr(VRTC_ALARM_HIGH, (uint32_t)(ns >> 32));
	rtc_wr(VRTC_ALARM_LOW, (uint32_t)ns);
}

static void plic_wr(unsigned long off, uint32_t v)
{
	*(volatile uint32_t *)(VM_PLIC_BASE + off) = v;
}

static uint32_t plic_rd(unsigned long off)
{
	return *(volatile uint32_t *)(VM_PLIC_BASE + off);
}

static unsigned long ctx_reg(unsigned long reg)
{
	return VPLIC_CONTEXT_BASE + plic_context * VPLIC_CONTEXT_STRIDE + reg;
}

static void print_time(const char *what, uint64_t ns)
{
	printf("platform: rtc %s %lu.%09lu\n", what, (unsigned long)(ns / NS),
	       (unsigned long)(ns % NS));
}

/* ---------------------------------------------------------------- the device tree */

struct dt_scan {
	const char *hv_compat, *hv_version;
	const uint8_t *rng, *kaslr;
	uint32_t rng_len, kaslr_len;
};

static bool scan_prop(void *ctx, const struct fdt_prop *p)
{
	struct dt_scan *s = ctx;

	if (p->depth != 2)
		return false;
	if (strcmp(p->node, "hypervisor") == 0 && strcmp(p->name, "compatible") == 0)
		s->hv_compat = (const char *)p->value;
	if (strcmp(p->node, "hypervisor") == 0 && strcmp(p->name, "version") == 0)
		s->hv_version = (const char *)p->value;
	if (strcmp(p->node, "chosen") == 0 && strcmp(p->name, "rng-seed") == 0) {
		s->rng = p->value;
		s->rng_len = p->len;
	}
	if (strcmp(p->node, "chosen") == 0 && strcmp(p->name, "kaslr-seed") == 0) {
		s->kaslr = p->value;
		s->kaslr_len = p->len;
	}
	return false;
}

static struct dt_scan dt;

/* "sha256 " and the first 8 bytes of the digest in hex: enough to tell seeds apart. */
static void print_fingerprint(const char *what, const uint8_t *p, uint32_t len)
{
	uint8_t d[SHA256_DIGEST_SIZE];

	if (!p) {
		printf("platform: no %s\n", what);
		return;
	}
	sha256(p, len, d);
	printf("platform: %s %u bytes, sha256 %02x%02x%02x%02x%02x%02x%02x%02x\n", what, len, d[0],
	       d[1], d[2], d[3], d[4], d[5], d[6], d[7]);
}

static const char *check_hypervisor(void)
{
	if (!dt.hv_compat)
		return test_why("no /hypervisor/compatible");
	if (strcmp(dt.hv_compat, "vireo,hypervisor") != 0)
		return test_why("/hypervisor/compatible is '%s'", dt.hv_compat);
	if (!dt.hv_version || !dt.hv_version[0])
		return test_why("no /hypervisor/version");
	return NULL;
}

static const char *check_seeds(void)
{
	uint32_t nonzero = 0;

	if (!dt.rng || dt.rng_len != 64)
		return test_why("rng-seed is %u bytes, want 64", dt.rng ? dt.rng_len : 0);
	if (!dt.kaslr || dt.kaslr_len != 8)
		return test_why("kaslr-seed is %u bytes, want 8", dt.kaslr ? dt.kaslr_len : 0);
	for (uint32_t i = 0; i < dt.rng_len; i++)
		nonzero += dt.rng[i] != 0;
	if (nonzero < 32)
		return test_why("rng-seed has only %u nonzero bytes of 64", nonzero);
	if (memcmp(dt.kaslr, dt.rng, 8) == 0)
		return test_why("kaslr-seed repeats the start of rng-seed");
	return NULL;
}

/* ---------------------------------------------------------------- interrupts */

static bool irq_hook(struct trap_frame *tf)
{
	if (tf->scause != (CAUSE_INTERRUPT | IRQ_S_EXT))
		return false;
	uint32_t src = plic_rd(ctx_reg(VPLIC_CONTEXT_CLAIM));
	if (src == VM_RTC_IRQ) {
		irq_rtc_ns = rtc_now();
		rtc_irqs = rtc_irqs + 1;
		rtc_wr(VRTC_CLEAR_INTERRUPT, 1); /* as the Linux driver does */
	} else if (src) {
		other_irqs = other_irqs + 1;
	}
	if (src)
		plic_wr(ctx_reg(VPLIC_CONTEXT_CLAIM), src); /* complete */
	return true;
}

static void plic_setup(void)
{
	plic_context = 2 * (unsigned)current_hartid() + 1;
	plic_wr(VPLIC_PRIORITY_BASE + 4 * VM_RTC_IRQ, 1);
	plic_wr(VPLIC_ENABLE_BASE + plic_context * VPLIC_ENABLE_STRIDE, 1u << VM_RTC_IRQ);
	plic_wr(ctx_reg(VPLIC_CONTEXT_THRESHOLD), 0);
	trap_set_hook(irq_hook);
	csr_set(sie, SIE_SEIE);
}

/* Interrupts on until the RTC interrupts (or ms pass); true if it did. */
static bool wait_rtc_irq(unsigned long before, uint64_t ms)
{
	uint64_t end = ticks() + ms_ticks(ms);

	csr_set(sstatus, SSTATUS_SIE);
	while (rtc_irqs == before && ticks() < end)
		cpu_relax();
	csr_clear(sstatus, SSTATUS_SIE);
	return rtc_irqs != before;
}

/* ---------------------------------------------------------------- RTC checks */

/* The clock runs at the rate of the time counter. */
static const char *check_ticks(void)
{
	uint64_t a = rtc_now(), t0 = ticks(), b, dt_ns;

	spin_ms(100);
	b = rtc_now();
	dt_ns = (ticks() - t0) * (NS / cpus.timebase_hz);
	if (b <= a)
		return test_why("the RTC did not advance: %lu then %lu", (unsigned long)a,
				(unsigned long)b);
	if (b - a + 5 * MS < dt_ns || b - a > dt_ns + 5 * MS)
		return test_why("the RTC advanced %lu ns while the counter says %lu ns",
				(unsigned long)(b - a), (unsigned long)dt_ns);
	return NULL;
}

/*
 * TIME_HIGH is the high half as of the last TIME_LOW read. Put the low half
 * 5 ms before its wrap, read LOW, wait past the wrap: HIGH must still show
 * the old high half; a new LOW read then latches the new one. The clock is
 * put back (to within microseconds) afterwards.
 */
static const char *check_latch(void)
{
	uint64_t before = rtc_now(), t0 = ticks();
	uint64_t x = (0x12345ULL << 32) | (0xffffffffULL - 5 * MS);
	uint32_t lo, hi, lo2, hi2;

	rtc_set(x);
	lo = rtc_rd(VRTC_TIME_LOW);
	spin_ms(20);
	hi = rtc_rd(VRTC_TIME_HIGH);
	lo2 = rtc_rd(VRTC_TIME_LOW);
	hi2 = rtc_rd(VRTC_TIME_HIGH);
	rtc_set(before + (ticks() - t0) * (NS / cpus.timebase_hz));
	if (lo < 0xffffffffU - 5 * MS || hi != 0x12345)
		return test_why("LOW %#x then, 20 ms later, HIGH %#x: not the latched 0x12345", lo,
				hi);
	if (hi2 != 0x12346 || lo2 > 100 * MS)
		return test_why("after the wrap: LOW %#x HIGH %#x, want HIGH 0x12346", lo2, hi2);
	return NULL;
}

static const char *check_set(uint64_t secs)
{
	uint64_t got;

	rtc_set(secs * NS);
	got = rtc_now();
	print_time("set", got);
	if (got < secs * NS || got > (secs + 1) * NS)
		return test_why("set %lu s, reads %lu ns", (unsigned long)secs, (unsigned long)got);
	return NULL;
}

/* An alarm 30 ms ahead comes as one interrupt, not before its time, and disarms. */
static const char *check_alarm(void)
{
	unsigned long before = rtc_irqs;
	uint64_t at = rtc_now() + 30 * MS;

	rtc_wr(VRTC_IRQ_ENABLED, 1);
	rtc_alarm(at);
	if (rtc_rd(VRTC_ALARM_STATUS) != 1)
		return test_why("ALARM_STATUS is not 1 after arming");
	if (!wait_rtc_irq(before, LATE_MS))
		return test_why("no RTC interrupt within %d ms of the alarm", LATE_MS);
	spin_ms(50);
	if (rtc_irqs != before + 1 || other_irqs)
		return test_why("%lu RTC interrupts (want 1), %lu others", rtc_irqs - before,
				other_irqs);
	if (irq_rtc_ns < at)
		return test_why("the interrupt came %lu ns before the alarm time",
				(unsigned long)(at - irq_rtc_ns));
	if (rtc_rd(VRTC_ALARM_STATUS) != 0)
		return test_why("ALARM_STATUS still 1 after the alarm fired");
	printf("platform: alarm interrupt %lu us after its time\n",
	       (unsigned long)((irq_rtc_ns - at) / 1000));
	return NULL;
}

/* With IRQ_ENABLED clear the alarm fires silently; enabling then delivers it. */
static const char *check_alarm_masked(void)
{
	unsigned long before = rtc_irqs;

	rtc_wr(VRTC_IRQ_ENABLED, 0);
	rtc_alarm(rtc_now() + 10 * MS);
	if (wait_rtc_irq(before, 60))
		return test_why("an interrupt came with IRQ_ENABLED clear");
	if (rtc_rd(VRTC_ALARM_STATUS) != 0)
		return test_why("the alarm did not fire (ALARM_STATUS still 1)");
	rtc_wr(VRTC_IRQ_ENABLED, 1);
	if (!wait_rtc_irq(before, LATE_MS))
		return test_why("enabling interrupts did not deliver the fired alarm");
	return NULL;
}

/* CLEAR_ALARM disarms: nothing comes. */
static const char *check_clear_alarm(void)
{
	unsigned long before = rtc_irqs;

	rtc_wr(VRTC_IRQ_ENABLED, 1);
	rtc_alarm(rtc_now() + 30 * MS);
	rtc_wr(VRTC_CLEAR_ALARM, 1);
	if (rtc_rd(VRTC_ALARM_STATUS) != 0)
		return test_why("ALARM_STATUS still 1 after CLEAR_ALARM");
	if (wait_rtc_irq(before, 150))
		return test_why("a cleared alarm interrupted");
	rtc_wr(VRTC_IRQ_ENABLED, 0);
	return NULL;
}

/* ---------------------------------------------------------------- bootargs */

/* The decimal value of key=N in the bootargs, or fallback. */
static uint64_t arg_value(const char *args, const char *key, uint64_t fallback)
{
	const char *p = args ? strstr(args, key) : NULL;
	uint64_t v = 0;

	if (!p)
		return fallback;
	for (p += strlen(key); *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	return v;
}

static NORETURN void reboot(void)
{
	sbi_call(SBI_EXT_SRST, SBI_SRST_SYSTEM_RESET, SBI_SRST_TYPE_COLD_REBOOT, 0, 0, 0, 0, 0);
	test_report("platform", test_why("SBI reboot returned"));
	guest_exit(GUEST_STATUS_FAIL);
}

/* ---------------------------------------------------------------- main */

static void rtc_tests(const char *args)
{
	uint64_t now = rtc_now();
	bool reboot_once = args && strstr(args, "reboot-once");

	print_time("now", now);
	if (reboot_once && now >= Y2K1 * NS) {
		rtc_set(Y2K * NS);
		printf("platform: clock set to 2000-01-01, rebooting\n");
		reboot();
	}
	if (reboot_once)
		print_time("kept across the reboot", now);
	plic_setup();
	test_run("platform.rtc-ticks", check_ticks);
	test_run("platform.rtc-latch", check_latch);
	uint64_t set = arg_value(args, "rtc-set=", 0);
	if (set) {
		const char *why = check_set(set);
		test_report("platform.rtc-set", why);
	}
	test_run("platform.rtc-alarm", check_alarm);
	test_run("platform.rtc-alarm-masked", check_alarm_masked);
	test_run("platform.rtc-clear-alarm", check_clear_alarm);
	spin_ms(arg_value(args, "wait-ms=", 0));
	print_time("final", rtc_now());
}

int guest_main(unsigned long hartid, unsigned long dtb)
{
	static const struct fdt_walk_ops ops = {.prop = scan_prop};
	const char *args = fdt_bootargs(dtb);

	(void)hartid;
	if (fdt_read_cpus(dtb, &cpus) < 0 || fdt_walk(dtb, &ops, &dt) < 0 || !cpus.timebase_hz) {
		test_report("platform", test_why("no valid DTB at 0x%lx", dtb));
		return GUEST_STATUS_FAIL;
	}
	printf("platform: hypervisor '%s' version '%s'\n", dt.hv_compat ? dt.hv_compat : "",
	       dt.hv_version ? dt.hv_version : "");
	print_fingerprint("rng-seed", dt.rng, dt.rng_len);
	print_fingerprint("kaslr-seed", dt.kaslr, dt.kaslr_len);
	test_run("platform.hypervisor", check_hypervisor);
	if (args && strstr(args, "no-seed"))
		printf("platform: not checking the seeds\n");
	else
		test_run("platform.seeds", check_seeds);
	if (fdt_has_compatible(dtb, "google,goldfish-rtc"))
		rtc_tests(args);
	else
		printf("platform: no rtc\n");
	test_report("platform", test_failures() ? "see the failures above" : NULL);
	return test_failures() ? GUEST_STATUS_FAIL : 0;
}
