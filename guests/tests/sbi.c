// SPDX-License-Identifier: BSD-2-Clause
/*
 * Every function of every SBI extension Vireo offers, called from the boot
 * hart with good and bad arguments: the results and error codes must be the
 * ones the SBI v3.0 specification defines. IPIs to itself must arrive as
 * supervisor software interrupts. The other harts of the VM stay stopped.
 * FWFT and DBTR are checked here too: what a hart offers (on QEMU 7.2, no
 * FWFT feature and no trigger) decides what their calls must answer. STA,
 * SUSP, PMU and SSE have guests of their own.
 */
#include "fdt.h"
#include "guest.h"
#include "sbi_v3.h"

const char guest_name[] = "sbi";

#define UNKNOWN_EID	    0x12345678UL
#define DEFAULT_TIMEBASE_HZ 10000000 /* QEMU virt, if the DTB does not say */
#define IPI_WAIT_MS	    500
#define NO_IPI_WAIT_MS	    20
#define OUTSIDE_RAM	    0x1000UL /* the boot ROM region: never guest RAM */

static struct fdt_cpus cpus;
static unsigned long boot_hartid;
static unsigned long nharts; /* hart ids are 0..nharts-1 */
static volatile unsigned long soft_irqs;

static struct sbiret call(unsigned long eid, unsigned long fid, unsigned long a0, unsigned long a1,
			  unsigned long a2)
{
	return sbi_call(eid, fid, a0, a1, a2, 0, 0, 0);
}

static uint64_t ms_to_ticks(uint64_t ms)
{
	return ms * (cpus.timebase_hz ? cpus.timebase_hz : DEFAULT_TIMEBASE_HZ) / 1000;
}

/* Load access faults a test expects (a legacy call's hart mask): where and what. */
static volatile unsigned long access_faults, access_fault_sepc, access_fault_tval;

/* A supervisor software interrupt: count it and take it down (sip.SSIP is writable). An
 * expected load access fault: note it and skip the instruction (an ecall). */
static bool irq_hook(struct trap_frame *tf)
{
	if (tf->scause == CAUSE_LOAD_ACCESS) {
		access_faults = access_faults + 1;
		access_fault_sepc = tf->sepc;
		access_fault_tval = tf->stval;
		tf->sepc += 4;
		return true;
	}
	if (tf->scause != (CAUSE_INTERRUPT | IRQ_S_SOFT))
		return false;
	csr_clear(sip, SIP_SSIP);
	soft_irqs = soft_irqs + 1;
	return true;
}

/* Wait up to ms for the count of software interrupts to reach want. */
static bool wait_soft_irqs(unsigned long want, uint64_t ms)
{
	uint64_t end = csr_read(time) + ms_to_ticks(ms);

	while (soft_irqs < want) {
		if (csr_read(time) > end)
			return false;
		cpu_relax();
	}
	return true;
}

/* ---------------------------------------------------------------- BASE */

static const unsigned long implemented[] = {
    SBI_EXT_BASE, SBI_EXT_TIME, SBI_EXT_IPI,  SBI_EXT_RFENCE, SBI_EXT_HSM, SBI_EXT_SRST,
    SBI_EXT_DBCN, SBI_EXT_PMU,	SBI_EXT_SUSP, SBI_EXT_STA,    SBI_EXT_SSE, SBI_EXT_FWFT,
    SBI_EXT_DBTR, 0x00,		0x01,	      0x02,	      0x03,	   0x04,
    0x05,	  0x06,		0x07,	      0x08,
};

