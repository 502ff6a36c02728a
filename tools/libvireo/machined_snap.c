// SPDX-License-Identifier: BSD-2-Clause
/* A machine's daemon: snapshots to files, restores and forks (docs/machine.md). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "machined_int.h"

void md_op_vm_snapshot(struct daemon *d, struct client *cl, const char *text, size_t len)
{
	(void)d;
	(void)text;
	(void)len;
	md_reply_error(cl, ENOSYS, "snapshots are not there yet");
}

void md_op_vm_restore(struct daemon *d, struct client *cl, const char *text, size_t len)
{
	(void)d;
	(void)text;
	(void)len;
	md_reply_error(cl, ENOSYS, "snapshots are not there yet");
}

void md_op_vm_fork(struct daemon *d, struct client *cl, const char *text, size_t len)
{
	(void)d;
	(void)text;
	(void)len;
	md_reply_error(cl, ENOSYS, "forks are not there yet");
}

int md_fork_vm(struct daemon *d, struct mvm *tmpl, const char *name, bool start, uint64_t mem_limit,
	       char *why, size_t why_size)
{
	(void)d;
	(void)tmpl;
	(void)name;
	(void)start;
	(void)mem_limit;
	snprintf(why, why_size, "forks are not there yet");
	return -ENOSYS;
}
