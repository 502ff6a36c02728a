// SPDX-License-Identifier: BSD-2-Clause
/*
 * MMIO emulation of every RV64 load and store form against Vireo's test
 * device: each width and extension, the compressed forms (sp-based ones
 * included), destination registers other than a0, and x0. The device's
 * registers count the accesses, which proves that each one trapped to the
 * hypervisor. The suite runs twice: with the MMU off, then with the guest's
 * Sv39 on, from the image's high alias, against the device mapped at a virtual
 * address unlike its guest-physical one: the hypervisor must then take the
 * address from htval and read the instruction through the guest's page
 * tables. Only Vireo has this device: on plain QEMU the first access faults.
 */
#include "guest.h"
#include "sv39.h"
#include <vireo/printf.h>

const char guest_name[] = "mmio";

/* Where the paged run sees the device. */
#define DEV_VA 0xffffffd000000000UL

/* The device as the current address space sees it. */
static uintptr_t dev_base = VM_TESTDEV_BASE;
static const char *suite = "mmio";

#define DEV(off) (dev_base + (off))

static uint64_t testdev_reg(unsigned long reg)
{
	return *(volatile uint64_t *)DEV(reg);
}

static uint64_t access_count(void)
{
	return testdev_reg(TESTDEV_ACCESS_COUNT);
}

/* The access just made must be the only one since "before", with these properties. */
static const char *expect_access(const char *insn, uint64_t before, unsigned int width,
				 bool is_write, unsigned long offset)
{
	uint64_t count = access_count();
	uint64_t last_width = testdev_reg(TESTDEV_LAST_WIDTH);
	uint64_t last_write = testdev_reg(TESTDEV_LAST_IS_WRITE);
	uint64_t last_offset = testdev_reg(TESTDEV_LAST_OFFSET);

	if (count != before + 1)
		return test_why("%s: access count %lu -> %lu, want one more", insn, before, count);
	if (last_width != width)
		return test_why("%s: device saw width %lu, want %u", insn, last_width, width);
	if (last_write != is_write)
		return test_why("%s: device saw is_write=%lu", insn, last_write);
	if (last_offset != offset)
		return test_why("%s: device saw offset 0x%lx, want 0x%lx", insn, last_offset,
				offset);
	return NULL;
}

static const char *expect_value(const char *insn, uint64_t got, uint64_t want)
{
	if (got != want)
		return test_why("%s read 0x%lx, want 0x%lx", insn, got, want);
	return NULL;
}

/* Uncompressed forms: norvc keeps the assembler from picking a 16-bit encoding. */
#define DEFINE_LOAD(insn)                                                                          \
	static uint64_t do_##insn(uintptr_t addr)                                                  \
	{                                                                                          \
		uint64_t v;                                                                        \
		__asm__ volatile(".option push\n.option norvc\n" #insn " %0, 0(%1)\n.option pop"   \
				 : "=r"(v)                                                         \
				 : "r"(addr)                                                       \
				 : "memory");                                                      \
		return v;                                                                          \
	}

#define DEFINE_STORE(insn)                                                                         \
	static void do_##insn(uintptr_t addr, uint64_t v)                                          \
	{                                                                                          \
		__asm__ volatile(".option push\n.option norvc\n" #insn " %0, 0(%1)\n.option pop"   \
				 :                                                                 \
				 : "r"(v), "r"(addr)                                               \
				 : "memory");                                                      \
	}

DEFINE_LOAD(lb)
DEFINE_LOAD(lbu)
DEFINE_LOAD(lh)
DEFINE_LOAD(lhu)
DEFINE_LOAD(lw)
DEFINE_LOAD(lwu)
DEFINE_LOAD(ld)
DEFINE_STORE(sb)
DEFINE_STORE(sh)
DEFINE_STORE(sw)
DEFINE_STORE(sd)

typedef uint64_t (*load_fn)(uintptr_t addr);
typedef void (*store_fn)(uintptr_t addr, uint64_t v);

/* One width: store a value with its sign bit set, load it back both ways. */
struct width_case {
	const char *test;
	unsigned int width;
	unsigned long offset;
	uint64_t value;
	const char *store_name, *signed_name, *unsigned_name;
	store_fn store;
	load_fn load_signed, load_unsigned; /* load_unsigned is NULL for 64 bits */
};

static uint64_t sign_extend(uint64_t v, unsigned int width)
{
	unsigned int shift = 64 - 8 * width;

	return (uint64_t)((int64_t)(v << shift) >> shift);
}