static const char *check_base_ids(void)
{
	struct sbiret ret = call(SBI_EXT_BASE, SBI_BASE_GET_SPEC_VERSION, 0, 0, 0);

	if (ret.error || ret.value != SBI_SPEC_VERSION_3_0)
		return test_why("get_spec_version = %ld/0x%lx, want 0/0x%lx", ret.error, ret.value,
				SBI_SPEC_VERSION_3_0);
	ret = call(SBI_EXT_BASE, SBI_BASE_GET_IMPL_ID, 0, 0, 0);
	if (ret.error || ret.value == 0)
		return test_why("get_impl_id = %ld/0x%lx", ret.error, ret.value);
	ret = call(SBI_EXT_BASE, SBI_BASE_GET_IMPL_VERSION, 0, 0, 0);
	if (ret.error || ret.value == 0)
		return test_why("get_impl_version = %ld/0x%lx", ret.error, ret.value);
	/* The machine ids may legitimately be 0 (QEMU's are): only the call must work. */
	for (unsigned long fid = SBI_BASE_GET_MVENDORID; fid <= SBI_BASE_GET_MIMPID; fid++) {
		ret = call(SBI_EXT_BASE, fid, 0, 0, 0);
		if (ret.error)
			return test_why("base fid %lu returned %ld", fid, ret.error);
	}
	return NULL;
}

static const char *check_base_probe(void)
{
	struct sbiret ret;

	for (unsigned i = 0; i < ARRAY_SIZE(implemented); i++) {
		ret = call(SBI_EXT_BASE, SBI_BASE_PROBE_EXTENSION, implemented[i], 0, 0);
		if (ret.error || ret.value == 0)
			return test_why("probe(0x%lx) = %ld/%ld, want 0/nonzero", implemented[i],
					ret.error, ret.value);
	}
	ret = call(SBI_EXT_BASE, SBI_BASE_PROBE_EXTENSION, UNKNOWN_EID, 0, 0);
	if (ret.error || ret.value != 0)
		return test_why("probe(0x%lx) = %ld/%ld, want 0/0", UNKNOWN_EID, ret.error,
				ret.value);
	return NULL;
}

/* An unknown EID, and an unknown FID of each extension, are NOT_SUPPORTED. */
static const char *check_unknown(void)
{
	static const struct {
		unsigned long eid, fid;
	} bad[] = {
	    {UNKNOWN_EID, 0},  {SBI_EXT_BASE, 7},    {SBI_EXT_BASE, 0x100}, {SBI_EXT_TIME, 1},
	    {SBI_EXT_IPI, 1},  {SBI_EXT_RFENCE, 7},  {SBI_EXT_HSM, 4},	    {SBI_EXT_SRST, 1},
	    {SBI_EXT_DBCN, 3}, {SBI_EXT_DBCN, ~0UL}, {SBI_EXT_PMU, 9},	    {SBI_EXT_SUSP, 1},
	    {SBI_EXT_STA, 1},  {SBI_EXT_SSE, 10},    {SBI_EXT_FWFT, 2},	    {SBI_EXT_DBTR, 8},
	};

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		struct sbiret ret = call(bad[i].eid, bad[i].fid, 0, 0, 0);

		if (ret.error != SBI_ERR_NOT_SUPPORTED)
			return test_why("eid 0x%lx fid 0x%lx returned %ld, want %d", bad[i].eid,
					bad[i].fid, ret.error, SBI_ERR_NOT_SUPPORTED);
	}
	return NULL;
}

/* ---------------------------------------------------------------- TIME */

static const char *check_time(void)
{
	struct sbiret ret = sbi_set_timer(csr_read(time) + ms_to_ticks(60000));

	if (ret.error)
		return test_why("set_timer(now + 60 s) returned %ld", ret.error);
	ret = sbi_set_timer(UINT64_MAX);
	if (ret.error)
		return test_why("set_timer(UINT64_MAX) returned %ld", ret.error);
	return NULL;
}

/* ---------------------------------------------------------------- IPI */

static const char *ipi_arrives(const char *what, unsigned long mask, unsigned long base)
{
	unsigned long before = soft_irqs;
	struct sbiret ret = sbi_send_ipi(mask, base);

	if (ret.error)
		return test_why("send_ipi(%s) returned %ld", what, ret.error);
	if (!wait_soft_irqs(before + 1, IPI_WAIT_MS))
		return test_why("send_ipi(%s): no software interrupt in %d ms", what, IPI_WAIT_MS);
	return NULL;
}

