// SPDX-License-Identifier: BSD-2-Clause
/*
 * The debugger's test guest (tests/integration/test_gdb.py): something for
 * gdb to break in, step through, read and write. guest_main adds numbers in
 * a called function, runs one function from the high alias of its own Sv39
 * page tables (a breakpoint and memory there go through the guest's
 * translation), and exits with status 0 only if the debugger wrote the magic
 * word into gdb_poke meanwhile (1 otherwise). With two vCPUs the second one
 * spins in gdb_spin, a second thread for the debugger. Bootargs `fault`: it
 * loads from an address nothing maps, which stops the VM (in the debugger,
 * when one is attached).
 */
#include "fdt_chosen.h"
#include "guest.h"
#include "sv39.h"

const char guest_name[] = "gdb";

#define GDB_POKE_OK  0x600dcafeUL
#define GDB_UNMAPPED 0x40000000UL /* QEMU's PCIe window: nothing there in a VM */

static volatile unsigned long gdb_poke;	      /* the debugger writes GDB_POKE_OK here */
static volatile unsigned long gdb_high_calls; /* gdb_high ran (from the high alias) */
static volatile unsigned long gdb_spins;      /* the second vCPU's turns */
static volatile bool gdb_done;
static struct hart_boot spinner;
static uint8_t spinner_stack[8 * KIB] __attribute__((aligned(16)));

static __attribute__((noinline)) unsigned long gdb_add(unsigned long a, unsigned long b)
{
	__asm__ volatile("" ::: "memory");
	return a + b;
}

/* Runs at the image's high alias (sv39_call_high). */
static __attribute__((noinline)) void gdb_high(void)
{
	gdb_high_calls++;
}

static __attribute__((noinline)) void gdb_spin(void)
{
	gdb_spins++;
}

static void spinner_main(unsigned long hartid, void *arg)
{
	(void)arg;
	printf("gdb: vCPU %lu spins\n", hartid);
	while (!__atomic_load_n(&gdb_done, __ATOMIC_ACQUIRE))
		gdb_spin();
}

int guest_main(unsigned long hartid, unsigned long dtb)
{
	const char *args = fdt_bootargs(dtb);
	unsigned long sum = 0;

	printf("gdb: guest_main at %p, gdb_poke at %p\n", (void *)guest_main,
	       (const volatile void *)&gdb_poke);
	spinner.stack_top = (unsigned long)(spinner_stack + sizeof(spinner_stack));
	spinner.entry = spinner_main;
	if (hart_boot_start(hartid + 1, &spinner).error == 0)
		printf("gdb: started vCPU %lu\n", hartid + 1);
	for (unsigned long i = 0; i < 5; i++)
		sum = gdb_add(sum, i);
	if (!sv39_enable()) {
		printf("gdb: no Sv39\n");
		return 1;
	}
	sv39_call_high(gdb_high);
	sv39_disable();
	if (args && strstr(args, "fault"))
		printf("gdb: loaded %#lx\n", *(volatile unsigned long *)GDB_UNMAPPED);
	__atomic_store_n(&gdb_done, true, __ATOMIC_RELEASE);
	printf("gdb: sum %lu, high calls %lu, poke %#lx\n", sum, gdb_high_calls, gdb_poke);
	return sum == 10 && gdb_high_calls == 1 && gdb_poke == GDB_POKE_OK ? 0 : 1;
}
