// SPDX-License-Identifier: BSD-2-Clause
/*
 * SBI SSE (supervisor software events) from VS-mode, with a real handler:
 * sse_entry (below) saves what it uses, calls sse_handler in C, restores and
 * calls sbi_sse_complete, which must not return. The checks: event ids and
 * states and their errors; attributes; a local event injected into itself
 * runs at once, between the inject ecall and the next instruction, with
 * a6 = hart id, a7 = its argument, the interrupted state saved as the
 * specification says and restored by complete (sepc, sstatus SIE/SPIE/SPP,
 * a6/a7, and a0 = the inject's result untouched); masked events wait and run
 * when the hart unmasks; a one-shot event is disabled by its completion; a
 * higher priority event preempts a running one, a lower one waits for it;
 * and a global event reaches its preferred hart (hart 1) even while that
 * hart sleeps in wfi with every interrupt disabled.
 */
#include "fdt.h"
#include "guest.h"
#include "sbi_v3.h"

const char guest_name[] = "sse";

#define LOCAL		    SBI_SSE_EVENT_LOCAL_SOFTWARE
#define GLOBAL		    SBI_SSE_EVENT_GLOBAL_SOFTWARE
#define ARG_LOCAL	    0x10ca1UL
#define ARG_GLOBAL	    0x910ba1UL
#define SEPC_MARK	    0x80123454UL
#define OUTSIDE_RAM	    0x1000UL
#define WAIT_MS		    5000
#define STACK_SIZE	    (8 * KIB)
#define DEFAULT_TIMEBASE_HZ 10000000
#define SSTATUS_SPIE	    (1UL << 5)
#define MAX_RECORDS	    16

/* ---------------------------------------------------------------- the handler */

void sse_entry(void);
void sse_handler(unsigned long hartid, unsigned long arg);

/* Entered with a6 = hart id, a7 = ENTRY_ARG, every other register the interrupted
 * context's (SBI restores a6/a7 itself on complete). */
__asm__(".text\n"
	".globl sse_entry\n"
	".balign 4\n"
	"sse_entry:\n"
	"	addi	sp, sp, -128\n"
	"	sd	ra, 0(sp)\n"
	"	sd	t0, 8(sp)\n"
	"	sd	t1, 16(sp)\n"
	"	sd	t2, 24(sp)\n"
	"	sd	a0, 32(sp)\n"
	"	sd	a1, 40(sp)\n"
	"	sd	a2, 48(sp)\n"
	"	sd	a3, 56(sp)\n"
	"	sd	a4, 64(sp)\n"
	"	sd	a5, 72(sp)\n"
	"	sd	t3, 80(sp)\n"
	"	sd	t4, 88(sp)\n"
	"	sd	t5, 96(sp)\n"
	"	sd	t6, 104(sp)\n"
	"	mv	a0, a6\n"
	"	mv	a1, a7\n"
	"	call	sse_handler\n"
	"	ld	ra, 0(sp)\n"
	"	ld	t0, 8(sp)\n"
	"	ld	t1, 16(sp)\n"
	"	ld	t2, 24(sp)\n"
	"	ld	a0, 32(sp)\n"
	"	ld	a1, 40(sp)\n"
	"	ld	a2, 48(sp)\n"
	"	ld	a3, 56(sp)\n"
	"	ld	a4, 64(sp)\n"
	"	ld	a5, 72(sp)\n"
	"	ld	t3, 80(sp)\n"
	"	ld	t4, 88(sp)\n"
	"	ld	t5, 96(sp)\n"
	"	ld	t6, 104(sp)\n"
	"	addi	sp, sp, 128\n"
	"	li	a7, 0x535345\n" /* SBI_EXT_SSE */
	"	li	a6, 6\n"	/* sbi_sse_complete */
	"	ecall\n"
	"1:	j	1b\n"); /* complete does not return */

/* One delivery, as the handler saw it. */
struct record {
	unsigned long hartid, arg, sepc, sstatus;
	unsigned long interrupted[4]; /* SEPC, FLAGS, A6, A7 */
	long attr_error;
};

static struct record records[MAX_RECORDS];
static volatile unsigned nrecords;
static char order[MAX_RECORDS + 1];
static volatile unsigned norder;
static volatile bool nest_higher, nest_lower; /* the local handler injects the global */

static struct sbiret sse(unsigned long fid, unsigned long a0, unsigned long a1, unsigned long a2)
{
	return sbi_call3(SBI_EXT_SSE, fid, a0, a1, a2);
}