/* A mask with one bad hart is refused as a whole: no IPI reaches even the good ones. */
static const char *ipi_refused(const char *what, unsigned long mask, unsigned long base)
{
	unsigned long before = soft_irqs;
	struct sbiret ret = sbi_send_ipi(mask, base);

	if (ret.error != SBI_ERR_INVALID_PARAM)
		return test_why("send_ipi(%s) returned %ld, want %d", what, ret.error,
				SBI_ERR_INVALID_PARAM);
	wait_soft_irqs(before + 1, NO_IPI_WAIT_MS);
	if (soft_irqs != before)
		return test_why("send_ipi(%s) failed but an IPI arrived", what);
	return NULL;
}

static const char *check_ipi(void)
{
	const char *why;

	csr_clear(sip, SIP_SSIP);
	csr_set(sie, SIE_SSIE);
	csr_set(sstatus, SSTATUS_SIE);
	why = ipi_arrives("self, mask 1 base hartid", 1, boot_hartid);
	if (!why)
		why = ipi_arrives("all, base -1", 0, (unsigned long)-1);
	if (!why && boot_hartid < 64)
		why = ipi_arrives("self, base 0", BIT(boot_hartid), 0);
	if (!why && nharts < 64)
		why = ipi_refused("self + hart beyond the VM", BIT(nharts) | 1, 0);
	if (!why)
		why = ipi_refused("base beyond the VM", 1, nharts);
	if (!why)
		why = ipi_refused("base + bit overflows", 2, (unsigned long)-2);
	csr_clear(sstatus, SSTATUS_SIE);
	csr_clear(sie, SIE_SSIE);
	return why;
}

/* ---------------------------------------------------------------- RFENCE */

static struct sbiret rfence(unsigned long fid, unsigned long mask, unsigned long base)
{
	/* start 0, size -1: the whole address space; ASID 0. */
	return sbi_call(SBI_EXT_RFENCE, fid, mask, base, 0, (unsigned long)-1, 0, 0);
}

static const char *check_rfence(void)
{
	unsigned long all = nharts < 64 ? BIT(nharts) - 1 : ~0UL;

	for (unsigned long fid = SBI_RFENCE_FENCE_I; fid <= SBI_RFENCE_SFENCE_VMA_ASID; fid++) {
		struct sbiret good[] = {rfence(fid, 1, boot_hartid), rfence(fid, 0, -1UL),
					rfence(fid, all, 0)};
		struct sbiret bad[] = {rfence(fid, 1, nharts), rfence(fid, 2, -2UL),
				       rfence(fid, all | (nharts < 64 ? BIT(nharts) : 0), 0)};

		for (unsigned i = 0; i < ARRAY_SIZE(good); i++)
			if (good[i].error)
				return test_why("fid %lu valid mask #%u returned %ld", fid, i,
						good[i].error);
		for (unsigned i = 0; i < ARRAY_SIZE(bad); i++)
			if (bad[i].error != SBI_ERR_INVALID_PARAM)
				return test_why("fid %lu invalid mask #%u returned %ld, want %d",
						fid, i, bad[i].error, SBI_ERR_INVALID_PARAM);
	}
	/* The HFENCE functions are for nested hypervisors: not offered. */
	for (unsigned long fid = SBI_RFENCE_HFENCE_MIN; fid <= SBI_RFENCE_HFENCE_MAX; fid++) {
		struct sbiret ret = rfence(fid, 1, boot_hartid);

		if (ret.error != SBI_ERR_NOT_SUPPORTED)
			return test_why("hfence fid %lu returned %ld, want %d", fid, ret.error,
					SBI_ERR_NOT_SUPPORTED);
	}
	return NULL;
}

/* ---------------------------------------------------------------- HSM */

static const char *expect(const char *what, struct sbiret ret, long error)
{
	if (ret.error != error)
		return test_why("%s returned %ld, want %ld", what, ret.error, error);
	return NULL;
}

