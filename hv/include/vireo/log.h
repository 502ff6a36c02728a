/* SPDX-License-Identifier: BSD-2-Clause */
/* Leveled logging to the hypervisor console: "vireo: ..." lines. */
#ifndef VIREO_LOG_H
#define VIREO_LOG_H

#include <stdarg.h>
#include <vireo/types.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Where lines go: `write` takes a whole line (or a piece of a long printk);
 * `colour` (may be NULL) says whether Vireo's tag may be bold. */
struct log_output {
	void (*write)(const char *s, size_t len);
	bool (*colour)(void);
};

/* Until this is called, log lines and printk go nowhere. */
void log_set_output(const struct log_output *out);

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_msg(enum log_level level, const char *fmt, ...) PRINTF_LIKE(2, 3);
void log_vmsg(enum log_level level, const char *fmt, va_list ap);
/* Plain printf to the console, no prefix, no level. */
int printk(const char *fmt, ...) PRINTF_LIKE(1, 2);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
