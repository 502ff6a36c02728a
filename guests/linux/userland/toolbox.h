/* SPDX-License-Identifier: BSD-2-Clause */
/* The toolbox: one static binary, many commands, chosen by argv[0]. */
#ifndef VIREO_TOOLBOX_H
#define VIREO_TOOLBOX_H

#include <stdbool.h>
#include <stdint.h>

#define TB_CMD(name, fn) int fn(int argc, char **argv);
#include "toolbox_cmds.h"
#undef TB_CMD

/* Name of the running command, for messages ("ls: ..."). */
extern const char *tb_name;

/* "name: what: strerror(errno)" on stderr. Returns 1, a failing exit status. */
int tb_perror(const char *what);
/* "name: message" on stderr. Returns 1. */
int tb_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Parses the leading "-abc" flag words of argv against the letters in
 * `known`, setting flags['a'] etc. Returns the index of the first operand, or
 * -1 (after a message) on an unknown flag. "--" ends the flags.
 */
int tb_flags(int argc, char **argv, const char *known, bool flags[128]);

/* Parses a byte count with dd-style suffixes (c w b k K kB M MB G GB). */
bool tb_parse_size(const char *s, uint64_t *out);

/* Writes all of buf, retrying short writes. Returns false on error. */
bool tb_write_all(int fd, const void *buf, size_t len);

/* Copies everything from fd `in` to fd `out`. Returns false on error. */
bool tb_copy_fd(int in, int out);

#endif