static uint64_t zero_extend(uint64_t v, unsigned int width)
{
	return width == 8 ? v : v & ((1UL << (8 * width)) - 1);
}

static const char *run_load(const struct width_case *wc, const char *name, load_fn load,
			    uint64_t want)
{
	uint64_t before = access_count();
	uint64_t got = load(DEV(wc->offset));
	const char *why = expect_access(name, before, wc->width, false, wc->offset);

	return why ? why : expect_value(name, got, want);
}

static const char *check_width(const struct width_case *wc)
{
	uint64_t before = access_count();
	const char *why;

	wc->store(DEV(wc->offset), wc->value);
	why = expect_access(wc->store_name, before, wc->width, true, wc->offset);
	if (!why)
		why = run_load(wc, wc->signed_name, wc->load_signed,
			       sign_extend(wc->value, wc->width));
	if (!why && wc->load_unsigned)
		why = run_load(wc, wc->unsigned_name, wc->load_unsigned,
			       zero_extend(wc->value, wc->width));
	return why;
}

static const struct width_case width_cases[] = {
    {"byte", 1, 0x10, 0x81, "sb", "lb", "lbu", do_sb, do_lb, do_lbu},
    {"half", 2, 0x20, 0x8102, "sh", "lh", "lhu", do_sh, do_lh, do_lhu},
    {"word", 4, 0x30, 0x81020304, "sw", "lw", "lwu", do_sw, do_lw, do_lwu},
    {"double", 8, 0x40, 0x8102030405060708UL, "sd", "ld", NULL, do_sd, do_ld, NULL},
};

/* The device is memory-like: one doubleword store, narrower little-endian loads. */
static const char *check_mixed_widths(void)
{
	const unsigned long off = 0x48;
	const char *why;

	do_sd(DEV(off), 0x8877665544332211UL);
	why = expect_value("lb", do_lb(DEV(off + 7)), 0xffffffffffffff88UL);
	if (!why)
		why = expect_value("lhu", do_lhu(DEV(off + 2)), 0x4433);
	if (!why)
		why = expect_value("lw", do_lw(DEV(off + 4)), 0xffffffff88776655UL);
	if (!why)
		why = expect_value("lbu", do_lbu(DEV(off + 1)), 0x22);
	return why;
}

/*
 * Fixed-register accesses. A register variable only holds its register at the
 * asm that uses it, so each access gets its own function that sets it up.
 */
#define RVC(insn) ".option push\n.option rvc\n" insn "\n.option pop"

/* c.sw/c.lw and c.sd/c.ld: both registers must be x8..x15. */
static void c_sw(uint64_t v)
{
	register uintptr_t base __asm__("a5") = DEV(0);
	register uint64_t val __asm__("a4") = v;

	__asm__ volatile(RVC("c.sw %0, 0x50(%1)") : : "r"(val), "r"(base) : "memory");
}

static uint64_t c_lw(void)
{
	register uintptr_t base __asm__("a5") = DEV(0);
	register uint64_t val __asm__("a4");

	__asm__ volatile(RVC("c.lw %0, 0x50(%1)") : "=r"(val) : "r"(base) : "memory");
	return val;
}

static void c_sd(uint64_t v)
{
	register uintptr_t base __asm__("s0") = DEV(0);
	register uint64_t val __asm__("a3") = v;

	__asm__ volatile(RVC("c.sd %0, 0x58(%1)") : : "r"(val), "r"(base) : "memory");
}

static uint64_t c_ld(void)
{
	register uintptr_t base __asm__("s0") = DEV(0);
	register uint64_t val __asm__("a3");

	__asm__ volatile(RVC("c.ld %0, 0x58(%1)") : "=r"(val) : "r"(base) : "memory");
	return val;
}

/*
 * The sp-based forms need sp to point at the device. Each block lends sp for
 * one instruction with interrupts off. Should that instruction trap into the
 * guest anyway, stvec meanwhile is trap_vector_sscratch_sp, which takes a
 * real stack back from sscratch instead of pushing a frame onto the device.
 * The data registers are pinned away from a0, which the compiler likes best,
 * and stores put a decoy in a0 so that a decoder reading a0 stores a wrong value.
 */
#define SP_BLOCK(insn)                                                                             \
	"csrrci %[sstatus], sstatus, 2\n"                                                          \
	"csrw sscratch, sp\n"                                                                      \
	"csrrw %[stvec], stvec, %[guard]\n"                                                        \
	"mv sp, %[base]\n" RVC(insn) "\n"                                                          \
				     "csrr sp, sscratch\n"                                         \
				     "csrw stvec, %[stvec]\n"                                      \
				     "csrw sstatus, %[sstatus]\n"

