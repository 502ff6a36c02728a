// SPDX-License-Identifier: BSD-2-Clause
#include "guest.h"
const char guest_name[] = "unmapped";
int guest_main(unsigned long h, unsigned long d) { (void)h; (void)d; return 0; }
