// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer harness for the guest's interrupt path with AIA: the virtual
 * APLIC's MMIO (hv/vdev/aplic.c) as a hostile guest drives it, its wires as
 * devices drive them, and the IMSIC interrupt files (hv/vdev/imsic.c) its MSIs
 * land in, driven through the CSR interface the guest reaches them by. Each
 * input is a sequence of 8-byte operations. After every one: nothing is
 * pending and enabled while IE is set (it would have been forwarded), an
 * inactive source has no pending bit, enable bit or target, a level source is
 * pending only while it asserts, and no file holds an identity it does not
 * have. MSIs only ever go to harts that exist, with the lock held.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vireo/vaplic.h>
#include <vireo/vimsic.h>

#include "fuzz_check.h"

#define NHARTS	 3
#define NSOURCES 31
#define NUM_IDS	 63

static struct vaplic aplic;
static struct vimsic_file files[NHARTS];

static void deliver(void *opaque, unsigned hart, unsigned eiid)
{
	(void)opaque;
	FUZZ_CHECK(hart < NHARTS);
	FUZZ_CHECK(eiid <= APLIC_TARGET_EIID_MASK);
	FUZZ_CHECK(aplic.lock.locked);
	vimsic_set_pending(&files[hart], eiid);
}

static uint32_t rd(uint64_t off)
{
	uint64_t v = 0;

	FUZZ_CHECK(vaplic_mmio_ops.read(&aplic, off, 4, &v) == 0);
	FUZZ_CHECK(v <= UINT32_MAX);
	return (uint32_t)v;
}

static void check_invariants(void)
{
	bool ie = rd(APLIC_DOMAINCFG) & APLIC_DOMAINCFG_IE;
	uint32_t pending = rd(APLIC_SETIP), enabled = rd(APLIC_SETIE),
		 asserted = rd(APLIC_IN_CLRIP);

	FUZZ_CHECK(!aplic.lock.locked);
	FUZZ_CHECK((rd(APLIC_DOMAINCFG) & ~APLIC_DOMAINCFG_IE) == 0x80000004);
	if (ie)
		FUZZ_CHECK((pending & enabled) == 0);
	FUZZ_CHECK(((pending | enabled | asserted) & 1) == 0); /* source 0 */
	for (unsigned s = 1; s <= NSOURCES; s++) {
		uint32_t sm = rd(APLIC_SOURCECFG(s));
		bool p = pending >> s & 1;

		FUZZ_CHECK(sm <= APLIC_SM_LEVEL0 && sm != 2 && sm != 3);
		if (sm == APLIC_SM_INACTIVE) {
			FUZZ_CHECK(!p && !(enabled >> s & 1) && !(asserted >> s & 1));
			FUZZ_CHECK(rd(APLIC_TARGET(s)) == 0);
		}
		if (sm == APLIC_SM_LEVEL1 || sm == APLIC_SM_LEVEL0)
			FUZZ_CHECK(!p || (asserted >> s & 1));
		if (sm == APLIC_SM_DETACHED)
			FUZZ_CHECK(!(asserted >> s & 1));
	}
	for (unsigned h = 0; h < NHARTS; h++) {
		uint32_t top = vimsic_topei(&files[h]);

		FUZZ_CHECK((top >> AIA_TOPEI_ID_SHIFT) <= NUM_IDS);
		FUZZ_CHECK((top >> AIA_TOPEI_ID_SHIFT) == (top & AIA_TOPEI_MASK));
		FUZZ_CHECK(files[h].regs.eip[1] == 0 && files[h].regs.eie[1] == 0);
		FUZZ_CHECK((files[h].regs.eip[0] & 1) == 0 && (files[h].regs.eie[0] & 1) == 0);
		FUZZ_CHECK(!vimsic_output(&files[h]) || top != 0);
	}
}

/* Offsets the guest most likely touches, so random words hit registers often. */
static uint64_t pick_offset(uint16_t raw)
{
	static const uint64_t regs[] = {
	    APLIC_DOMAINCFG,   APLIC_SETIP,	   APLIC_SETIPNUM,    APLIC_IN_CLRIP,
	    APLIC_CLRIPNUM,    APLIC_SETIE,	   APLIC_SETIENUM,    APLIC_CLRIE,
	    APLIC_CLRIENUM,    APLIC_SETIPNUM_LE,  APLIC_SETIPNUM_BE, APLIC_GENMSI,
	    APLIC_MMSIADDRCFG, APLIC_SMSIADDRCFGH,
	};
	unsigned kind = raw >> 13;

	if (kind == 0)
		return regs[(raw & 0x1fff) % (sizeof(regs) / sizeof(regs[0]))];
	if (kind == 1)
		return APLIC_SOURCECFG(1 + (raw & 0x1fff) % 40);
	if (kind == 2)
		return APLIC_TARGET(1 + (raw & 0x1fff) % 40);
	return raw & 0x7fff; /* anywhere, aligned or not */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vaplic_init(&aplic, NSOURCES, NHARTS, deliver, NULL);
	for (unsigned h = 0; h < NHARTS; h++)
		vimsic_init(&files[h], NUM_IDS);
	for (size_t at = 0; at + 8 <= size; at += 8) {
		const uint8_t *op = data + at;
		uint16_t raw = (uint16_t)(op[1] | op[2] << 8);
		uint32_t val;
		uint64_t v, old;
		unsigned width = 1u << (op[0] >> 4 & 3);

		memcpy(&val, op + 4, 4);
		switch (op[0] & 7) {
		case 0: /* a guest store */
			if (vaplic_mmio_ops.write(&aplic, pick_offset(raw), width, val) != 0)
				FUZZ_CHECK(width != 4 || (pick_offset(raw) & 3));
			break;
		case 1: /* a guest load */
			(void)vaplic_mmio_ops.read(&aplic, pick_offset(raw), width, &v);
			break;
		case 2: /* a device's wire */
			vaplic_set_level(&aplic, raw % 40, val & 1);
			break;
		case 3: /* a vCPU's CSR access to its file */
			(void)vimsic_rmw(&files[op[3] % NHARTS], 0x70 + raw % 0x90, val,
					 (uint64_t)val << 32 | val, &old);
			break;
		case 4: /* a vCPU claims */
			(void)vimsic_claim(&files[op[3] % NHARTS]);
			break;
		default: /* another vCPU's MSI */
			vimsic_set_pending(&files[op[3] % NHARTS], val % 100);
			break;
		}
		check_invariants();
	}
	return 0;
}