static const char *check_hsm_start(void)
{
	unsigned long entry = (unsigned long)trap_vector; /* any address in RAM */
	unsigned long other = nharts > 1 ? (boot_hartid == 0 ? 1 : 0) : boot_hartid;
	const char *why;
	struct sbiret ret;

	why = expect("hart_start(self)", sbi_hart_start(boot_hartid, entry, 0),
		     SBI_ERR_ALREADY_AVAILABLE);
	if (!why)
		why = expect("hart_start(nharts)", sbi_hart_start(nharts, entry, 0),
			     SBI_ERR_INVALID_PARAM);
	if (!why)
		why =
		    expect("hart_start(-1)", sbi_hart_start(-1UL, entry, 0), SBI_ERR_INVALID_PARAM);
	if (!why)
		why = expect("hart_start(outside RAM)", sbi_hart_start(other, OUTSIDE_RAM, 0),
			     SBI_ERR_INVALID_ADDRESS);
	if (why || other == boot_hartid)
		return why;
	/* The refused start must not have started anything. */
	ret = sbi_hart_get_status(other);
	if (ret.error || ret.value != SBI_HSM_STOPPED)
		return test_why("hart %lu: status %ld/%ld after a refused start, want STOPPED",
				other, ret.error, ret.value);
	return NULL;
}

static const char *check_hsm_status(void)
{
	struct sbiret ret = sbi_hart_get_status(boot_hartid);

	if (ret.error || ret.value != SBI_HSM_STARTED)
		return test_why("get_status(self) = %ld/%ld, want 0/STARTED", ret.error, ret.value);
	for (unsigned long h = 0; h < nharts; h++) {
		ret = sbi_hart_get_status(h);
		if (h != boot_hartid && (ret.error || ret.value != SBI_HSM_STOPPED))
			return test_why("get_status(%lu) = %ld/%ld, want 0/STOPPED", h, ret.error,
					ret.value);
	}
	if (sbi_hart_get_status(nharts).error != SBI_ERR_INVALID_PARAM)
		return test_why("get_status(nharts) did not return %d", SBI_ERR_INVALID_PARAM);
	if (sbi_hart_get_status(-1UL).error != SBI_ERR_INVALID_PARAM)
		return test_why("get_status(-1) did not return %d", SBI_ERR_INVALID_PARAM);
	return NULL;
}

/* Only refused suspends here (a successful one would need a waker): see the hsm guest. */
static const char *check_hsm_suspend(void)
{
	static const unsigned long reserved[] = {0x00000001, 0x0fffffff, 0x80000001, 0x8fffffff};
	unsigned long entry = (unsigned long)trap_vector;
	const char *why = NULL;

	for (unsigned i = 0; i < ARRAY_SIZE(reserved) && !why; i++)
		if (sbi_hart_suspend(reserved[i], entry, 0).error != SBI_ERR_INVALID_PARAM)
			why = test_why("suspend type 0x%lx not refused with %d", reserved[i],
				       SBI_ERR_INVALID_PARAM);
	/* Platform-specific types Vireo does not implement are INVALID_PARAM too (v2.0). */
	if (!why)
		why = expect("suspend(platform type 0x10000000)",
			     sbi_hart_suspend(0x10000000, entry, 0), SBI_ERR_INVALID_PARAM);
	if (!why)
		why = expect("suspend(platform type 0x90000000)",
			     sbi_hart_suspend(0x90000000, entry, 0), SBI_ERR_INVALID_PARAM);
	if (!why)
		why = expect("non-retentive suspend to 0x1000",
			     sbi_hart_suspend(SBI_HSM_SUSPEND_NON_RETENTIVE, OUTSIDE_RAM, 0),
			     SBI_ERR_INVALID_ADDRESS);
	return why;
}

/* ---------------------------------------------------------------- DBCN */

static const char dbcn_line[] = "sbi: this line came through DBCN console_write\n";

static const char *check_dbcn_write(void)
{
	unsigned long len = sizeof(dbcn_line) - 1, buf = (unsigned long)dbcn_line;
	struct sbiret ret = call(SBI_EXT_DBCN, SBI_DBCN_WRITE, len, buf, 0);

	if (ret.error || (unsigned long)ret.value != len)
		return test_why("console_write = %ld/%ld, want 0/%lu", ret.error, ret.value, len);
	ret = call(SBI_EXT_DBCN, SBI_DBCN_WRITE, 0, buf, 0);
	if (ret.error || ret.value != 0)
		return test_why("console_write of 0 bytes = %ld/%ld", ret.error, ret.value);
	if (call(SBI_EXT_DBCN, SBI_DBCN_WRITE, 4, OUTSIDE_RAM, 0).error != SBI_ERR_INVALID_PARAM)
		return test_why("console_write from 0x1000 not refused");
	if (call(SBI_EXT_DBCN, SBI_DBCN_WRITE, len, buf, 1).error != SBI_ERR_INVALID_PARAM)
		return test_why("console_write with base_addr_hi = 1 not refused");
	/* Starts in RAM, but base + num_bytes wraps around. */
	if (call(SBI_EXT_DBCN, SBI_DBCN_WRITE, -1UL, buf, 0).error != SBI_ERR_INVALID_PARAM)
		return test_why("console_write of ~0 bytes not refused");
	return NULL;
}

