/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * vireo sh: a small shell for the guest's console. A line is a list of simple
 * commands joined by ';', '&&' and '||'; a simple command is words (with '..'
 * and ".." quotes, backslash escapes, $?, $$, $NAME and ${NAME}) and the
 * redirections <, >, >>, 2>, 2>>, 2>&1 and >&2. No pipes, no job control.
 */
#ifndef VIREO_SH_H
#define VIREO_SH_H

#include <stdbool.h>
#include <stddef.h>

/* Exit status of the last command: what $? expands to. */
extern int sh_status;

/* ---- sh_lex.c: a line into raw words (quotes kept) and operators. */
enum sh_tok {
	SH_WORD,
	SH_SEMI,       /* ; */
	SH_AND,	       /* && */
	SH_OR,	       /* || */
	SH_IN,	       /* < */
	SH_OUT,	       /* > */
	SH_APPEND,     /* >> */
	SH_ERR,	       /* 2> */
	SH_ERR_APPEND, /* 2>> */
	SH_ERR_TO_OUT, /* 2>&1 */
	SH_OUT_TO_ERR, /* >&2 */
};

struct sh_token {
	enum sh_tok kind;
	char *text; /* raw text of a word, NULL for an operator */
};

/* Splits a line; returns the count, or -1 after printing a syntax error. */
int sh_lex(const char *line, struct sh_token **out);
void sh_tokens_free(struct sh_token *toks, int n);
const char *sh_tok_name(enum sh_tok kind);

/* ---- sh_expand.c: a raw word into its final text. */
/*
 * Removes quotes and expands $ forms. *keep is false for a word that was
 * unquoted and expanded to nothing (it then disappears, as in sh).
 */
char *sh_expand(const char *raw, bool *keep);
/* True if a raw word is an assignment NAME=value. */
bool sh_is_assignment(const char *raw);

/* ---- sh_run.c: evaluate a line. Returns the status of its last command. */
int sh_run_line(const char *line);

/* ---- sh_exec.c: run one expanded simple command. */
struct sh_redir {
	int fd;		  /* the descriptor being redirected */
	int flags;	  /* open(2) flags, when path is set */
	const char *path; /* file to open, or NULL for a dup */
	int dup_from;	  /* descriptor to copy, when path is NULL */
};

struct sh_cmd {
	char **argv; /* NULL-terminated */
	int argc;
	char **assigns; /* NAME=value words before the command */
	int nassign;
	struct sh_redir *redirs;
	int nredir;
};

int sh_exec(const struct sh_cmd *cmd);
/* Applies redirections; saves the old 0..2 in saved[] if it is not NULL. */
bool sh_apply_redirs(const struct sh_cmd *cmd, int saved[3]);
void sh_restore_fds(int saved[3]);

/* ---- sh_builtin.c: commands that must run inside the shell. */
typedef int (*sh_builtin_fn)(int argc, char **argv);
/* The builtin called name, or NULL. */
sh_builtin_fn sh_find_builtin(const char *name);

/* ---- sh_edit.c: the interactive line editor. */
void sh_edit_init(void);
/* Returns a malloc'd line without its newline, or NULL at end of input (^D). */
char *sh_edit_read(const char *prompt);

#endif