static void note(char c)
{
	unsigned n = norder;

	if (n < MAX_RECORDS)
		order[n] = c;
	norder = n + 1;
}

void sse_handler(unsigned long hartid, unsigned long arg)
{
	unsigned n = __atomic_fetch_add(&nrecords, 1, __ATOMIC_RELAXED);
	struct record *r = &records[n % MAX_RECORDS];
	unsigned long attrs[4];
	struct sbiret ret;

	r->hartid = hartid;
	r->arg = arg;
	r->sepc = csr_read(sepc);
	r->sstatus = csr_read(sstatus);
	ret = sbi_call5(SBI_EXT_SSE, SBI_SSE_READ_ATTRS, arg == ARG_GLOBAL ? GLOBAL : LOCAL,
			SBI_SSE_ATTR_INTERRUPTED_SEPC, 4, (unsigned long)attrs, 0);
	r->attr_error = ret.error;
	for (unsigned i = 0; i < 4; i++)
		r->interrupted[i] = attrs[i];
	note(arg == ARG_GLOBAL ? 'G' : 'L');
	if (arg == ARG_LOCAL && (nest_higher || nest_lower)) {
		nest_higher = nest_lower = false;
		sse(SBI_SSE_INJECT, GLOBAL, 0, 0);
		note('l'); /* the local handler goes on */
	}
}

/* ---------------------------------------------------------------- helpers */

static struct fdt_cpus cpus;
static unsigned long boot_hartid, other_hartid = ~0UL;

static uint64_t ms_to_ticks(uint64_t ms)
{
	return ms * (cpus.timebase_hz ? cpus.timebase_hz : DEFAULT_TIMEBASE_HZ) / 1000;
}

static unsigned long attr(unsigned long event, unsigned long id)
{
	unsigned long value = ~0UL;

	sbi_call5(SBI_EXT_SSE, SBI_SSE_READ_ATTRS, event, id, 1, (unsigned long)&value, 0);
	return value;
}

static long set_attr(unsigned long event, unsigned long id, unsigned long value)
{
	static unsigned long buf;

	buf = value;
	return sbi_call5(SBI_EXT_SSE, SBI_SSE_WRITE_ATTRS, event, id, 1, (unsigned long)&buf, 0)
	    .error;
}

#define EXPECT(what, err_expr, want)                                                               \
	do {                                                                                       \
		long e_ = (err_expr);                                                              \
		if (e_ != (want))                                                                  \
			return test_why("%s returned %ld, want %ld", what, e_, (long)(want));      \
	} while (0)

static unsigned long status(unsigned long event)
{
	return attr(event, SBI_SSE_ATTR_STATUS);
}

/* ---------------------------------------------------------------- checks */

static const char *check_ids(void)
{
	static const struct {
		unsigned long id;
		long error;
	} bad[] = {
	    {0x00000000, SBI_ERR_NOT_SUPPORTED}, /* RAS: no source here */
	    {0x00010000, SBI_ERR_NOT_SUPPORTED}, /* PMU overflow */
	    {0x00000002, SBI_ERR_INVALID_PARAM}, /* reserved */
	    {0x00004000, SBI_ERR_INVALID_PARAM}, /* platform */
	    {0xffff0001, SBI_ERR_INVALID_PARAM},
	};

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT("register",
		       sse(SBI_SSE_REGISTER, bad[i].id, (unsigned long)sse_entry, 0).error,
		       bad[i].error);
		EXPECT("enable", sse(SBI_SSE_ENABLE, bad[i].id, 0, 0).error, bad[i].error);
		EXPECT("inject", sse(SBI_SSE_INJECT, bad[i].id, boot_hartid, 0).error,
		       bad[i].error);
	}
	EXPECT("unknown FID 10", sse(10, 0, 0, 0).error, SBI_ERR_NOT_SUPPORTED);
	return NULL;
}

