// SPDX-License-Identifier: BSD-2-Clause
/*
 * The shell's lexer: splits a line into words and operators. Words keep their
 * quotes and backslashes; sh_expand() removes them later, when the command
 * runs, so that $? sees the status of the command before it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sh.h"

struct sh_op {
	const char *text;
	enum sh_tok kind;
};

/* Longest first: "2>&1" before "2>>" before "2>". */
static const struct sh_op sh_ops[] = {
    {"2>&1", SH_ERR_TO_OUT}, {"2>>", SH_ERR_APPEND}, {">&2", SH_OUT_TO_ERR},
    {"&&", SH_AND},	     {"||", SH_OR},	     {">>", SH_APPEND},
    {"2>", SH_ERR},	     {";", SH_SEMI},	     {"<", SH_IN},
    {">", SH_OUT},
};

const char *sh_tok_name(enum sh_tok kind)
{
	for (size_t i = 0; i < sizeof(sh_ops) / sizeof(sh_ops[0]); i++) {
		if (sh_ops[i].kind == kind)
			return sh_ops[i].text;
	}
	return "word";
}

static bool sh_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* An operator starting at p, or NULL. "2>" counts only at the start of a word. */
static const struct sh_op *sh_match_op(const char *p)
{
	for (size_t i = 0; i < sizeof(sh_ops) / sizeof(sh_ops[0]); i++) {
		if (strncmp(p, sh_ops[i].text, strlen(sh_ops[i].text)) == 0)
			return &sh_ops[i];
	}
	return NULL;
}

/* Finds the end of the word at p; NULL after an error (unterminated quote). */
static const char *sh_word_end(const char *p)
{
	while (*p && !sh_is_blank(*p) && !strchr(";&|<>", *p)) {
		if (*p == '\\') {
			p += p[1] ? 2 : 1;
		} else if (*p == '\'' || *p == '"') {
			char q = *p++;

			while (*p && *p != q)
				p += (q == '"' && *p == '\\' && p[1]) ? 2 : 1;
			if (!*p) {
				fprintf(stderr, "sh: syntax error: unterminated %c quote\n", q);
				return NULL;
			}
			p++;
		} else {
			p++;
		}
	}
	return p;
}

static bool sh_push(struct sh_token **toks, int *n, int *cap, enum sh_tok kind, char *text)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		struct sh_token *grown = realloc(*toks, (size_t)*cap * sizeof(**toks));

		if (!grown)
			return false;
		*toks = grown;
	}
	(*toks)[(*n)++] = (struct sh_token){kind, text};
	return true;
}

/* A lone & or | is something this shell does not do: say so plainly. */
static bool sh_unsupported(const char *p)
{
	if (*p == '|') {
		fputs("sh: pipes are not supported\n", stderr);
		return true;
	}
	if (*p == '&') {
		fputs("sh: background jobs are not supported\n", stderr);
		return true;
	}
	return false;
}

int sh_lex(const char *line, struct sh_token **out)
{
	struct sh_token *toks = NULL;
	int n = 0, cap = 0;
	const char *p = line;

	for (;;) {
		while (sh_is_blank(*p))
			p++;
		if (!*p || *p == '#')
			break;

		const struct sh_op *op = sh_match_op(p);
		bool ok;

		if (op) {
			ok = sh_push(&toks, &n, &cap, op->kind, NULL);
			p += strlen(op->text);
		} else if (sh_unsupported(p)) {
			ok = false;
		} else {
			const char *end = sh_word_end(p);

			ok =
			    end && sh_push(&toks, &n, &cap, SH_WORD, strndup(p, (size_t)(end - p)));
			p = end;
		}
		if (!ok) {
			sh_tokens_free(toks, n);
			return -1;
		}
	}
	*out = toks;
	return n;
}

void sh_tokens_free(struct sh_token *toks, int n)
{
	for (int i = 0; i < n; i++)
		free(toks[i].text);
	free(toks);
}
