// SPDX-License-Identifier: BSD-2-Clause
/*
 * The harts' S-level IMSIC interrupt files, where the host APLIC in MSI mode
 * sends Vireo's device interrupts. Each hart sets up its own file (only it can
 * reach it, through siselect/sireg): every identity enabled, threshold 0,
 * delivery on. Which identities arrive where is the APLIC's targets' business.
 */
#include <vireo/aia.h>
#include <vireo/host_irq.h>
#include <vireo/platform.h>

static unsigned num_ids;

int imsic_host_init(const struct platform *plat, const char **why)
{
	if (!plat->imsic.present) {
		*why = "the APLIC forwards MSIs, but there is no IMSIC for supervisor level";
		return -VIREO_ENOENT;
	}
	num_ids = MIN(plat->imsic.num_ids, (unsigned)AIA_MAX_IDS - 1);
	return 0;
}

void imsic_host_init_hart(void)
{
	aia_sfile_write(AIA_ISEL_EIDELIVERY, 0);
	aia_sfile_write(AIA_ISEL_EITHRESHOLD, 0);
	for (unsigned w = 0; w <= num_ids / 64; w++) {
		unsigned long bits = ~0UL;

		if (w == 0)
			bits &= ~1UL; /* identity 0 is no interrupt */
		if (w == num_ids / 64 && num_ids % 64 != 63)
			bits &= (1UL << (num_ids % 64 + 1)) - 1;
		aia_sfile_write(AIA_ISEL_EIE0 + 2 * w, bits);
	}
	aia_sfile_write(AIA_ISEL_EIDELIVERY, AIA_EIDELIVERY_ON);
}