static const char *check_states(void)
{
	unsigned long entry = (unsigned long)sse_entry;

	if (status(LOCAL) != SBI_SSE_STATUS_INJECTABLE)
		return test_why("local event status 0x%lx, want UNUSED and injectable",
				status(LOCAL));
	EXPECT("enable unused", sse(SBI_SSE_ENABLE, LOCAL, 0, 0).error, SBI_ERR_INVALID_STATE);
	EXPECT("unregister unused", sse(SBI_SSE_UNREGISTER, LOCAL, 0, 0).error,
	       SBI_ERR_INVALID_STATE);
	EXPECT("register at an odd pc", sse(SBI_SSE_REGISTER, LOCAL, entry + 1, 0).error,
	       SBI_ERR_INVALID_PARAM);
	EXPECT("register", sse(SBI_SSE_REGISTER, LOCAL, entry, ARG_LOCAL).error, 0);
	EXPECT("register twice", sse(SBI_SSE_REGISTER, LOCAL, entry, ARG_LOCAL).error,
	       SBI_ERR_INVALID_STATE);
	EXPECT("disable registered", sse(SBI_SSE_DISABLE, LOCAL, 0, 0).error,
	       SBI_ERR_INVALID_STATE);
	EXPECT("enable", sse(SBI_SSE_ENABLE, LOCAL, 0, 0).error, 0);
	EXPECT("enable twice", sse(SBI_SSE_ENABLE, LOCAL, 0, 0).error, SBI_ERR_INVALID_STATE);
	EXPECT("unregister enabled", sse(SBI_SSE_UNREGISTER, LOCAL, 0, 0).error,
	       SBI_ERR_INVALID_STATE);
	if (status(LOCAL) != (SBI_SSE_ENABLED | SBI_SSE_STATUS_INJECTABLE))
		return test_why("status 0x%lx after enable", status(LOCAL));
	EXPECT("mask while masked", sse(SBI_SSE_HART_MASK, 0, 0, 0).error, SBI_ERR_ALREADY_STOPPED);
	EXPECT("register global", sse(SBI_SSE_REGISTER, GLOBAL, entry, ARG_GLOBAL).error, 0);
	return NULL;
}

static const char *check_attrs(void)
{
	static unsigned long all[10];
	struct sbiret ret =
	    sbi_call5(SBI_EXT_SSE, SBI_SSE_READ_ATTRS, LOCAL, 0, 10, (unsigned long)all, 0);

	if (ret.error)
		return test_why("reading all 10 attributes returned %ld", ret.error);
	if (all[SBI_SSE_ATTR_ENTRY_PC] != (unsigned long)sse_entry ||
	    all[SBI_SSE_ATTR_ENTRY_ARG] != ARG_LOCAL ||
	    all[SBI_SSE_ATTR_PREFERRED_HART] != boot_hartid || all[SBI_SSE_ATTR_PRIORITY] != 0)
		return test_why("attributes: entry 0x%lx arg 0x%lx hart %lu priority %lu",
				all[SBI_SSE_ATTR_ENTRY_PC], all[SBI_SSE_ATTR_ENTRY_ARG],
				all[SBI_SSE_ATTR_PREFERRED_HART], all[SBI_SSE_ATTR_PRIORITY]);
	EXPECT("read 0 attributes",
	       sbi_call5(SBI_EXT_SSE, SBI_SSE_READ_ATTRS, LOCAL, 0, 0, (unsigned long)all, 0).error,
	       SBI_ERR_INVALID_PARAM);
	EXPECT("read attributes 9..10",
	       sbi_call5(SBI_EXT_SSE, SBI_SSE_READ_ATTRS, LOCAL, 9, 2, (unsigned long)all, 0).error,
	       SBI_ERR_BAD_RANGE);
	EXPECT("read into 0x1000",
	       sbi_call5(SBI_EXT_SSE, SBI_SSE_READ_ATTRS, LOCAL, 0, 1, OUTSIDE_RAM, 0).error,
	       SBI_ERR_INVALID_ADDRESS);
	EXPECT("read into a misaligned buffer",
	       sbi_call5(SBI_EXT_SSE, SBI_SSE_READ_ATTRS, LOCAL, 0, 1, (unsigned long)all + 4, 0)
		   .error,
	       SBI_ERR_INVALID_ADDRESS);
	EXPECT("write STATUS", set_attr(LOCAL, SBI_SSE_ATTR_STATUS, 0), SBI_ERR_DENIED);
	EXPECT("write ENTRY_PC", set_attr(LOCAL, SBI_SSE_ATTR_ENTRY_PC, 0), SBI_ERR_DENIED);
	EXPECT("write a local PREFERRED_HART", set_attr(LOCAL, SBI_SSE_ATTR_PREFERRED_HART, 0),
	       SBI_ERR_DENIED);
	EXPECT("write PRIORITY while enabled", set_attr(LOCAL, SBI_SSE_ATTR_PRIORITY, 1),
	       SBI_ERR_INVALID_STATE);
	EXPECT("write INTERRUPTED_SEPC, not running",
	       set_attr(LOCAL, SBI_SSE_ATTR_INTERRUPTED_SEPC, 0), SBI_ERR_INVALID_STATE);
	EXPECT("write PRIORITY > 32 bits", set_attr(GLOBAL, SBI_SSE_ATTR_PRIORITY, 1UL << 32),
	       SBI_ERR_INVALID_PARAM);
	EXPECT("write CONFIG bit 1", set_attr(GLOBAL, SBI_SSE_ATTR_CONFIG, 2),
	       SBI_ERR_INVALID_PARAM);
	EXPECT("write a hart the VM lacks", set_attr(GLOBAL, SBI_SSE_ATTR_PREFERRED_HART, 4096),
	       SBI_ERR_INVALID_PARAM);
	return NULL;
}

