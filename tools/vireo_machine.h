/* SPDX-License-Identifier: BSD-2-Clause */
/* `vireo machine` and `vireo vm`: a long-lived machine and its VMs (tools/vireo_machine.c). */
#ifndef VIREO_TOOLS_VIREO_MACHINE_H
#define VIREO_TOOLS_VIREO_MACHINE_H

/* argv[0] is "machine" / "vm"; each returns the exit status. */
int vireo_machine_main(int argc, char **argv);
int vireo_vm_main(int argc, char **argv);

#endif