static const char *check_dbcn_read(void)
{
	static char buf[16];
	struct sbiret ret = call(SBI_EXT_DBCN, SBI_DBCN_READ, sizeof(buf), (unsigned long)buf, 0);

	/* Nobody types here, but anything up to the buffer's size is a valid answer. */
	if (ret.error || (unsigned long)ret.value > sizeof(buf))
		return test_why("console_read = %ld/%ld", ret.error, ret.value);
	if (call(SBI_EXT_DBCN, SBI_DBCN_READ, 1, OUTSIDE_RAM, 0).error != SBI_ERR_INVALID_PARAM)
		return test_why("console_read into 0x1000 not refused");
	if (call(SBI_EXT_DBCN, SBI_DBCN_READ, 1, (unsigned long)buf, 1).error !=
	    SBI_ERR_INVALID_PARAM)
		return test_why("console_read with base_addr_hi = 1 not refused");
	return NULL;
}

static const char *check_dbcn_byte(void)
{
	static const char line[] = "sbi: this line came through DBCN console_write_byte\n";

	for (const char *p = line; *p; p++) {
		struct sbiret ret =
		    call(SBI_EXT_DBCN, SBI_DBCN_WRITE_BYTE, (unsigned char)*p, 0, 0);

		if (ret.error)
			return test_why("console_write_byte returned %ld", ret.error);
	}
	return NULL;
}

/* ---------------------------------------------------------------- SRST */

static const char *check_srst(void)
{
	static const struct {
		unsigned long type, reason;
		long error;
	} bad[] = {
	    {3, 0, SBI_ERR_INVALID_PARAM},	    /* reserved type */
	    {0xefffffff, 0, SBI_ERR_INVALID_PARAM}, /* last reserved type */
	    {0, 2, SBI_ERR_INVALID_PARAM},	    /* reserved reason */
	    {0, 0xdfffffff, SBI_ERR_INVALID_PARAM}, /* last reserved reason */
	    /* A vendor type Vireo does not implement: "platform-specific and unimplemented". */
	    {0xf0000000, 0, SBI_ERR_INVALID_PARAM},
	};

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		struct sbiret ret =
		    call(SBI_EXT_SRST, SBI_SRST_SYSTEM_RESET, bad[i].type, bad[i].reason, 0);

		if (ret.error != bad[i].error)
			return test_why("system_reset(0x%lx, 0x%lx) returned %ld, want %ld",
					bad[i].type, bad[i].reason, ret.error, bad[i].error);
	}
	return NULL;
}

/* ---------------------------------------------------------------- legacy */

#define A1_MARK 0x5a5a1234UL /* legacy calls must leave a1 alone */

/* A v0.1 call: the result is a0 alone; *a1_kept says whether a1 came back unchanged. */
static long legacy(unsigned long eid, unsigned long a0, bool *a1_kept)
{
	struct sbiret ret = sbi_call(eid, 0, a0, A1_MARK, 0, 0, 0, 0);

	*a1_kept = (unsigned long)ret.value == A1_MARK;
	return ret.error;
}

