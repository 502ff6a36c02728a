// SPDX-License-Identifier: BSD-2-Clause
/*
 * Multi-call entry point: /bin/ls, /bin/cat, ... are symlinks to this one
 * static binary, which runs the command named by the basename of argv[0].
 * "toolbox CMD ARGS" works too, for when no symlink is at hand.
 */
#include <stdio.h>
#include <string.h>

#include "toolbox.h"

const char *tb_name = "toolbox";

struct tb_entry {
	const char *name;
	int (*fn)(int argc, char **argv);
};

static const struct tb_entry tb_table[] = {
#define TB_CMD(name, fn) {#name, fn},
#include "toolbox_cmds.h"
#undef TB_CMD
};

static const struct tb_entry *tb_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(tb_table) / sizeof(tb_table[0]); i++) {
		if (strcmp(tb_table[i].name, name) == 0)
			return &tb_table[i];
	}
	return NULL;
}

static int tb_usage(void)
{
	fputs("usage: toolbox COMMAND [ARGS...]\ncommands:", stderr);
	for (size_t i = 0; i < sizeof(tb_table) / sizeof(tb_table[0]); i++)
		fprintf(stderr, " %s", tb_table[i].name);
	fputc('\n', stderr);
	return 1;
}

int main(int argc, char **argv)
{
	const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;

	base = base ? base + 1 : (argc > 0 ? argv[0] : "toolbox");
	if (strcmp(base, "toolbox") == 0) {
		if (argc < 2)
			return tb_usage();
		argc--;
		argv++;
		base = argv[0];
	}

	const struct tb_entry *e = tb_lookup(base);

	if (!e) {
		fprintf(stderr, "toolbox: %s: unknown command\n", base);
		return tb_usage();
	}
	tb_name = e->name;
	return e->fn(argc, argv);
}
