// SPDX-License-Identifier: BSD-2-Clause
/*
 * libvireo from C: `sort` in a fresh RISC-V Linux VM, fed through a pipe and
 * read back through another, then `uname -a` captured in one call.
 *
 *   cc sort.c $(pkg-config --cflags --libs vireo) -o sort && ./sort [--bare]
 *
 * --bare runs the same guest on plain QEMU, without the hypervisor.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <vireo.h>

static int fail(const char *what)
{
	fprintf(stderr, "sort example: %s: %s\n", what, vireo_last_error());
	return 1;
}

int main(int argc, char **argv)
{
	static const char words[] = "riscv\nhypervisor\nvireo\nlinux\n";
	bool bare = argc > 1 && strcmp(argv[1], "--bare") == 0;
	struct vireo_cmd *cmd = vireo_cmd_new("sort");
	struct vireo_child *child;
	struct vireo_status st;
	struct vireo_output out;
	char buf[256];
	ssize_t n, got = 0;
	int in, sorted;

	/* A child with pipes: write its stdin, close it, read its stdout. */
	if (!cmd || vireo_cmd_stdio(cmd, VIREO_STDIN, VIREO_PIPE, -1) ||
	    vireo_cmd_stdio(cmd, VIREO_STDOUT, VIREO_PIPE, -1) ||
	    (bare && vireo_cmd_mode(cmd, VIREO_MODE_BARE)))
		return fail("command");
	if (vireo_spawn(cmd, &child) < 0)
		return fail("spawn");
	vireo_cmd_free(cmd);
	in = vireo_child_fd(child, VIREO_STDIN);
	sorted = vireo_child_fd(child, VIREO_STDOUT);
	if (write(in, words, strlen(words)) != (ssize_t)strlen(words))
		return fail("write");
	close(in); /* the end of sort's input */
	while ((n = read(sorted, buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	buf[got] = '\0';
	close(sorted);
	vireo_child_wait(child, &st);
	vireo_child_free(child);
	printf("sorted in a VM (exit status %d):\n%s", st.code, buf);
	if (st.code != 0 || strcmp(buf, "hypervisor\nlinux\nriscv\nvireo\n") != 0)
		return 1;

	/* One call that runs and captures. */
	cmd = vireo_cmd_new("uname");
	if (!cmd || vireo_cmd_arg(cmd, "-sm") ||
	    vireo_cmd_stdio(cmd, VIREO_STDOUT, VIREO_PIPE, -1) ||
	    (bare && vireo_cmd_mode(cmd, VIREO_MODE_BARE)))
		return fail("command");
	if (vireo_run(cmd, NULL, 0, &out, &st) < 0)
		return fail("run");
	vireo_cmd_free(cmd);
	printf("uname -sm in a VM: %s", out.out);
	n = strcmp(out.out, "Linux riscv64\n");
	vireo_output_free(&out);
	return st.code == 0 && n == 0 ? 0 : 1;
}