static const char *check_legacy_console(void)
{
	static const char line[] = "sbi: this line came through legacy console_putchar\n";
	bool kept;
	long ret;

	for (const char *p = line; *p; p++) {
		ret = legacy(SBI_EXT_LEGACY_PUTCHAR, (unsigned char)*p, &kept);
		if (ret || !kept)
			return test_why("putchar returned %ld (a1 %s)", ret,
					kept ? "kept" : "changed");
	}
	ret = legacy(SBI_LEGACY_CONSOLE_GETCHAR, 0, &kept);
	if (ret != -1 || !kept)
		return test_why("getchar with no input returned %ld (a1 %s), want -1", ret,
				kept ? "kept" : "changed");
	ret = legacy(SBI_LEGACY_SET_TIMER, UINT64_MAX, &kept);
	if (ret || !kept)
		return test_why("set_timer returned %ld (a1 %s)", ret, kept ? "kept" : "changed");
	return NULL;
}

/* Wait for sip.SSIP (interrupts masked by sstatus.SIE) to read `want`. */
static bool wait_ssip(bool want, uint64_t ms)
{
	uint64_t end = csr_read(time) + ms_to_ticks(ms);

	while (((csr_read(sip) & SIP_SSIP) != 0) != want) {
		if (csr_read(time) > end)
			return false;
		cpu_relax();
	}
	return true;
}

static const char *legacy_ipi_round(const uint64_t *mask)
{
	bool kept;
	long ret = legacy(SBI_LEGACY_SEND_IPI, (unsigned long)mask, &kept);

	if (ret || !kept)
		return test_why("send_ipi returned %ld (a1 %s)", ret, kept ? "kept" : "changed");
	if (!wait_ssip(true, IPI_WAIT_MS))
		return test_why("send_ipi: sip.SSIP not set after %d ms", IPI_WAIT_MS);
	/* v3.0: a positive value if an IPI was pending, 0 if none was. */
	ret = legacy(SBI_LEGACY_CLEAR_IPI, 0, &kept);
	if (ret <= 0 || !kept)
		return test_why("clear_ipi of a pending IPI returned %ld (a1 %s), want > 0", ret,
				kept ? "kept" : "changed");
	if (csr_read(sip) & SIP_SSIP)
		return test_why("clear_ipi left sip.SSIP set");
	ret = legacy(SBI_LEGACY_CLEAR_IPI, 0, &kept);
	if (ret != 0 || !kept)
		return test_why("clear_ipi with none pending returned %ld (a1 %s), want 0", ret,
				kept ? "kept" : "changed");
	return NULL;
}

static const char *check_legacy_ipi(void)
{
	/* The v0.1 calls take a pointer to the hart mask. */
	static uint64_t mask;
	const char *why;

	if (boot_hartid >= 64)
		return NULL;
	mask = BIT(boot_hartid);
	csr_clear(sip, SIP_SSIP);
	csr_set(sie, SIE_SSIE); /* sstatus.SIE stays 0: watch sip instead of trapping */
	why = legacy_ipi_round(&mask);
	csr_clear(sie, SIE_SSIE);
	csr_clear(sip, SIP_SSIP);
	return why;
}

static const char *check_legacy_fences(void)
{
	static uint64_t mask;
	bool kept;

	mask = nharts < 64 ? BIT(nharts) - 1 : ~0ULL;
	for (unsigned long eid = SBI_LEGACY_REMOTE_FENCE_I;
	     eid <= SBI_LEGACY_REMOTE_SFENCE_VMA_ASID; eid++) {
		long ret = legacy(eid, (unsigned long)&mask, &kept);

		if (ret || !kept)
			return test_why("legacy eid %lu returned %ld (a1 %s)", eid, ret,
					kept ? "kept" : "changed");
	}
	return NULL;
}

/* v3.0: a fault Vireo takes reading the hart mask for the guest is the guest's, with
 * sepc at the ecall. */
static const char *check_legacy_faults(void)
{
	for (unsigned long eid = SBI_LEGACY_SEND_IPI; eid <= SBI_LEGACY_REMOTE_SFENCE_VMA_ASID;
	     eid++) {
		unsigned long before = access_faults;
		bool kept;

		(void)legacy(eid, OUTSIDE_RAM, &kept);
		if (access_faults != before + 1)
			return test_why("legacy eid %lu with its mask at 0x%lx: %lu access faults, "
					"want 1",
					eid, OUTSIDE_RAM, access_faults - before);
		if (access_fault_tval != OUTSIDE_RAM)
			return test_why("access fault with stval 0x%lx, want 0x%lx",
					access_fault_tval, OUTSIDE_RAM);
		if (*(const uint32_t *)access_fault_sepc != 0x00000073u)
			return test_why("access fault at 0x%lx, which is not the ecall",
					access_fault_sepc);
	}
	return NULL;
}