/* Inject the local event into this hart with known interrupted state; the handler must
 * have run before the next instruction. */
static const char *check_local(void)
{
	unsigned before = nrecords;
	unsigned long st, ep;
	struct record *r;
	struct sbiret ret;

	EXPECT("unmask", sse(SBI_SSE_HART_UNMASK, 0, 0, 0).error, 0);
	EXPECT("unmask twice", sse(SBI_SSE_HART_UNMASK, 0, 0, 0).error, SBI_ERR_ALREADY_STARTED);
	csr_write(sepc, SEPC_MARK);
	csr_clear(sstatus, SSTATUS_SPP | SSTATUS_SPIE);
	csr_set(sstatus, SSTATUS_SIE); /* nothing is enabled in sie: no interrupt comes */
	ret = sse(SBI_SSE_INJECT, LOCAL, boot_hartid, 0);
	st = csr_read(sstatus);
	ep = csr_read(sepc);
	csr_clear(sstatus, SSTATUS_SIE);
	if (nrecords != before + 1)
		return test_why("%u deliveries, want 1 right after the inject", nrecords - before);
	r = &records[before % MAX_RECORDS];
	if (ret.error != 0)
		return test_why("inject returned %ld (a0 after the handler)", ret.error);
	if (r->hartid != boot_hartid || r->arg != ARG_LOCAL)
		return test_why("handler got a6 = %lu, a7 = 0x%lx", r->hartid, r->arg);
	if ((r->sstatus & SSTATUS_SIE) || !(r->sstatus & SSTATUS_SPIE) ||
	    !(r->sstatus & SSTATUS_SPP))
		return test_why("handler's sstatus 0x%lx: want SIE 0, SPIE 1, SPP 1", r->sstatus);
	if (r->attr_error || r->interrupted[0] != SEPC_MARK || r->interrupted[1] != 0 ||
	    r->interrupted[2] != SBI_SSE_INJECT || r->interrupted[3] != SBI_EXT_SSE)
		return test_why("interrupted state %ld: sepc 0x%lx flags 0x%lx a6 0x%lx a7 0x%lx",
				r->attr_error, r->interrupted[0], r->interrupted[1],
				r->interrupted[2], r->interrupted[3]);
	if (r->sepc == SEPC_MARK)
		return test_why("the handler's sepc is not the interrupted pc");
	if (ep != SEPC_MARK || !(st & SSTATUS_SIE) || (st & (SSTATUS_SPIE | SSTATUS_SPP)))
		return test_why("after complete: sepc 0x%lx, sstatus 0x%lx", ep, st);
	if (status(LOCAL) != (SBI_SSE_ENABLED | SBI_SSE_STATUS_INJECTABLE))
		return test_why("status 0x%lx after complete", status(LOCAL));
	/* Nothing running: complete just returns. */
	EXPECT("complete with nothing running", sse(SBI_SSE_COMPLETE, 0, 0, 0).error, 0);
	return NULL;
}

