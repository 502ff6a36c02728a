// SPDX-License-Identifier: BSD-2-Clause
/*
 * Word expansion: quote removal, backslash escapes, a leading ~, and the
 * parameters $?, $$, $NAME and ${NAME} (all variables live in the
 * environment). No field splitting and no globbing: what you type in one
 * word stays one word.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sh.h"

struct sbuf {
	char *s;
	size_t len, cap;
};

static void sb_putn(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;

		while (cap < b->len + n + 1)
			cap *= 2;
		char *grown = realloc(b->s, cap);

		if (!grown) {
			fputs("sh: out of memory\n", stderr);
			exit(2);
		}
		b->s = grown;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_putc(struct sbuf *b, char c)
{
	sb_putn(b, &c, 1);
}

static bool sh_name_start(char c)
{
	return isalpha((unsigned char)c) || c == '_';
}

static bool sh_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

bool sh_is_assignment(const char *raw)
{
	if (!sh_name_start(*raw))
		return false;
	while (sh_name_char(*raw))
		raw++;
	return *raw == '=';
}

/* Expands the $ form at p (just past the '$'); returns where parsing resumes. */
static const char *sh_expand_dollar(const char *p, struct sbuf *b)
{
	char num[24];
	char name[128];
	size_t n = 0;

	if (*p == '?' || *p == '$') {
		snprintf(num, sizeof(num), "%d", *p == '?' ? sh_status : (int)getpid());
		sb_putn(b, num, strlen(num));
		return p + 1;
	}
	bool braced = *p == '{';
	const char *q = braced ? p + 1 : p;

	if (!sh_name_start(*q)) {
		sb_putc(b, '$'); /* not a parameter: a literal dollar sign */
		return p;
	}
	while (sh_name_char(*q) && n < sizeof(name) - 1)
		name[n++] = *q++;
	name[n] = '\0';
	if (braced) {
		if (*q != '}') {
			sb_putc(b, '$');
			return p;
		}
		q++;
	}
	const char *val = getenv(name);

	if (val)
		sb_putn(b, val, strlen(val));
	return q;
}

/* Inside "..": backslash escapes only $ ` " \ and keeps itself otherwise. */
static const char *sh_expand_dquote(const char *p, struct sbuf *b)
{
	while (*p && *p != '"') {
		if (*p == '\\' && p[1] && strchr("$`\"\\", p[1])) {
			sb_putc(b, p[1]);
			p += 2;
		} else if (*p == '$') {
			p = sh_expand_dollar(p + 1, b);
		} else {
			sb_putc(b, *p++);
		}
	}
	return *p ? p + 1 : p;
}

char *sh_expand(const char *raw, bool *keep)
{
	struct sbuf b = {0};
	bool quoted = false;
	const char *p = raw;

	sb_putn(&b, "", 0);
	if (p[0] == '~' && (p[1] == '/' || p[1] == '\0')) {
		const char *home = getenv("HOME");

		sb_putn(&b, home ? home : "/", strlen(home ? home : "/"));
		p++;
	}
	while (*p) {
		if (*p == '\'') {
			const char *end = strchr(p + 1, '\'');
			size_t n = end ? (size_t)(end - p - 1) : strlen(p + 1);

			sb_putn(&b, p + 1, n);
			p += n + (end ? 2 : 1);
			quoted = true;
		} else if (*p == '"') {
			p = sh_expand_dquote(p + 1, &b);
			quoted = true;
		} else if (*p == '\\') {
			if (p[1])
				sb_putc(&b, p[1]);
			p += p[1] ? 2 : 1;
			quoted = true;
		} else if (*p == '$') {
			p = sh_expand_dollar(p + 1, &b);
		} else {
			sb_putc(&b, *p++);
		}
	}
	*keep = quoted || b.len > 0;
	return b.s;
}
