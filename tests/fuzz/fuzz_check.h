/* SPDX-License-Identifier: BSD-2-Clause */
/* What every fuzzer checks with: a broken invariant aborts, so libFuzzer keeps the input. */
#ifndef VIREO_FUZZ_CHECK_H
#define VIREO_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: %s failed\n", __FILE__, __LINE__, #cond);          \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