#define SP_BLOCK_SCRATCH [sstatus] "=&r"(sstatus), [stvec] "=&r"(stvec)
#define SP_BLOCK_INPUTS	 [base] "r"(DEV(0)), [guard] "r"(trap_vector_sscratch_sp)

static void c_swsp(uint64_t v)
{
	register uint64_t val __asm__("t5") = v;
	register uint64_t decoy __asm__("a0") = ~v;
	unsigned long sstatus, stvec;

	__asm__ volatile(SP_BLOCK("c.swsp %[v], 0x60(sp)")
			 : SP_BLOCK_SCRATCH
			 : SP_BLOCK_INPUTS, [v] "r"(val), "r"(decoy)
			 : "memory");
}

static uint64_t c_lwsp(void)
{
	unsigned long sstatus, stvec;
	register uint64_t v __asm__("t4");

	__asm__ volatile(SP_BLOCK("c.lwsp %[v], 0x60(sp)")
			 : SP_BLOCK_SCRATCH, [v] "=&r"(v)
			 : SP_BLOCK_INPUTS
			 : "memory");
	return v;
}

static void c_sdsp(uint64_t v)
{
	register uint64_t val __asm__("s3") = v;
	register uint64_t decoy __asm__("a0") = ~v;
	unsigned long sstatus, stvec;

	__asm__ volatile(SP_BLOCK("c.sdsp %[v], 0x68(sp)")
			 : SP_BLOCK_SCRATCH
			 : SP_BLOCK_INPUTS, [v] "r"(val), "r"(decoy)
			 : "memory");
}

static uint64_t c_ldsp(void)
{
	unsigned long sstatus, stvec;
	register uint64_t v __asm__("s4");

	__asm__ volatile(SP_BLOCK("c.ldsp %[v], 0x68(sp)")
			 : SP_BLOCK_SCRATCH, [v] "=&r"(v)
			 : SP_BLOCK_INPUTS
			 : "memory");
	return v;
}

/*
 * Registers a decoder hard-wired to a0 would get wrong: rs2 = t6 and s11 (with a
 * decoy in a0), rd = s1 and t3.
 */
static void sd_t6(uint64_t v)
{
	register uint64_t t6 __asm__("t6") = v;
	register uint64_t decoy __asm__("a0") = ~v;

	__asm__ volatile("sd %0, 0x70(%1)" : : "r"(t6), "r"(DEV(0)), "r"(decoy) : "memory");
}

static uint64_t ld_s1(void)
{
	register uint64_t s1 __asm__("s1");

	__asm__ volatile("ld %0, 0x70(%1)" : "=r"(s1) : "r"(DEV(0)) : "memory");
	return s1;
}

static void sw_s11(uint64_t v)
{
	register uint64_t s11 __asm__("s11") = v;
	register uint64_t decoy __asm__("a0") = ~v;

	__asm__ volatile("sw %0, 0x78(%1)" : : "r"(s11), "r"(DEV(0)), "r"(decoy) : "memory");
}

static uint64_t lw_t3(void)
{
	register uint64_t t3 __asm__("t3");

	__asm__ volatile("lw %0, 0x78(%1)" : "=r"(t3) : "r"(DEV(0)) : "memory");
	return t3;
}

/* A store of value and a load that must return want, at the same width and offset. */
struct pair_case {
	const char *store_name, *load_name;
	void (*store)(uint64_t v);
	uint64_t (*load)(void);
	unsigned int width;
	unsigned long offset;
	uint64_t value, want;
};

static const char *check_pair(const struct pair_case *pc)
{
	uint64_t before = access_count();
	const char *why;
	uint64_t got;

	pc->store(pc->value);
	why = expect_access(pc->store_name, before, pc->width, true, pc->offset);
	if (why)
		return why;
	before = access_count();
	got = pc->load();
	why = expect_access(pc->load_name, before, pc->width, false, pc->offset);
	return why ? why : expect_value(pc->load_name, got, pc->want);
}

static const char *check_pairs(const struct pair_case *pairs, size_t n)
{
	const char *why = NULL;

	for (size_t i = 0; i < n && !why; i++)
		why = check_pair(&pairs[i]);
	return why;
}

static const struct pair_case compressed_pairs[] = {
    {"c.sw", "c.lw", c_sw, c_lw, 4, 0x50, 0x80a0b0c0, 0xffffffff80a0b0c0UL},
    {"c.sd", "c.ld", c_sd, c_ld, 8, 0x58, 0x8001020304050607UL, 0x8001020304050607UL},
};

