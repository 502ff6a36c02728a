/* SPDX-License-Identifier: BSD-2-Clause */
/* Network bring-up at boot; see net_up.c. */
#ifndef VIREO_INIT_NET_UP_H
#define VIREO_INIT_NET_UP_H

/* lo up; if the VM has a network card (eth0): up, an address by DHCP, one line on the
 * console. Waits at most a few seconds; never fails the boot. */
void net_up(void);

#endif
