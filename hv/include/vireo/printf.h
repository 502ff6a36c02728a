/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Formatted output with no libc: %d %i %u %x %X %o %c %s %p %% with the
 * h/hh/l/ll/z/t/j length modifiers, field width (also '*'), precision for
 * strings and integers, zero padding, left justification, '+' and ' '.
 * Host-testable; shared with the bare-metal test guests.
 */
#ifndef VIREO_PRINTF_H
#define VIREO_PRINTF_H

#include <stdarg.h>
#include <vireo/types.h>

/* Sink for formatted characters. */
typedef void (*printf_putc_fn)(void *ctx, char c);

/* Format into a sink; returns the number of characters produced. */
int vireo_vformat(printf_putc_fn putc, void *ctx, const char *fmt, va_list ap);
/* C99 semantics: always NUL-terminates when size > 0; returns the untruncated length. */
int vireo_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int vireo_snprintf(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);

#endif
