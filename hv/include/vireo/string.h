/* SPDX-License-Identifier: BSD-2-Clause */
/* String and memory functions of the freestanding hypervisor. */
#ifndef VIREO_STRING_H
#define VIREO_STRING_H

#include <string.h>

size_t strlcpy(char *dst, const char *src, size_t size);

#endif
