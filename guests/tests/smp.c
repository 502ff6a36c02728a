// SPDX-License-Identifier: BSD-2-Clause
#include "guest.h"
const char guest_name[] = "smp";
int guest_main(unsigned long h, unsigned long d) { (void)h; (void)d; return 0; }
