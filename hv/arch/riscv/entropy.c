// SPDX-License-Identifier: BSD-2-Clause
/*
 * Zkr's seed CSR (0x015). It must be accessed with a read-write instruction
 * (a plain csrr is an illegal instruction), and it traps too if M-mode has
 * not set mseccfg.SSEED: the first access is a guarded probe. Each read that
 * reports ES16 carries 16 bits of raw entropy.
 */
#include <vireo/cpu.h>
#include <vireo/entropy.h>
#include <vireo/hart.h>

#define SEED_OPST_SHIFT 30
#define SEED_OPST_ES16	2UL
#define SEED_OPST_DEAD	3UL
#define SEED_ENTROPY	0xffffUL
#define SEED_POLLS	1000000 /* WAIT/BIST may last a while; DEAD never ends */

static unsigned long seed_read(void)
{
	unsigned long v;

	__asm__ volatile("csrrw %0, 0x015, zero" : "=r"(v) : : "memory");
	return v;
}

static void probe_seed(void *arg)
{
	*(unsigned long *)arg = seed_read();
}

/* One 16-bit sample, polling through WAIT and BIST; false on DEAD or timeout. */
static bool sample(uint16_t *out)
{
	for (unsigned i = 0; i < SEED_POLLS; i++) {
		unsigned long v = seed_read();
		unsigned long opst = (v >> SEED_OPST_SHIFT) & 3;
		if (opst == SEED_OPST_ES16) {
			*out = (uint16_t)(v & SEED_ENTROPY);
			return true;
		}
		if (opst == SEED_OPST_DEAD)
			return false;
	}
	return false;
}

bool entropy_raw(uint8_t *out, size_t len)
{
	unsigned long first;

	if (!cpu_isa_has_ext(cpu_features.isa, "zkr"))
		return false;
	if (hart_guarded_probe(probe_seed, &first) != -1)
		return false; /* M-mode keeps the seed CSR to itself */
	for (size_t i = 0; i < len; i += 2) {
		uint16_t s;
		if (!sample(&s))
			return false;
		out[i] = (uint8_t)s;
		if (i + 1 < len)
			out[i + 1] = (uint8_t)(s >> 8);
	}
	return true;
}
