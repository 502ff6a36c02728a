/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The hart's own entropy source, if it has one (the Zkr extension's seed
 * CSR, which M-mode must open to S-mode with mseccfg.SSEED). Raw samples,
 * not for direct use: they are conditioned with a hash before anyone sees them.
 */
#ifndef VIREO_ENTROPY_H
#define VIREO_ENTROPY_H

#include <vireo/types.h>

/* Fill out with raw entropy source output. Returns false (out undefined) if the
 * hart has no usable source or it did not deliver within a bounded time. */
bool entropy_raw(uint8_t *out, size_t len);

#endif
