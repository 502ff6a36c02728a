// SPDX-License-Identifier: BSD-2-Clause
/*
 * A hart's state must be this guest's own, even while it shares the hart
 * with another guest. Two VMs run this on one hart (`--smp 1`), each with a
 * different `pattern=N` in its bootargs: each writes its own values into the
 * CSRs the H extension does not bank for VS-mode (scounteren, senvcfg), into
 * every FP register and, with V, every vector register and vl/vtype; spins
 * for 300 ms (some 15 slices of 10 ms each, with the other VM running in
 * between); and checks that every value is still its own. Then VU-mode code
 * reads the counters: scounteren decides which of them it may.
 */
#include "fdt_chosen.h"
#include "fdt_isa.h"
#include "guest.h"
#include "user.h"

const char guest_name[] = "cpustate";

#define SPIN_TICKS    3000000UL /* 300 ms at QEMU virt's 10 MHz */
#define SENVCFG_FIOM  1UL
#define SCOUNTEREN_CY 1UL
#define SCOUNTEREN_TM 2UL
#define SCOUNTEREN_IR 4UL

void fregs_fill(unsigned long base);
long fregs_check(unsigned long base);
void vregs_fill(unsigned long base);
long vregs_check(unsigned long base);
unsigned long vregs_vl(void);
unsigned long vregs_vtype(void);

static unsigned long pattern = 1;
static bool has_vector;

/* Odd patterns open every counter to U-mode and set FIOM; even ones only time. */
static unsigned long my_scounteren(void)
{
	return pattern & 1 ? SCOUNTEREN_CY | SCOUNTEREN_TM | SCOUNTEREN_IR : SCOUNTEREN_TM;
}

static unsigned long my_senvcfg(void)
{
	return pattern & 1 ? SENVCFG_FIOM : 0;
}

static unsigned long fp_base(void)
{
	return 0x1000000000UL * pattern + 0x100;
}

static unsigned long v_base(void)
{
	return 0x2000000000UL * pattern + 0x200;
}

static void parse_pattern(unsigned long dtb)
{
	const char *args = fdt_bootargs(dtb);
	const char *p = args ? strstr(args, "pattern=") : NULL;

	if (p && p[8] >= '1' && p[8] <= '9')
		pattern = (unsigned long)(p[8] - '0');
}

static void set_state(void)
{
	csr_write(scounteren, my_scounteren());
	csr_write(senvcfg, my_senvcfg());
	csr_set(sstatus, SSTATUS_FS_INITIAL);
	fregs_fill(fp_base());
	if (has_vector) {
		csr_set(sstatus, SSTATUS_VS_INITIAL);
		vregs_fill(v_base());
	}
}

/* What differs from what this guest wrote, or NULL. */
static const char *state_differs(void)
{
	long reg;

	if (csr_read(scounteren) != my_scounteren())
		return test_why("scounteren is 0x%lx, not this guest's 0x%lx", csr_read(scounteren),
				my_scounteren());
	if (csr_read(senvcfg) != my_senvcfg())
		return test_why("senvcfg is 0x%lx, not this guest's 0x%lx", csr_read(senvcfg),
				my_senvcfg());
	reg = fregs_check(fp_base());
	if (reg >= 0)
		return test_why("f%ld is not this guest's", reg);
	if (!has_vector)
		return NULL;
	reg = vregs_check(v_base());
	if (reg >= 0)
		return test_why("v%ld is not this guest's", reg);
	if (vregs_vl() != 1 || (vregs_vtype() & 0x3f) != 0x18)
		return test_why("vl %lu vtype 0x%lx are not this guest's (1, e64 m1)", vregs_vl(),
				vregs_vtype());
	return NULL;
}

static const char *check_kept_across_slices(void)
{
	unsigned long start = csr_read(time);
	unsigned long checks = 0;
	const char *why;

	set_state();
	while (csr_read(time) - start < SPIN_TICKS) {
		why = state_differs();
		if (why)
			return why;
		checks++;
	}
	printf("cpustate: pattern %lu: state held over %lu checks in 300 ms%s\n", pattern, checks,
	       has_vector ? " (with V)" : "");
	return NULL;
}

static unsigned long read_cycle(unsigned long unused)
{
	(void)unused;
	return csr_read(cycle);
}

static unsigned long read_time(unsigned long unused)
{
	(void)unused;
	return csr_read(time);
}

/* VU-mode counter reads: allowed exactly where this guest's scounteren says. */
static const char *check_user_counters(void)
{
	struct user_result r;

	user_run(read_time, 0, &r);
	if (r.cause != USER_EXIT_ECALL)
		return test_why("VU-mode rdtime trapped (scause %lu) with scounteren 0x%lx",
				r.cause, csr_read(scounteren));
	user_run(read_cycle, 0, &r);
	if ((pattern & 1) && r.cause != USER_EXIT_ECALL)
		return test_why("VU-mode rdcycle trapped (scause %lu) with CY set", r.cause);
	if (!(pattern & 1) && r.cause != 2)
		return test_why("VU-mode rdcycle gave scause %lu with CY clear, not 2", r.cause);
	return NULL;
}

int guest_main(unsigned long hartid, unsigned long dtb)
{
	char isa[256];

	(void)hartid;
	parse_pattern(dtb);
	has_vector = fdt_read_isa(dtb, isa, sizeof(isa)) == 0 && isa_has_letter(isa, 'v');
	test_run("cpustate_kept", check_kept_across_slices);
	test_run("cpustate_user_counters", check_user_counters);
	return test_failures() ? GUEST_STATUS_FAIL : 0;
}