static const char *check_masked(void)
{
	unsigned before = nrecords;
	struct record *r;

	EXPECT("mask", sse(SBI_SSE_HART_MASK, 0, 0, 0).error, 0);
	EXPECT("inject", sse(SBI_SSE_INJECT, LOCAL, boot_hartid, 0).error, 0);
	if (nrecords != before)
		return test_why("delivered while masked");
	if (status(LOCAL) != (SBI_SSE_ENABLED | SBI_SSE_STATUS_PENDING | SBI_SSE_STATUS_INJECTABLE))
		return test_why("status 0x%lx: want ENABLED and pending", status(LOCAL));
	EXPECT("unmask", sse(SBI_SSE_HART_UNMASK, 0, 0, 0).error, 0);
	if (nrecords != before + 1)
		return test_why("not delivered on unmask");
	r = &records[before % MAX_RECORDS];
	if (r->interrupted[2] != SBI_SSE_HART_UNMASK)
		return test_why("interrupted a6 0x%lx, want the unmask FID", r->interrupted[2]);
	return NULL;
}

static const char *check_oneshot(void)
{
	unsigned before = nrecords;

	EXPECT("disable", sse(SBI_SSE_DISABLE, LOCAL, 0, 0).error, 0);
	EXPECT("write CONFIG one-shot", set_attr(LOCAL, SBI_SSE_ATTR_CONFIG, 1), 0);
	EXPECT("enable", sse(SBI_SSE_ENABLE, LOCAL, 0, 0).error, 0);
	EXPECT("inject", sse(SBI_SSE_INJECT, LOCAL, boot_hartid, 0).error, 0);
	if (nrecords != before + 1)
		return test_why("not delivered");
	if (status(LOCAL) != (SBI_SSE_REGISTERED | SBI_SSE_STATUS_INJECTABLE))
		return test_why("status 0x%lx after a one-shot event: want REGISTERED",
				status(LOCAL));
	EXPECT("inject again", sse(SBI_SSE_INJECT, LOCAL, boot_hartid, 0).error, 0);
	if (nrecords != before + 1)
		return test_why("a disabled event was delivered");
	/* Pending from that inject: it runs once enabled again. */
	EXPECT("write CONFIG", set_attr(LOCAL, SBI_SSE_ATTR_CONFIG, 0), 0);
	EXPECT("enable", sse(SBI_SSE_ENABLE, LOCAL, 0, 0).error, 0);
	if (nrecords != before + 2)
		return test_why("the pending event did not run when enabled");
	return NULL;
}

static const char *nested(unsigned long local_prio, unsigned long global_prio, bool higher,
			  const char *want)
{
	/* Priorities can be set only while the events are not enabled. */
	EXPECT("disable local", sse(SBI_SSE_DISABLE, LOCAL, 0, 0).error, 0);
	EXPECT("local priority", set_attr(LOCAL, SBI_SSE_ATTR_PRIORITY, local_prio), 0);
	EXPECT("global priority", set_attr(GLOBAL, SBI_SSE_ATTR_PRIORITY, global_prio), 0);
	EXPECT("enable local", sse(SBI_SSE_ENABLE, LOCAL, 0, 0).error, 0);
	EXPECT("enable global", sse(SBI_SSE_ENABLE, GLOBAL, 0, 0).error, 0);
	norder = 0;
	if (higher)
		nest_higher = true;
	else
		nest_lower = true;
	EXPECT("inject", sse(SBI_SSE_INJECT, LOCAL, boot_hartid, 0).error, 0);
	order[norder < MAX_RECORDS ? norder : MAX_RECORDS] = 0;
	EXPECT("disable global", sse(SBI_SSE_DISABLE, GLOBAL, 0, 0).error, 0);
	if (strcmp(order, want) != 0)
		return test_why("handlers ran as \"%s\", want \"%s\"", order, want);
	return NULL;
}

static const char *check_priority(void)
{
	const char *why;

	EXPECT("global preferred hart", set_attr(GLOBAL, SBI_SSE_ATTR_PREFERRED_HART, boot_hartid),
	       0);
	why = nested(5, 1, true, "LGl"); /* the global one preempts the local handler */
	if (!why)
		why = nested(1, 5, false, "LlG"); /* it waits until the local one completes */
	return why;
}

/* Hart 1 sleeps in wfi with sie = 0: only the event can get it going. */
static volatile bool other_up, other_release;
static struct hart_boot other_boot;
static uint8_t other_stack[STACK_SIZE] __attribute__((aligned(16)));

static void other_main(unsigned long hartid, void *arg)
{
	unsigned before = nrecords;

	(void)hartid;
	(void)arg;
	csr_write(sie, 0);
	sse(SBI_SSE_HART_UNMASK, 0, 0, 0);
	other_up = true;
	while (nrecords == before)
		__asm__ volatile("wfi");
	while (!other_release)
		cpu_relax();
	sse(SBI_SSE_HART_MASK, 0, 0, 0);
}

