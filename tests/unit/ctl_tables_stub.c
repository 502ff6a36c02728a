// SPDX-License-Identifier: BSD-2-Clause
/* The op tables of the control plane's other modules, empty: a test of one module's ops
 * links its own table and these for the rest (core/ctl.c lists them all). */
#include <vireo/ctl.h>

#ifndef CTL_STUB_HAVE_CORE
const struct ctl_op_entry ctl_core_ops[] = {{0, "none", NULL}};
const unsigned ctl_core_op_count = 0;
#endif
#ifndef CTL_STUB_HAVE_LIFECYCLE
const struct ctl_op_entry ctl_lifecycle_ops[] = {{0, "none", NULL}};
const unsigned ctl_lifecycle_op_count = 0;
#endif
#ifndef CTL_STUB_HAVE_SNAPSHOT
const struct ctl_op_entry ctl_snapshot_ops[] = {{0, "none", NULL}};
const unsigned ctl_snapshot_op_count = 0;
#endif
