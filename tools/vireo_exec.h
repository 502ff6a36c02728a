/* SPDX-License-Identifier: BSD-2-Clause */
/* `vireo exec`: a program in a fresh VM, as a subprocess (tools/vireo_exec.c). */
#ifndef VIREO_TOOLS_VIREO_EXEC_H
#define VIREO_TOOLS_VIREO_EXEC_H

/* argv[0] is "exec"; returns the exit status. */
int vireo_exec_main(int argc, char **argv);

#endif
