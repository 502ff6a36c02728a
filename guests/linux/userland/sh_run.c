// SPDX-License-Identifier: BSD-2-Clause
/*
 * Evaluates a line: splits the tokens into simple commands at ';', '&&' and
 * '||', decides from $? whether each one runs, and turns each into a
 * struct sh_cmd (expanded words, assignments, redirections) for sh_exec().
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include "sh.h"

int sh_status;

static bool sh_is_list_op(enum sh_tok k)
{
	return k == SH_SEMI || k == SH_AND || k == SH_OR;
}

/* Checks the grammar before anything runs, so a typo runs nothing at all. */
static bool sh_check_syntax(const struct sh_token *t, int n)
{
	bool empty = true; /* the current simple command has no word yet */

	for (int i = 0; i < n; i++) {
		enum sh_tok k = t[i].kind;
		bool needs_word = k == SH_IN || k == SH_OUT || k == SH_APPEND || k == SH_ERR ||
				  k == SH_ERR_APPEND;

		if (sh_is_list_op(k) && empty) {
			fprintf(stderr, "sh: syntax error near '%s'\n", sh_tok_name(k));
			return false;
		}
		if (needs_word && (i + 1 == n || t[i + 1].kind != SH_WORD)) {
			fprintf(stderr, "sh: syntax error: '%s' needs a file name\n",
				sh_tok_name(k));
			return false;
		}
		empty = sh_is_list_op(k);
		i += needs_word;
	}
	if (empty && n > 0 && t[n - 1].kind != SH_SEMI) {
		fprintf(stderr, "sh: syntax error: '%s' at end of line\n",
			sh_tok_name(t[n - 1].kind));
		return false;
	}
	return true;
}

/* Adds the redirection of operator t[*i] (and its file name) to cmd. */
static void sh_add_redir(struct sh_cmd *cmd, const struct sh_token *t, int *i, char **owned,
			 int *nowned)
{
	struct sh_redir r = {.path = NULL};
	const int wr = O_WRONLY | O_CREAT;

	switch (t[*i].kind) {
	case SH_IN:
		r = (struct sh_redir){0, O_RDONLY, NULL, -1};
		break;
	case SH_OUT:
		r = (struct sh_redir){1, wr | O_TRUNC, NULL, -1};
		break;
	case SH_APPEND:
		r = (struct sh_redir){1, wr | O_APPEND, NULL, -1};
		break;
	case SH_ERR:
		r = (struct sh_redir){2, wr | O_TRUNC, NULL, -1};
		break;
	case SH_ERR_APPEND:
		r = (struct sh_redir){2, wr | O_APPEND, NULL, -1};
		break;
	case SH_ERR_TO_OUT:
		cmd->redirs[cmd->nredir++] = (struct sh_redir){2, 0, NULL, 1};
		return;
	case SH_OUT_TO_ERR:
		cmd->redirs[cmd->nredir++] = (struct sh_redir){1, 0, NULL, 2};
		return;
	default:
		return;
	}
	bool keep;
	char *path = sh_expand(t[++*i].text, &keep);

	owned[(*nowned)++] = path;
	r.path = path;
	cmd->redirs[cmd->nredir++] = r;
}

/* Builds and runs the simple command in tokens [from, to). */
static int sh_run_simple(const struct sh_token *t, int from, int to)
{
	int cap = to - from + 1;
	char **argv = calloc((size_t)cap, sizeof(char *));
	char **assigns = calloc((size_t)cap, sizeof(char *));
	char **owned = calloc((size_t)cap, sizeof(char *));
	struct sh_redir *redirs = calloc((size_t)cap, sizeof(*redirs));
	struct sh_cmd cmd = {argv, 0, assigns, 0, redirs, 0};
	int nowned = 0, status = 2;

	if (!argv || !assigns || !owned || !redirs) {
		fputs("sh: out of memory\n", stderr);
		goto out;
	}
	for (int i = from; i < to; i++) {
		if (t[i].kind != SH_WORD) {
			sh_add_redir(&cmd, t, &i, owned, &nowned);
			continue;
		}
		bool keep;
		char *w = sh_expand(t[i].text, &keep);

		owned[nowned++] = w;
		if (cmd.argc == 0 && sh_is_assignment(t[i].text))
			assigns[cmd.nassign++] = w;
		else if (keep)
			argv[cmd.argc++] = w;
	}
	status = sh_exec(&cmd);
out:
	for (int i = 0; i < nowned; i++)
		free(owned[i]);
	free(argv);
	free(assigns);
	free(owned);
	free(redirs);
	return status;
}

int sh_run_line(const char *line)
{
	struct sh_token *t = NULL;
	int n = sh_lex(line, &t);

	if (n < 0 || !sh_check_syntax(t, n)) {
		if (n >= 0)
			sh_tokens_free(t, n);
		return sh_status = 2;
	}
	enum sh_tok joint = SH_SEMI; /* how this command hangs on the previous one */

	for (int from = 0; from < n;) {
		int to = from;

		while (to < n && !sh_is_list_op(t[to].kind))
			to++;
		bool run = joint == SH_SEMI || (joint == SH_AND && sh_status == 0) ||
			   (joint == SH_OR && sh_status != 0);

		if (run)
			sh_status = sh_run_simple(t, from, to);
		joint = to < n ? t[to].kind : SH_SEMI;
		from = to + 1;
	}
	sh_tokens_free(t, n);
	return sh_status;
}