static const char *check_global_remote(void)
{
	uint64_t end;
	unsigned before;

	if (other_hartid == ~0UL) {
		printf("sse: one hart only: no remote delivery to see\n");
		return NULL;
	}
	EXPECT("preferred hart", set_attr(GLOBAL, SBI_SSE_ATTR_PREFERRED_HART, other_hartid), 0);
	EXPECT("priority", set_attr(GLOBAL, SBI_SSE_ATTR_PRIORITY, 0), 0);
	other_boot = (struct hart_boot){(unsigned long)&other_stack[STACK_SIZE], other_main, NULL};
	if (hart_boot_start(other_hartid, &other_boot).error)
		return test_why("hart_start(%lu) failed", other_hartid);
	end = csr_read(time) + ms_to_ticks(WAIT_MS);
	while (!other_up)
		if (csr_read(time) > end)
			return test_why("hart %lu did not come up", other_hartid);
	/* Let it fall asleep, then send the event. */
	end = csr_read(time) + ms_to_ticks(20);
	while (csr_read(time) < end)
		cpu_relax();
	before = nrecords;
	EXPECT("enable global", sse(SBI_SSE_ENABLE, GLOBAL, 0, 0).error, 0);
	EXPECT("inject global", sse(SBI_SSE_INJECT, GLOBAL, 12345, 0).error, 0); /* id ignored */
	end = csr_read(time) + ms_to_ticks(WAIT_MS);
	while (nrecords == before)
		if (csr_read(time) > end)
			return test_why("the global event never ran");
	other_release = true;
	if (records[before % MAX_RECORDS].hartid != other_hartid)
		return test_why("the global event ran on hart %lu, want %lu",
				records[before % MAX_RECORDS].hartid, other_hartid);
	end = csr_read(time) + ms_to_ticks(WAIT_MS);
	for (;;) {
		struct sbiret ret = sbi_hart_get_status(other_hartid);
		if (!ret.error && ret.value == SBI_HSM_STOPPED)
			return NULL;
		if (csr_read(time) > end)
			return test_why("hart %lu did not stop", other_hartid);
	}
}

static const char *check_cleanup(void)
{
	/* Whatever state an earlier failure left them in: enabled or only registered. */
	sse(SBI_SSE_DISABLE, GLOBAL, 0, 0);
	sse(SBI_SSE_DISABLE, LOCAL, 0, 0);
	EXPECT("unregister global", sse(SBI_SSE_UNREGISTER, GLOBAL, 0, 0).error, 0);
	EXPECT("unregister local", sse(SBI_SSE_UNREGISTER, LOCAL, 0, 0).error, 0);
	sse(SBI_SSE_HART_MASK, 0, 0, 0);
	if (status(LOCAL) != SBI_SSE_STATUS_INJECTABLE ||
	    status(GLOBAL) != SBI_SSE_STATUS_INJECTABLE)
		return test_why("status 0x%lx / 0x%lx after unregistering", status(LOCAL),
				status(GLOBAL));
	return NULL;
}

int guest_main(unsigned long hartid, unsigned long dtb)
{
	boot_hartid = hartid;
	if (fdt_read_cpus(dtb, &cpus) < 0 || cpus.count == 0) {
		test_report("sse", test_why("no valid DTB at 0x%lx", dtb));
		return GUEST_STATUS_FAIL;
	}
	for (unsigned i = 0; i < cpus.count; i++)
		if (cpus.hartid[i] != hartid) {
			other_hartid = cpus.hartid[i];
			break;
		}
	printf("sse: %u hart(s), boot hart %lu\n", cpus.count, hartid);
	if (!sbi_probe_extension(SBI_EXT_SSE)) {
		test_report("sse", test_why("SSE is not offered"));
		return GUEST_STATUS_FAIL;
	}
	test_run("sse.ids", check_ids);
	if (test_run("sse.states", check_states) && test_run("sse.attrs", check_attrs) &&
	    test_run("sse.local", check_local) && test_run("sse.masked", check_masked) &&
	    test_run("sse.oneshot", check_oneshot) && test_run("sse.priority", check_priority))
		test_run("sse.global", check_global_remote);
	test_run("sse.cleanup", check_cleanup);
	test_report("sse", test_failures() ? "see the failures above" : NULL);
	return test_failures() ? GUEST_STATUS_FAIL : 0;
}
