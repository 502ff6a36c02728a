/* SPDX-License-Identifier: BSD-2-Clause */
/* /chosen/bootargs of the guest's device tree. */
#ifndef GUEST_FDT_CHOSEN_H
#define GUEST_FDT_CHOSEN_H

/* The bootargs string inside the DTB, or NULL when there is none. */
const char *fdt_bootargs(unsigned long dtb);

#endif