/* ---------------------------------------------------------------- FWFT */

static struct sbiret fwft_get(unsigned long feature)
{
	return call(SBI_EXT_FWFT, SBI_FWFT_GET, feature, 0, 0);
}

static struct sbiret fwft_set(unsigned long feature, unsigned long value, unsigned long flags)
{
	return call(SBI_EXT_FWFT, SBI_FWFT_SET, feature, value, flags);
}

/* A feature the hart offers: its value can be read, set, locked. */
static const char *fwft_offered(unsigned long feature, unsigned long value)
{
	struct sbiret ret;

	printf("sbi: FWFT feature %lu offered, value %lu\n", feature, value);
	if (feature == SBI_FWFT_MISALIGNED_EXC_DELEG)
		return value == 1 ? NULL : test_why("misaligned delegation is %lu, want 1", value);
	ret = fwft_set(feature, value, 1UL << 1);
	if (ret.error != SBI_ERR_INVALID_PARAM)
		return test_why("set(%lu) with a reserved flag returned %ld", feature, ret.error);
	ret = fwft_set(feature, value, SBI_FWFT_SET_LOCK);
	if (ret.error)
		return test_why("set(%lu, %lu, LOCK) returned %ld", feature, value, ret.error);
	ret = fwft_set(feature, value, 0);
	if (ret.error != SBI_ERR_DENIED_LOCKED)
		return test_why("set(%lu) after LOCK returned %ld, want %d", feature, ret.error,
				SBI_ERR_DENIED_LOCKED);
	return NULL;
}

static const char *check_fwft(void)
{
	static const unsigned long reserved[] = {6,	     0x3fffffff, 0x40000000, 0x7fffffff,
						 0x80000000, 0xbfffffff, 0xc0000000, 0xffffffff};
	const char *why;

	for (unsigned long f = SBI_FWFT_MISALIGNED_EXC_DELEG; f <= SBI_FWFT_POINTER_MASKING_PMLEN;
	     f++) {
		struct sbiret get = fwft_get(f), set = fwft_set(f, 0, 0);

		if (get.error == SBI_ERR_NOT_SUPPORTED) {
			printf("sbi: FWFT feature %lu not supported\n", f);
			if (set.error != SBI_ERR_NOT_SUPPORTED || get.value != 0)
				return test_why("feature %lu: get says not supported, set %ld", f,
						set.error);
			continue;
		}
		if (get.error)
			return test_why("get(%lu) returned %ld", f, get.error);
		why = fwft_offered(f, (unsigned long)get.value);
		if (why)
			return why;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(reserved); i++) {
		if (fwft_get(reserved[i]).error != SBI_ERR_DENIED ||
		    fwft_set(reserved[i], 0, 0).error != SBI_ERR_DENIED)
			return test_why("feature 0x%lx is not DENIED", reserved[i]);
	}
	return NULL;
}

/* ---------------------------------------------------------------- DBTR */

