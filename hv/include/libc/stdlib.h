/* SPDX-License-Identifier: BSD-2-Clause */
/* libfdt includes <stdlib.h>; the hypervisor has no libc, so nothing is here. */
#ifndef VIREO_LIBC_STDLIB_H
#define VIREO_LIBC_STDLIB_H
#include <stddef.h>
#endif