static const struct pair_case sp_pairs[] = {
    {"c.swsp", "c.lwsp", c_swsp, c_lwsp, 4, 0x60, 0x90a0b0c0, 0xffffffff90a0b0c0UL},
    {"c.sdsp", "c.ldsp", c_sdsp, c_ldsp, 8, 0x68, 0x8899aabbccddeeffUL, 0x8899aabbccddeeffUL},
};

static const struct pair_case register_pairs[] = {
    {"sd t6", "ld s1", sd_t6, ld_s1, 8, 0x70, 0x8000000000000abcUL, 0x8000000000000abcUL},
    {"sw s11", "lw t3", sw_s11, lw_t3, 4, 0x78, 0x80000def, 0xffffffff80000defUL},
};

static const char *check_compressed(void)
{
	return check_pairs(compressed_pairs, ARRAY_SIZE(compressed_pairs));
}

static const char *check_compressed_sp(void)
{
	return check_pairs(sp_pairs, ARRAY_SIZE(sp_pairs));
}

static const char *check_other_registers(void)
{
	return check_pairs(register_pairs, ARRAY_SIZE(register_pairs));
}

/* A load into x0 must be performed and discarded; a store of x0 writes zero. */
static const char *check_x0(void)
{
	uint64_t before;
	const char *why;

	do_sd(DEV(0x80), 0x0123456789abcdefUL);
	before = access_count();
	__asm__ volatile("ld zero, 0x80(%0)" : : "r"(DEV(0)) : "memory");
	why = expect_access("ld zero", before, 8, false, 0x80);
	if (why)
		return why;
	before = access_count();
	__asm__ volatile("lw zero, 0x84(%0)" : : "r"(DEV(0)) : "memory");
	why = expect_access("lw zero", before, 4, false, 0x84);
	if (why)
		return why;
	__asm__ volatile("sd zero, 0x80(%0)" : : "r"(DEV(0)) : "memory");
	return expect_value("ld after sd zero", do_ld(DEV(0x80)), 0);
}

static const char *check_present(void)
{
	printf("%s: test device at 0x%lx, %lu accesses so far\n", suite, DEV(0), access_count());
	return NULL;
}

/* Result lines are "TEST <suite>.<name>: ...". */
static void suite_report(const char *name, const char *why)
{
	char full[48];

	vireo_snprintf(full, sizeof(full), "%s.%s", suite, name);
	test_report(full, why);
}

static void suite_run(const char *name, test_fn fn)
{
	suite_report(name, fn());
}

static void run_suite(void)
{
	suite_run("present", check_present);
	for (size_t i = 0; i < ARRAY_SIZE(width_cases); i++)
		suite_report(width_cases[i].test, check_width(&width_cases[i]));
	suite_run("mixed-widths", check_mixed_widths);
	suite_run("compressed", check_compressed);
	suite_run("compressed-sp", check_compressed_sp);
	suite_run("other-registers", check_other_registers);
	suite_run("x0", check_x0);
}

static const char *check_high_pc(void)
{
	uintptr_t pc;

	__asm__ volatile("auipc %0, 0" : "=r"(pc));
	if (!sv39_is_high(pc))
		return test_why("pc 0x%lx is not in the high alias", pc);
	printf("%s: running at pc 0x%lx\n", suite, pc);
	return NULL;
}

/* Runs at the high alias, so every trapping sepc is a high virtual address. */
static void run_paged_suite(void)
{
	suite_run("high-pc", check_high_pc);
	run_suite();
}

static const char *enable_paging(void)
{
	if (!sv39_map(DEV_VA, VM_TESTDEV_BASE, SV39_LEVEL_4K, PTE_KERNEL_RW))
		return test_why("no page for the device mapping");
	if (!sv39_enable())
		return test_why("cannot turn Sv39 on");
	return NULL;
}

int guest_main(unsigned long hartid, unsigned long dtb)
{
	(void)hartid;
	(void)dtb;
	run_suite();
	suite = "mmio.paged";
	if (test_run("mmio.paged.enable", enable_paging)) {
		dev_base = DEV_VA;
		sv39_call_high(run_paged_suite);
		sv39_disable();
		dev_base = VM_TESTDEV_BASE;
	}
	test_report("mmio", test_failures() ? "see the failures above" : NULL);
	return test_failures() ? GUEST_STATUS_FAIL : 0;
}