static const char *check_dbtr(void)
{
	static unsigned long shmem[4];
	struct sbiret ret = call(SBI_EXT_DBTR, SBI_DBTR_NUM_TRIGGERS, 0, 0, 0);
	unsigned long area = (unsigned long)shmem;

	if (ret.error || ret.value != 0)
		return test_why("num_triggers = %ld/%ld, want 0/0 (M-mode owns them)", ret.error,
				ret.value);
	if (call(SBI_EXT_DBTR, SBI_DBTR_READ_TRIGGERS, 0, 1, 0).error != SBI_ERR_NO_SHMEM)
		return test_why("read_triggers without shared memory is not NO_SHMEM");
	if (call(SBI_EXT_DBTR, SBI_DBTR_SET_SHMEM, area + 4, 0, 0).error != SBI_ERR_INVALID_PARAM)
		return test_why("a misaligned shared memory was not refused");
	if (call(SBI_EXT_DBTR, SBI_DBTR_SET_SHMEM, area, 0, 1).error != SBI_ERR_INVALID_PARAM)
		return test_why("flags 1 were not refused");
	if (call(SBI_EXT_DBTR, SBI_DBTR_SET_SHMEM, OUTSIDE_RAM, 0, 0).error !=
	    SBI_ERR_INVALID_ADDRESS)
		return test_why("shared memory at 0x1000 was not refused");
	if (call(SBI_EXT_DBTR, SBI_DBTR_SET_SHMEM, area, 0, 0).error)
		return test_why("set_shmem failed");
	if (call(SBI_EXT_DBTR, SBI_DBTR_READ_TRIGGERS, 0, 1, 0).error != SBI_ERR_BAD_RANGE ||
	    call(SBI_EXT_DBTR, SBI_DBTR_INSTALL_TRIGGERS, 1, 0, 0).error != SBI_ERR_BAD_RANGE ||
	    call(SBI_EXT_DBTR, SBI_DBTR_UPDATE_TRIGGERS, 1, 0, 0).error != SBI_ERR_BAD_RANGE)
		return test_why("with no triggers, read/install/update are not BAD_RANGE");
	for (unsigned long fid = SBI_DBTR_UNINSTALL_TRIGGERS; fid <= SBI_DBTR_DISABLE_TRIGGERS;
	     fid++) {
		if (call(SBI_EXT_DBTR, fid, 0, 0, 0).error != 0)
			return test_why("fid %lu on an empty set failed", fid);
		if (call(SBI_EXT_DBTR, fid, 0, 1, 0).error != SBI_ERR_INVALID_PARAM)
			return test_why("fid %lu on trigger 0 is not INVALID_PARAM", fid);
	}
	if (call(SBI_EXT_DBTR, SBI_DBTR_SET_SHMEM, SBI_SHMEM_DISABLE, SBI_SHMEM_DISABLE, 0).error)
		return test_why("disabling the shared memory failed");
	return NULL;
}

/* ---------------------------------------------------------------- main */

static const struct {
	const char *name;
	test_fn fn;
} tests[] = {
    {"sbi.base.ids", check_base_ids},
    {"sbi.base.probe", check_base_probe},
    {"sbi.unknown", check_unknown},
    {"sbi.time", check_time},
    {"sbi.ipi", check_ipi},
    {"sbi.rfence", check_rfence},
    {"sbi.hsm.start", check_hsm_start},
    {"sbi.hsm.status", check_hsm_status},
    {"sbi.hsm.suspend", check_hsm_suspend},
    {"sbi.dbcn.write", check_dbcn_write},
    {"sbi.dbcn.read", check_dbcn_read},
    {"sbi.dbcn.write-byte", check_dbcn_byte},
    {"sbi.srst", check_srst},
    {"sbi.legacy.console", check_legacy_console},
    {"sbi.legacy.ipi", check_legacy_ipi},
    {"sbi.legacy.fences", check_legacy_fences},
    {"sbi.legacy.faults", check_legacy_faults},
    {"sbi.fwft", check_fwft},
    {"sbi.dbtr", check_dbtr},
};

int guest_main(unsigned long hartid, unsigned long dtb)
{
	boot_hartid = hartid;
	if (fdt_read_cpus(dtb, &cpus) < 0 || cpus.count == 0) {
		test_report("sbi", test_why("no valid DTB at 0x%lx", dtb));
		return GUEST_STATUS_FAIL;
	}
	/* Vireo numbers a VM's harts 0..n-1; the highest id + 1 is the first invalid one. */
	for (unsigned i = 0; i < cpus.count; i++)
		nharts = MAX(nharts, cpus.hartid[i] + 1);
	printf("sbi: %lu hart(s), boot hart %lu, timebase %u Hz\n", nharts, boot_hartid,
	       cpus.timebase_hz);
	trap_set_hook(irq_hook);
	for (unsigned i = 0; i < ARRAY_SIZE(tests); i++)
		test_run(tests[i].name, tests[i].fn);
	test_report("sbi", test_failures() ? "see the failures above" : NULL);
	return test_failures() ? GUEST_STATUS_FAIL : 0;
}
