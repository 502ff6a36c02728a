/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The test guests' runtime: console, result lines, exit, traps and secondary
 * harts. A guest defines guest_name and guest_main(); crt0 calls guest_main on
 * the boot hart and passes its return value to guest_exit().
 */
#ifndef GUEST_H
#define GUEST_H

#include <vireo/types.h>
#include <vireo/vm_layout.h>
#include "csr.h"
#include "sbi.h"

/* Provided by each guest. */
extern const char guest_name[];
int guest_main(unsigned long hartid, unsigned long dtb);

/* Exit statuses the runtime itself produces. */
#define GUEST_STATUS_FAIL 1  /* some test failed */
#define GUEST_STATUS_TRAP 99 /* a trap no test expected */

/* Whole-line console output; lines from different harts do not interleave. */
int printf(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* Print "GUEST <name> DONE status=<n>" and shut the VM down with that status. */
NORETURN void guest_exit(int status);

/* The hart this code runs on; crt0 keeps it in tp. */
static inline unsigned long current_hartid(void)
{
	unsigned long id;

	__asm__("mv %0, tp" : "=r"(id));
	return id;
}

/*
 * Test results. A test function returns NULL on success or a reason from
 * test_why(); test_run() prints "TEST <name>: PASS" or "TEST <name>: FAIL <why>".
 */
typedef const char *(*test_fn)(void);
bool test_run(const char *name, test_fn fn);
void test_report(const char *name, const char *why);
const char *test_why(const char *fmt, ...) PRINTF_LIKE(1, 2);
int test_failures(void);

/* Register state saved by trap_vector; a hook may change it, sepc included. */
struct trap_frame {
	unsigned long regs[32]; /* regs[n] is xn; regs[2] is sp before the trap */
	unsigned long sepc;
	unsigned long sstatus;
	unsigned long scause;
	unsigned long stval;
};

/* Returns true if it handled the trap; otherwise the runtime fails the guest. */
typedef bool (*trap_hook_fn)(struct trap_frame *tf);

extern char trap_vector[];
/* Same, but first loads sp from sscratch: for code that points sp elsewhere. */
extern char trap_vector_sscratch_sp[];
trap_hook_fn trap_set_hook(trap_hook_fn hook);
/* Length in bytes (2 or 4) of the instruction at pc. */
unsigned int insn_length_at(unsigned long pc);

/* Where a secondary hart starts: its stack and entry function. */
struct hart_boot {
	unsigned long stack_top;
	void (*entry)(unsigned long hartid, void *arg);
	void *arg;
};

/*
 * Start a stopped hart through SBI HSM; it runs entry(hartid, arg) with stvec
 * set, then stops itself when entry returns. *boot must stay valid until then.
 */
struct sbiret hart_boot_start(unsigned long hartid, struct hart_boot *boot);

/* Simple string helpers (also what the compiler may call on its own). */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
char *strstr(const char *haystack, const char *needle);

#endif
