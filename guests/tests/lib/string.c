// SPDX-License-Identifier: BSD-2-Clause
/* The few libc string functions GCC may emit calls to even when freestanding. */
#include "guest.h"

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++) {
		if (*x != *y)
			return *x - *y;
	}
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

char *strstr(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);

	/* The C library's signature gives back a non-const pointer into a const string. */
	for (; *haystack; haystack++)
		if (memcmp(haystack, needle, n) == 0)
			return (char *)(uintptr_t)haystack;
	return n == 0 ? (char *)(uintptr_t)haystack : NULL;
}
